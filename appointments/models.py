"""The hospital's scheduling data: who offers what, when, to whom, and what has been booked.

Invariants live in the database: unique external ids, ends after starts, valid weekdays, and
no two active appointments of one resource overlapping (an exclusion constraint on PostgreSQL,
triggers on SQLite; see migration 0002 and docs/data-model.md).
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from centers.models import Center, Location
from core.models import GUIDE_NAME_LENGTH, ExternalIdMixin


class Resource(models.Model):
    """A doctor (or any bookable resource) working at one location."""

    lid = models.CharField("RESOURCE_LID", max_length=50, unique=True)
    first_name = models.CharField(max_length=50)
    second_name = models.CharField(max_length=50, blank=True)
    mobile_phone = models.CharField(max_length=50, blank=True)
    email = models.EmailField(max_length=100, blank=True)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="resources")
    web_enabled = models.BooleanField(default=True)
    availabilities_step = models.PositiveSmallIntegerField(
        "AVAILABILITIES_STEP",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(720)],
        help_text="Minutes between two offered start times; empty: the activity's duration.",
    )
    activities = models.ManyToManyField("Activity", through="ResourceActivity", related_name="resources")
    insurances = models.ManyToManyField("Insurance", through="InsuranceResource", related_name="resources")

    class Meta:
        ordering = ["lid"]
        constraints = [
            models.CheckConstraint(
                condition=Q(availabilities_step__isnull=True) | Q(availabilities_step__gte=1),
                name="resource_step_positive",
            )
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.second_name} ({self.lid})".replace("  ", " ")


class ActivityGroup(models.Model):
    lid = models.CharField("ACTIVITY_GROUP_LID", max_length=50, unique=True)
    name = models.CharField(max_length=100, validators=[GUIDE_NAME_LENGTH])

    class Meta:
        ordering = ["lid"]

    def __str__(self) -> str:
        return f"{self.name} ({self.lid})"


class Activity(models.Model):
    """A bookable service (a visit, a test) with its default duration and price."""

    lid = models.CharField("ACTIVITY_LID", max_length=50, unique=True)
    name = models.CharField(max_length=100, validators=[GUIDE_NAME_LENGTH])
    group = models.ForeignKey(
        ActivityGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )
    duration = models.PositiveSmallIntegerField(
        "duration (minutes)", default=15, validators=[MinValueValidator(1), MaxValueValidator(720)]
    )
    price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    web_enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["lid"]
        verbose_name_plural = "activities"
        constraints = [models.CheckConstraint(condition=Q(duration__gte=1), name="activity_duration_positive")]

    def __str__(self) -> str:
        return f"{self.name} ({self.lid})"


class Insurance(models.Model):
    lid = models.CharField("INSURANCE_LID", max_length=50, unique=True)
    name = models.CharField(max_length=100, validators=[GUIDE_NAME_LENGTH])
    web_enabled = models.BooleanField(default=True)
    activities = models.ManyToManyField(Activity, through="InsuranceActivity", related_name="insurances")

    class Meta:
        ordering = ["lid"]

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
        verbose_name = "resource activity"
        verbose_name_plural = "resource activities"
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
        verbose_name = "insurance activity"
        verbose_name_plural = "insurance activities"
        constraints = [models.UniqueConstraint(fields=["insurance", "activity"], name="insurance_activity_unique")]

    def __str__(self) -> str:
        return f"{self.insurance.lid} / {self.activity.lid}"


class InsuranceResource(models.Model):
    """A resource accepts patients of an insurance."""

    insurance = models.ForeignKey(Insurance, on_delete=models.CASCADE, related_name="insurance_resources")
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="insurance_resources")

    class Meta:
        verbose_name = "insurance resource"
        constraints = [models.UniqueConstraint(fields=["insurance", "resource"], name="insurance_resource_unique")]

    def __str__(self) -> str:
        return f"{self.insurance.lid} / {self.resource.lid}"


class Weekday(models.IntegerChoices):
    """The guide's numbering: 0 = Sunday ... 6 = Saturday."""

    SUNDAY = 0
    MONDAY = 1
    TUESDAY = 2
    WEDNESDAY = 3
    THURSDAY = 4
    FRIDAY = 5
    SATURDAY = 6


