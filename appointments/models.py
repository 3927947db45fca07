"""The hospital's scheduling data: who offers what, when, to whom, and what has been booked.

Invariants live in the database: unique external ids, ends after starts, valid weekdays, and
no two active appointments of one resource overlapping (an exclusion constraint on PostgreSQL,
triggers on SQLite; see migration 0002 and docs/data-model.md).
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from centers.models import Center, Location
from core.models import GUIDE_NAME_LENGTH, ExternalIdMixin


class Resource(models.Model):
    """A doctor (or any bookable resource) working at one location."""

    lid = models.CharField(_("doctor no."), max_length=50, unique=True, help_text=_("RESOURCE_LID in tuOtempO."))
    first_name = models.CharField(_("first name"), max_length=50)
    second_name = models.CharField(_("surname"), max_length=50, blank=True)
    mobile_phone = models.CharField(_("mobile phone"), max_length=50, blank=True)
    email = models.EmailField(_("e-mail"), max_length=100, blank=True)
    location = models.ForeignKey(
        Location, verbose_name=_("location"), on_delete=models.PROTECT, related_name="resources"
    )
    web_enabled = models.BooleanField(_("bookable online"), default=True)
    availabilities_step = models.PositiveSmallIntegerField(
        _("minutes between start times"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(720)],
        help_text=_(
            "Minutes between two offered start times; empty: the activity's duration. AVAILABILITIES_STEP in tuOtempO."
        ),
    )
    activities = models.ManyToManyField("Activity", through="ResourceActivity", related_name="resources")
    insurances = models.ManyToManyField("Insurance", through="InsuranceResource", related_name="resources")

    class Meta:
        ordering = ["lid"]
        verbose_name = _("doctor")
        verbose_name_plural = _("doctors")
        constraints = [
            models.CheckConstraint(
                condition=Q(availabilities_step__isnull=True) | Q(availabilities_step__gte=1),
                name="resource_step_positive",
            )
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.second_name} ({self.lid})".replace("  ", " ")


class ActivityGroup(models.Model):
    lid = models.CharField(_("group code"), max_length=50, unique=True, help_text=_("ACTIVITY_GROUP_LID in tuOtempO."))
    name = models.CharField(_("name"), max_length=100, validators=[GUIDE_NAME_LENGTH])

    class Meta:
        ordering = ["lid"]
        verbose_name = _("activity group")
        verbose_name_plural = _("activity groups")

    def __str__(self) -> str:
        return f"{self.name} ({self.lid})"


class Activity(models.Model):
    """A bookable service (a visit, a test) with its default duration and price."""

    lid = models.CharField(_("activity code"), max_length=50, unique=True, help_text=_("ACTIVITY_LID in tuOtempO."))
    name = models.CharField(_("name"), max_length=100, validators=[GUIDE_NAME_LENGTH])
    group = models.ForeignKey(
        ActivityGroup,
        verbose_name=_("group"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    duration = models.PositiveSmallIntegerField(
        _("duration (minutes)"), default=15, validators=[MinValueValidator(1), MaxValueValidator(720)]
    )
    price = models.DecimalField(_("price"), max_digits=10, decimal_places=2, null=True, blank=True)
    web_enabled = models.BooleanField(_("bookable online"), default=True)

    class Meta:
        ordering = ["lid"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        constraints = [models.CheckConstraint(condition=Q(duration__gte=1), name="activity_duration_positive")]

    def __str__(self) -> str:
        return f"{self.name} ({self.lid})"


class Insurance(models.Model):
    lid = models.CharField(_("insurance code"), max_length=50, unique=True, help_text=_("INSURANCE_LID in tuOtempO."))
    name = models.CharField(_("name"), max_length=100, validators=[GUIDE_NAME_LENGTH])
    web_enabled = models.BooleanField(_("bookable online"), default=True)
    activities = models.ManyToManyField(Activity, through="InsuranceActivity", related_name="insurances")

    class Meta:
        ordering = ["lid"]
        verbose_name = _("insurance")
        verbose_name_plural = _("insurances")

    def __str__(self) -> str:
        return f"{self.name} ({self.lid})"


class ResourceActivity(models.Model):
    """A resource offers an activity, optionally with its own duration and price."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="resource_activities")
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="resource_activities")
    duration = models.PositiveSmallIntegerField(
        "duration (minutes)", null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(720)]
    )
    price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("activity of a doctor")
        verbose_name_plural = _("activities of doctors")
        constraints = [
            models.UniqueConstraint(fields=["resource", "activity"], name="resource_activity_unique"),
            models.CheckConstraint(
                condition=Q(duration__isnull=True) | Q(duration__gte=1), name="resource_activity_duration_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resource.lid} / {self.activity.lid}"


class InsuranceActivity(models.Model):
    """An insurance covers an activity, optionally at its own price."""

    insurance = models.ForeignKey(Insurance, on_delete=models.CASCADE, related_name="insurance_activities")
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="insurance_activities")
    price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("activity covered by an insurance")
        verbose_name_plural = _("activities covered by insurances")
        constraints = [models.UniqueConstraint(fields=["insurance", "activity"], name="insurance_activity_unique")]

    def __str__(self) -> str:
        return f"{self.insurance.lid} / {self.activity.lid}"


class InsuranceResource(models.Model):
    """A resource accepts patients of an insurance."""

    insurance = models.ForeignKey(Insurance, on_delete=models.CASCADE, related_name="insurance_resources")
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="insurance_resources")

    class Meta:
        verbose_name = _("insurance accepted by a doctor")
        verbose_name_plural = _("insurances accepted by doctors")
        constraints = [models.UniqueConstraint(fields=["insurance", "resource"], name="insurance_resource_unique")]

    def __str__(self) -> str:
        return f"{self.insurance.lid} / {self.resource.lid}"


