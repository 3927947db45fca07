"""Abstract model pieces shared by the domain apps (no tables of their own)."""

from django.db import models, transaction


class ExternalIdMixin(models.Model):
    """Gives a row whose `lid` was left empty an id derived from its primary key, once inserted."""

    LID_PREFIX = ""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.lid:
            return super().save(*args, **kwargs)
        # The insert and the update are one unit; inside a caller's transaction no savepoint is
        # needed for that (the caller's own savepoint, if any, covers both).
        with transaction.atomic(savepoint=False):
            super().save(*args, **kwargs)
            self.lid = f"{self.LID_PREFIX}{self.pk}"
            type(self).objects.filter(pk=self.pk).update(lid=self.lid)
