from django.db import models
from django.db.models import Q

from centers.models import Center


class ResultStatus(models.TextChoices):
    VALID = "VALID", "Valid"
    WITHDRAWN = "WITHDRAWN", "Withdrawn"


def result_upload_to(instance: "MedicalResult", filename: str) -> str:
    # One folder per result keeps file names as the lab gave them without collisions.
    return f"results/{instance.lid}/{filename}"


class MedicalResult(models.Model):
    """A patient's medical result (a report, an image) that tuOtempO may deliver."""

    lid = models.CharField("DOWNLOAD_LID", max_length=50, unique=True)
    code = models.CharField("DOWNLOAD_CODE", max_length=50)
    filename = models.CharField("DOWNLOAD_FILENAME", max_length=255)
    file_type = models.CharField("DOWNLOAD_TYPE", max_length=10, help_text="File extension, e.g. pdf.")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="results")
    center = models.ForeignKey(Center, null=True, blank=True, on_delete=models.PROTECT, related_name="results")
    status = models.CharField(max_length=10, choices=ResultStatus.choices, default=ResultStatus.VALID)
    file = models.FileField(upload_to=result_upload_to, max_length=400)
    size = models.PositiveBigIntegerField(default=0, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["patient", "created"], name="result_patient_created")]
        constraints = [models.CheckConstraint(condition=Q(status__in=ResultStatus.values), name="result_status_valid")]

    def __str__(self) -> str:
        return f"{self.lid} ({self.filename})"