class Weekday(models.IntegerChoices):
    """The guide's numbering: 0 = Sunday ... 6 = Saturday."""

    SUNDAY = 0, _("Sunday")
    MONDAY = 1, _("Monday")
    TUESDAY = 2, _("Tuesday")
    WEDNESDAY = 3, _("Wednesday")
    THURSDAY = 4, _("Thursday")
    FRIDAY = 5, _("Friday")
    SATURDAY = 6, _("Saturday")


class AvailabilityRule(models.Model):
    """A weekly opening of a resource: on a weekday, between two wall-clock times of its center."""

    lid = models.CharField(_("opening no."), max_length=50, unique=True, help_text=_("AVAILABILITY_LID in tuOtempO."))
    resource = models.ForeignKey(
        Resource, verbose_name=_("doctor"), on_delete=models.CASCADE, related_name="availability_rules"
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start_time = models.TimeField(_("from"), help_text=_("Wall-clock time of the doctor's center."))
    end_time = models.TimeField(_("until"), help_text=_("Wall-clock time of the doctor's center."))
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid until"), null=True, blank=True)
    activities = models.ManyToManyField(
        Activity,
        verbose_name=_("activities"),
        blank=True,
        related_name="availability_rules",
        help_text=_("Leave empty to offer every activity of the doctor in this opening."),
    )

    class Meta:
        ordering = ["resource__lid", "weekday", "start_time"]
        verbose_name = _("weekly opening")
        verbose_name_plural = _("weekly openings")
        indexes = [models.Index(fields=["resource", "weekday"], name="rule_resource_weekday")]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="rule_weekday_valid"),
            models.CheckConstraint(condition=Q(end_time__gt=F("start_time")), name="rule_end_after_start"),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="rule_valid_to_after_from",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lid}: {self.get_weekday_display()} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class Absence(models.Model):
    """A period in which a resource, or a whole center, takes no appointments (leave, holidays)."""

    resource = models.ForeignKey(
        Resource, verbose_name=_("doctor"), null=True, blank=True, on_delete=models.CASCADE, related_name="absences"
    )
    center = models.ForeignKey(
        Center,
        verbose_name=_("whole center"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="absences",
        help_text=_("A holiday closing every doctor of the center."),
    )
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        ordering = ["start"]
        verbose_name = _("absence or holiday")
        verbose_name_plural = _("absences and holidays")
        indexes = [
            models.Index(fields=["resource", "start"], name="absence_resource_start"),
            models.Index(fields=["center", "start"], name="absence_center_start"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="absence_end_after_start"),
            models.CheckConstraint(
                condition=Q(resource__isnull=False, center__isnull=True)
                | Q(resource__isnull=True, center__isnull=False),
                name="absence_of_resource_xor_center",
            ),
        ]

    @property
    def zone(self):
        """The time zone of the center concerned (the doctor's, or the closed center's)."""
        return (self.center or self.resource.location.center).zone

    def __str__(self) -> str:
        # On the center's wall clock, as the clerk typed it.
        who, zone = self.resource or self.center, self.zone
        start, end = self.start.astimezone(zone), self.end.astimezone(zone)
        return f"{who}: {start:%d/%m/%Y %H:%M} - {end:%d/%m/%Y %H:%M}"


class AppointmentStatus(models.TextChoices):
    # Named as the patient is told (tuOtempO's STATUS is Confirmed for both active ones).
    PENDING = "PENDING", _("Confirmed (awaiting approval)")
    APPROVED = "APPROVED", _("Confirmed")
    CANCELLED_BY_USER = "CANCELLED_BY_USER", _("Cancelled by the patient")
    CANCELLED_BY_ADMIN = "CANCELLED_BY_ADMIN", _("Cancelled by the hospital")


ACTIVE_STATUSES = (AppointmentStatus.PENDING, AppointmentStatus.APPROVED)
CANCELLED_STATUSES = (AppointmentStatus.CANCELLED_BY_USER, AppointmentStatus.CANCELLED_BY_ADMIN)


class Origin(models.TextChoices):
    ONLINE = "ONLINE", _("Online")
    DESK = "DESK", _("At the desk")
    PHONE = "PHONE", _("By phone")


class Appointment(ExternalIdMixin):
    """A booked (or cancelled) appointment; cancelled ones are kept, never deleted."""

    LID_PREFIX = "A"

    lid = models.CharField(
        _("appointment no."),
        max_length=50,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Empty: the server gives one. APP_LID in tuOtempO."),
    )
    tid = models.CharField(_("appointment no. in tuOtempO"), max_length=50, blank=True, help_text=_("APP_TID."))
    resource = models.ForeignKey(
        Resource, verbose_name=_("doctor"), on_delete=models.PROTECT, related_name="appointments"
    )
    activity = models.ForeignKey(
        Activity, verbose_name=_("activity"), on_delete=models.PROTECT, related_name="appointments"
    )
    insurance = models.ForeignKey(
        Insurance,
        verbose_name=_("insurance"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appointments",
    )
    location = models.ForeignKey(
        Location,
        verbose_name=_("location"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appointments",
    )
    patient = models.ForeignKey(
        "patients.Patient", verbose_name=_("patient"), on_delete=models.PROTECT, related_name="appointments"
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    status = models.CharField(
        _("status"), max_length=20, choices=AppointmentStatus.choices, default=AppointmentStatus.APPROVED
    )
    origin = models.CharField(_("booked"), max_length=10, choices=Origin.choices, default=Origin.DESK)
    owner_lid = models.CharField(_("booked by (patient no.)"), max_length=50, blank=True, help_text="APP_OWNER_LID.")
    owner_tid = models.CharField(
        _("booked by (tuOtempO's patient no.)"), max_length=50, blank=True, help_text="APP_OWNER_TID."
    )
    owner_name = models.CharField(_("booked by (name)"), max_length=100, blank=True, help_text="APP_OWNER_NAME.")
    notes = models.TextField(_("notes"), max_length=500, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    modified = models.DateTimeField(_("modified"), auto_now=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    patient_confirmed_at = models.DateTimeField(
        _("confirmed by the patient at"),
        null=True,
        blank=True,
        help_text=_("When the patient confirmed it, replying to a reminder (file exchange)."),
    )

    class Meta:
        ordering = ["start", "resource__lid"]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        indexes = [
            models.Index(fields=["resource", "start"], name="appointment_resource_start"),
            models.Index(fields=["patient", "start"], name="appointment_patient_start"),
            models.Index(fields=["modified"], name="appointment_modified"),
            models.Index(fields=["start"], name="appointment_start"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="appointment_end_after_start"),
            models.CheckConstraint(condition=Q(status__in=AppointmentStatus.values), name="appointment_status_valid"),
            models.CheckConstraint(condition=Q(origin__in=Origin.values), name="appointment_origin_valid"),
        ]

    def __str__(self) -> str:
        # Titles and messages: on the wall clock of the doctor's center, with no database id.
        start = self.start.astimezone(self.resource.location.center.zone)
        return f"{self.lid} · {start:%d/%m/%Y %H:%M} · {self.resource.lid}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES
