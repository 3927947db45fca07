"""Abstract model pieces shared by the domain apps (no tables of their own)."""

import re
import secrets

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import IntegrityError, models, transaction

# The guide's names are nvarchar(50): the columns keep room, but nothing longer is accepted from a person.
GUIDE_NAME_LENGTH = MaxLengthValidator(50)
MSG_SERVER_ID = "Ids of the form {example} are given by the hospital's system: leave the id empty, or type another."


class ExternalIdMixin(models.Model):
    """Gives a row whose `lid` was left empty an id made by the server: the prefix and its primary key
    ("A1234"). An id typed by hand may not have that form, and if one does anyway (typed in before this
    rule, or written by a script), the server's id gets a suffix instead of failing."""

    LID_PREFIX = ""

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        if self._state.adding and self.lid and re.fullmatch(rf"{re.escape(self.LID_PREFIX)}\d+", self.lid):
            raise ValidationError({"lid": MSG_SERVER_ID.format(example=f"{self.LID_PREFIX}123")})

    def save(self, *args, **kwargs):
        if self.lid:
            return super().save(*args, **kwargs)
        # The insert and the update are one unit; inside a caller's transaction no savepoint is
        # needed for that (the caller's own savepoint, if any, covers both).
        with transaction.atomic(savepoint=False):
            super().save(*args, **kwargs)
            lid = f"{self.LID_PREFIX}{self.pk}"
            for _ in range(5):
                try:
                    with transaction.atomic():
                        type(self).objects.filter(pk=self.pk).update(lid=lid)
                    break
                except IntegrityError:
                    lid = f"{self.LID_PREFIX}{self.pk}-{secrets.token_hex(3)}"  # that id was typed by hand
            self.lid = lid
