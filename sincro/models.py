"""Sincro's tables: the guide's support tables (written by tuOtempO's agent, applied by the worker) and
what the TT_* views are built on besides the domain's own tables.

Table and column names are the guide's, in lower case and unquoted, so that the agent's SQL works as
the guide writes it on PostgreSQL (which folds unquoted names to lower case) and on SQLite (which
ignores their case). The "do not use" system ids and INSERT_TIME have database defaults: the agent
may leave them out of its INSERTs. A row whose STATUS_TRIGGER is empty is still to be applied.
"""

from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from appointments.models import Activity, AvailabilityRule, Resource
from clients.models import IntegrationClient

PENDING, OK, ERROR = "pending", "OK", "ERROR"


def text(name: str, length: int = 50, *, null: bool = True) -> models.CharField:
    return models.CharField(name.upper(), max_length=length, null=null, blank=null, db_column=name)


class SupportRow(models.Model):
    """What every support table has: the trigger's outcome and when the row was written."""

    status_trigger = models.TextField("STATUS_TRIGGER", null=True, blank=True, db_column="status_trigger")
    insert_time = models.DateTimeField("INSERT_TIME", db_default=Now(), db_column="insert_time", db_index=True)

    class Meta:
        abstract = True

    @property
    def outcome(self) -> str:
        if not self.status_trigger:
            return PENDING
        return OK if self.status_trigger == OK else ERROR


class ReservationRow(SupportRow):
    """TT_RESERVATIONS_TMP (guide B.1): a booking, move or cancellation made online."""

    app_tmp_id = models.BigAutoField("APP_TMP_ID", primary_key=True, db_column="app_tmp_id")
    app_lid = text("app_lid")
    app_tid = text("app_tid", null=False)
    app_action = models.CharField("APP_ACTION", max_length=10, db_column="app_action")
    app_date = models.CharField("APP_DATE", max_length=10, db_column="app_date")
    app_start_time = models.CharField("APP_START_TIME", max_length=5, db_column="app_start_time")
    app_end_time = text("app_end_time", 5)
    user_lid = text("user_lid")
    user_tid = text("user_tid")
    user_first_name = text("user_first_name")
    user_second_name = text("user_second_name")
    user_third_name = text("user_third_name")
    user_id_number = text("user_id_number")
    user_landline_phone = text("user_landline_phone")
    user_mobile_phone = text("user_mobile_phone")
    user_email = text("user_email")
    user_date_of_birth = text("user_date_of_birth", 10)
    user_gender = text("user_gender", 10)
    user_zip_code = text("user_zip_code", 10)
    user_work_phone = text("user_work_phone")
    user_notes = text("user_notes", 500)
    user_language = text("user_language", 10)
    resource_lid = models.CharField("RESOURCE_LID", max_length=50, db_column="resource_lid")
    activity_lid = text("activity_lid")
    insurance_lid = text("insurance_lid")
    location_lid = text("location_lid")
    status = text("status")
    notes = text("notes", 500)
    app_owner_lid = text("app_owner_lid")
    app_owner_tid = text("app_owner_tid")
    app_owner_name = text("app_owner_name")
    app_custom_0 = text("app_custom_0", 500)
    app_custom_1 = text("app_custom_1", 500)
    app_custom_2 = text("app_custom_2", 500)
    app_custom_3 = text("app_custom_3", 500)
    app_custom_4 = text("app_custom_4", 500)

    class Meta:
        db_table = "tt_reservations_tmp"
        verbose_name = _("TT_RESERVATIONS_TMP row")
        verbose_name_plural = _("TT_RESERVATIONS_TMP rows")
        ordering = ["-app_tmp_id"]
        indexes = [
            models.Index(
                fields=["app_tmp_id"], name="tt_reservations_tmp_pending", condition=models.Q(status_trigger=None)
            )
        ]

    def __str__(self) -> str:
        return f"{self.app_tmp_id}: {self.app_action} {self.app_lid or ''}".strip()


class CancellationRow(SupportRow):
    """TT_DELETE_RESERVATION (guide A.2.3): an appointment the patient cancelled replying to a reminder."""

    app_tmp_id = models.BigAutoField("APP_TMP_ID", primary_key=True, db_column="app_tmp_id")
    app_lid = text("app_lid")
    user_landline_phone = text("user_landline_phone")
    user_mobile_phone = text("user_mobile_phone")
    user_email = text("user_email")
    app_status = models.TextField("APP_STATUS", null=True, blank=True, db_column="app_status")

    class Meta:
        db_table = "tt_delete_reservation"
        verbose_name = _("TT_DELETE_RESERVATION row")
        verbose_name_plural = _("TT_DELETE_RESERVATION rows")
        ordering = ["-app_tmp_id"]
        indexes = [
            models.Index(
                fields=["app_tmp_id"], name="tt_delete_reservation_pending", condition=models.Q(status_trigger=None)
            )
        ]

    def __str__(self) -> str:
        return f"{self.app_tmp_id}: {self.app_lid}"


class DownloadRow(SupportRow):
    """TT_DOWNLOADS_TMP (guide C.1): a patient asked for a result (UPDATE), or it was delivered (EMPTY)."""

    download_tmp_id = models.BigAutoField("DOWNLOAD_TMP_ID", primary_key=True, db_column="download_tmp_id")
    download_lid = models.CharField("DOWNLOAD_LID", max_length=50, db_column="download_lid")
    download_tid = models.CharField("DOWNLOAD_TID", max_length=50, db_column="download_tid")
    download_action = models.CharField("DOWNLOAD_ACTION", max_length=10, db_column="download_action")
    req_date = models.CharField("REQ_DATE", max_length=10, db_column="req_date")
    req_time = models.CharField("REQ_TIME", max_length=5, db_column="req_time")
    user_lid = models.CharField("USER_LID", max_length=50, db_column="user_lid")
    user_tid = text("user_tid")
    status = text("status")
    download_custom_0 = text("download_custom_0", 500)
    download_custom_1 = text("download_custom_1", 500)
    download_custom_2 = text("download_custom_2", 500)
    download_custom_3 = text("download_custom_3", 500)
    download_custom_4 = text("download_custom_4", 500)

    class Meta:
        db_table = "tt_downloads_tmp"
        verbose_name = _("TT_DOWNLOADS_TMP row")
        verbose_name_plural = _("TT_DOWNLOADS_TMP rows")
        ordering = ["-download_tmp_id"]
        indexes = [
            models.Index(
                fields=["download_tmp_id"], name="tt_downloads_tmp_pending", condition=models.Q(status_trigger=None)
            )
        ]

    def __str__(self) -> str:
        return f"{self.download_tmp_id}: {self.download_action} {self.download_lid}"


class DownloadFile(models.Model):
    """TT_DOWNLOADS_FILES (guide C.1): a requested result's content, until tuOtempO has it (EMPTY)."""

    download_lid = models.CharField("DOWNLOAD_LID", max_length=50, primary_key=True, db_column="download_lid")
    file_name = models.CharField("FILE_NAME", max_length=200, db_column="file_name")
    file_path = text("file_path", 200)
    file_content = models.BinaryField("FILE_CONTENT", null=True, blank=True, db_column="file_content")
    file_type = text("file_type", 10)
    status = text("status")
    status_trigger = models.TextField("STATUS_TRIGGER", null=True, blank=True, db_column="status_trigger")
    requested = models.DateTimeField("REQUESTED", db_default=Now(), db_column="requested")
    created = models.DateTimeField("CREATED", db_default=Now(), db_column="created")
    modified = models.DateTimeField("MODIFIED", db_default=Now(), db_column="modified")

    class Meta:
        db_table = "tt_downloads_files"
        verbose_name = _("TT_DOWNLOADS_FILES row")
        verbose_name_plural = _("TT_DOWNLOADS_FILES rows")

    def __str__(self) -> str:
        return self.download_lid


class Agent(models.Model):
    """The integration client whose rows the worker applies (HIS_SINCRO_CLIENT), written by the worker
    when it starts: the views show its centers only, and its own patient ids (USER_TID)."""

    client = models.ForeignKey(IntegrationClient, on_delete=models.CASCADE, related_name="+")
    time_zone = models.CharField(max_length=64, help_text="The hospital's (HIS_TIME_ZONE): for results of no center.")
    days_ahead = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="HIS_SINCRO_DAYS_AHEAD: TT_RESERVATIONS ends this many days ahead; empty: never.",
    )

    class Meta:
        db_table = "sincro_agent"


class WorkerBeat(models.Model):
    """The last sign of life of each running worker (read by GET /health/ready)."""

    name = models.CharField(max_length=200, primary_key=True, help_text="host:pid")
    beat = models.DateTimeField()
    applied = models.PositiveBigIntegerField(default=0)

    class Meta:
        db_table = "sincro_workerbeat"


class ZoneOffset(models.Model):
    """A period in which a time zone keeps one offset from UTC (SQLite has no time-zone functions: its
    views turn UTC instants into each center's wall clock with these)."""

    zone = models.CharField(max_length=64)
    since = models.DateTimeField()
    until = models.DateTimeField()
    minutes = models.IntegerField()

    class Meta:
        db_table = "sincro_zoneoffset"
        indexes = [models.Index(fields=["zone", "since"], name="sincro_zone_since")]


class Interval(models.Model):
    """One row of TT_AVAILABILITIES: a weekly availability rule between two dates, or the part of one day
    that an absence or a holiday leaves open. Rebuilt from the rules and absences whenever they change."""

    lid = models.CharField(max_length=50, unique=True)
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey(AvailabilityRule, on_delete=models.CASCADE, related_name="+")
    weekday = models.PositiveSmallIntegerField()
    start_time = models.TimeField()
    end_time = models.TimeField()
    start_day = models.DateField(null=True)
    end_day = models.DateField(null=True)
    activities = models.ManyToManyField(Activity, related_name="+", db_table="sincro_interval_activities")

    class Meta:
        db_table = "sincro_interval"
        indexes = [models.Index(fields=["end_day"], name="sincro_interval_end_day")]