class AvailabilityRule(models.Model):
    """A weekly opening of a resource: on a weekday, between two wall-clock times of its center."""

    lid = models.CharField("AVAILABILITY_LID", max_length=50, unique=True)
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="availability_rules")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField(help_text="Wall-clock time in the center's time zone.")
    end_time = models.TimeField(help_text="Wall-clock time in the center's time zone.")
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    activities = models.ManyToManyField(
        Activity,
        blank=True,
        related_name="availability_rules",
        help_text="Leave empty to offer every activity of the resource in this rule.",
    )

    class Meta:
        ordering = ["resource__lid", "weekday", "start_time"]
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

    resource = models.ForeignKey(Resource, null=True, blank=True, on_delete=models.CASCADE, related_name="absences")
    center = models.ForeignKey(Center, null=True, blank=True, on_delete=models.CASCADE, related_name="absences")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["start"]
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

    def __str__(self) -> str:
        who = self.resource or self.center
        return f"{who}: {self.start:%d/%m/%Y %H:%M} - {self.end:%d/%m/%Y %H:%M}"


class AppointmentStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    APPROVED = "APPROVED", "Approved"
    CANCELLED_BY_USER = "CANCELLED_BY_USER", "Cancelled by user"
    CANCELLED_BY_ADMIN = "CANCELLED_BY_ADMIN", "Cancelled by admin"


ACTIVE_STATUSES = (AppointmentStatus.PENDING, AppointmentStatus.APPROVED)
CANCELLED_STATUSES = (AppointmentStatus.CANCELLED_BY_USER, AppointmentStatus.CANCELLED_BY_ADMIN)


class Origin(models.TextChoices):
    ONLINE = "ONLINE", "Online"
    DESK = "DESK", "Desk"
    PHONE = "PHONE", "Phone"


class Appointment(ExternalIdMixin):
    """A booked (or cancelled) appointment; cancelled ones are kept, never deleted."""

    LID_PREFIX = "A"

    lid = models.CharField("APP_LID", max_length=50, unique=True, null=True, blank=True)
    tid = models.CharField("APP_TID", max_length=50, blank=True)
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="appointments")
    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="appointments")
    insurance = models.ForeignKey(
        Insurance, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="appointments")
    start = models.DateTimeField()
    end = models.DateTimeField()
    status = models.CharField(max_length=20, choices=AppointmentStatus.choices, default=AppointmentStatus.APPROVED)
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.DESK)
    owner_lid = models.CharField("APP_OWNER_LID", max_length=50, blank=True)
    owner_tid = models.CharField("APP_OWNER_TID", max_length=50, blank=True)
    owner_name = models.CharField("APP_OWNER_NAME", max_length=100, blank=True)
    notes = models.TextField(max_length=500, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    patient_confirmed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the patient confirmed it, replying to a reminder (file exchange)."
    )

    class Meta:
        ordering = ["start", "resource__lid"]
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
        return f"{self.lid}: {self.resource_id} {self.start:%d/%m/%Y %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class CatalogueVersion(models.Model):
    """One row whose `version` changes, in the same transaction, with every change to what is offered:
    centers, locations, doctors, activities and their groups, insurances, prices and relations, rules,
    absences and holidays. Database triggers make the change (migration 0007), so writes that bypass
    the ORM's save() (queryset.update(), bulk_create, raw SQL, file imports) move it too. A value is
    never given twice (a sequence on PostgreSQL, a random 64-bit number on SQLite), even after a
    rollback, so an answer kept under a version can only ever be that version's."""

    version = models.BigIntegerField()

    class Meta:
        verbose_name = "catalogue version"
