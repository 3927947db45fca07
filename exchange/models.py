"""The exchange log: one record per run of an exchange command, and one per row of an imported file.

Ids only: never patient names or contact data, never a password (destinations are kept without it).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RunOutcome(models.TextChoices):
    RUNNING = "RUNNING", _("Running (or stopped before it could record its end)")
    OK = "OK", _("OK")
    PARTIAL = "PARTIAL", _("Partly done: some rows or files refused")
    FAILED = "FAILED", _("Failed")


class ExchangeRun(models.Model):
    """One run of export_appointments, import_cancellations, export_catalog or export_campaign."""

    command = models.CharField(_("command"), max_length=40, db_index=True)
    destination = models.CharField(_("destination"), max_length=500, help_text=_("The URL without its password."))
    options = models.CharField(_("options"), max_length=200, blank=True, help_text=_("Window, center, channel."))
    started = models.DateTimeField(_("started"), db_index=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=RunOutcome.choices, default=RunOutcome.RUNNING, db_index=True
    )
    rows = models.PositiveIntegerField(_("rows"), default=0, help_text=_("Rows written (exports) or read (imports)."))
    errors = models.PositiveIntegerField(_("errors"), default=0, help_text=_("Rows or files refused."))
    files = models.TextField(_("files"), blank=True, help_text=_("Files written, read or moved, one per line."))
    message = models.TextField(_("message"), blank=True, help_text=_("The one-line reason of a failure, or a summary."))

    class Meta:
        ordering = ["-started", "-pk"]
        verbose_name = _("exchange run")
        verbose_name_plural = _("exchange runs")
        constraints = [
            models.CheckConstraint(condition=models.Q(outcome__in=RunOutcome.values), name="exchange_run_outcome_valid")
        ]

    def __str__(self) -> str:
        return f"{self.started:%d/%m/%Y %H:%M:%S} {self.command} {self.outcome}"


class RowOutcome(models.TextChoices):
    APPLIED = "APPLIED", _("Applied")
    UNCHANGED = "UNCHANGED", _("Already in effect: nothing changed")
    IGNORED = "IGNORED", _("Nothing to do")
    REFUSED = "REFUSED", _("Refused")


class ExchangeRow(models.Model):
    """What one row of an imported file did."""

    run = models.ForeignKey(ExchangeRun, verbose_name=_("run"), on_delete=models.CASCADE, related_name="row_outcomes")
    file_name = models.CharField(_("file name"), max_length=255)
    line = models.PositiveIntegerField(_("line"), help_text=_("Line of the file (the header is line 1)."))
    app_lid = models.CharField("APP_LID", max_length=50, blank=True, db_index=True)
    resource_lid = models.CharField("RESOURCE_LID", max_length=50, blank=True)
    status = models.CharField("STATUS", max_length=50, blank=True, help_text=_("As sent."))
    outcome = models.CharField(_("outcome"), max_length=10, choices=RowOutcome.choices)
    message = models.CharField(_("message"), max_length=500, blank=True)

    class Meta:
        ordering = ["run", "file_name", "line"]
        verbose_name = _("imported row")
        verbose_name_plural = _("imported rows")
        constraints = [
            models.CheckConstraint(condition=models.Q(outcome__in=RowOutcome.values), name="exchange_row_outcome_valid")
        ]

    def __str__(self) -> str:
        return f"{self.file_name}:{self.line} {self.app_lid} {self.outcome}"
