"""The exchange log: one record per run of an exchange command, and one per row of an imported file.

Ids only: never patient names or contact data, never a password (destinations are kept without it).
"""

from django.db import models


class RunOutcome(models.TextChoices):
    RUNNING = "RUNNING", "Running (or stopped before it could record its end)"
    OK = "OK", "OK"
    PARTIAL = "PARTIAL", "Partly done: some rows or files refused"
    FAILED = "FAILED", "Failed"


class ExchangeRun(models.Model):
    """One run of export_appointments, import_cancellations, export_catalog or export_campaign."""

    command = models.CharField(max_length=40, db_index=True)
    destination = models.CharField(max_length=500, help_text="The URL without its password.")
    options = models.CharField(max_length=200, blank=True, help_text="Window, center, channel.")
    started = models.DateTimeField(db_index=True)
    duration_ms = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=10, choices=RunOutcome.choices, default=RunOutcome.RUNNING, db_index=True)
    rows = models.PositiveIntegerField(default=0, help_text="Rows written (exports) or read (imports).")
    errors = models.PositiveIntegerField(default=0, help_text="Rows or files refused.")
    files = models.TextField(blank=True, help_text="Files written, read or moved, one per line.")
    message = models.TextField(blank=True, help_text="The one-line reason of a failure, or a summary.")

    class Meta:
        ordering = ["-started", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(outcome__in=RunOutcome.values), name="exchange_run_outcome_valid")
        ]

    def __str__(self) -> str:
        return f"{self.started:%d/%m/%Y %H:%M:%S} {self.command} {self.outcome}"


class RowOutcome(models.TextChoices):
    APPLIED = "APPLIED", "Applied"
    UNCHANGED = "UNCHANGED", "Already in effect: nothing changed"
    IGNORED = "IGNORED", "Nothing to do"
    REFUSED = "REFUSED", "Refused"


class ExchangeRow(models.Model):
    """What one row of an imported file did."""

    run = models.ForeignKey(ExchangeRun, on_delete=models.CASCADE, related_name="row_outcomes")
    file_name = models.CharField(max_length=255)
    line = models.PositiveIntegerField(help_text="Line of the file (the header is line 1).")
    app_lid = models.CharField("APP_LID", max_length=50, blank=True, db_index=True)
    resource_lid = models.CharField("RESOURCE_LID", max_length=50, blank=True)
    status = models.CharField("STATUS", max_length=50, blank=True, help_text="As sent.")
    outcome = models.CharField(max_length=10, choices=RowOutcome.choices)
    message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["run", "file_name", "line"]
        constraints = [
            models.CheckConstraint(condition=models.Q(outcome__in=RowOutcome.values), name="exchange_row_outcome_valid")
        ]

    def __str__(self) -> str:
        return f"{self.file_name}:{self.line} {self.app_lid} {self.outcome}"
