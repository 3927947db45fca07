from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from centers.models import Center


class ResultStatus(models.TextChoices):
    VALID = "VALID", _("Available to the patient")
    WITHDRAWN = "WITHDRAWN", _("Withdrawn")


def result_upload_to(instance: "MedicalResult", filename: str) -> str:
    # One folder per result keeps file names as the lab gave them without collisions.
    return f"results/{instance.lid}/{filename}"


class MedicalResult(models.Model):
    """A patient's medical result (a report, an image) that tuOtempO may deliver."""

    lid = models.CharField(
        _("result no."),
        max_length=50,
        unique=True,
        help_text=_("Empty: the server gives one. DOWNLOAD_LID in tuOtempO."),
    )
    code = models.CharField(
        _("access code"), max_length=50, help_text=_("The code the patient is given. DOWNLOAD_CODE in tuOtempO.")
    )
    filename = models.CharField(_("file name"), max_length=255, help_text=_("DOWNLOAD_FILENAME in tuOtempO."))
    file_type = models.CharField(
        _("file type"), max_length=10, help_text=_("The file's extension, e.g. pdf. DOWNLOAD_TYPE in tuOtempO.")
    )
    patient = models.ForeignKey(
        "patients.Patient", verbose_name=_("patient"), on_delete=models.PROTECT, related_name="results"
    )
    center = models.ForeignKey(
        Center, verbose_name=_("center"), null=True, blank=True, on_delete=models.PROTECT, related_name="results"
    )
    status = models.CharField(_("status"), max_length=10, choices=ResultStatus.choices, default=ResultStatus.VALID)
    file = models.FileField(_("file"), upload_to=result_upload_to, max_length=400)
    size = models.PositiveBigIntegerField(_("size"), default=0, editable=False)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    modified = models.DateTimeField(_("modified"), auto_now=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("medical result")
        verbose_name_plural = _("medical results")
        indexes = [models.Index(fields=["patient", "created"], name="result_patient_created")]
        constraints = [models.CheckConstraint(condition=Q(status__in=ResultStatus.values), name="result_status_valid")]

    def __str__(self) -> str:
        return f"{self.lid} ({self.filename})"
