"""Reads of the scheduling domain: key entities, the slot a caller names, appointments. The slot search
is in slots.py."""

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from appointments.catalogue import CATALOGUE_ROWS, CENTER_PATHS, cached, catalogue_rows
from appointments.models import (
    ACTIVE_STATUSES,
    Absence,
    Activity,
    Appointment,
    Insurance,
    InsuranceActivity,
    InsuranceResource,
    Resource,
    ResourceActivity,
)
from appointments.slots import parse_slot_lid
from centers.models import Center, Location
from core.errors import INVALID_INPUT, NOT_FOUND, DomainError, Term
from patients.models import Patient
from patients.selectors import patient_family

ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class KeyEntity:
    resource: Resource
    activity: Activity
    insurance: Insurance | None  # None: self-pay
    price: Decimal | None
    duration: int


def offered_pairs(*, centers: Collection[Center] | None):
    """The web-enabled (resource, activity) pairs of web-enabled centers, resource and location loaded."""
    queryset = ResourceActivity.objects.filter(
        resource__web_enabled=True, activity__web_enabled=True, resource__location__center__web_enabled=True
    ).select_related("resource__location__center", "activity__group")
    if centers is not None:
        queryset = queryset.filter(resource__location__center__in=list(centers))
    return queryset.order_by("resource__lid", "activity__lid")


def key_entities(*, centers: Collection[Center] | None) -> list[KeyEntity]:
    """Everything tuOtempO needs to configure booking: each offered (resource, activity) pair once
    as self-pay and once per web-enabled insurance accepted by the resource and covering the
    activity. Price: insurance's, else the resource's, else the activity's. Duration: the
    resource's, else the activity's. Kept per catalogue version (catalogue.py): one query while
    the catalogue is unchanged. The rows and their records are shared between calls: read them only."""
    scope = None if centers is None else tuple(sorted(c.pk for c in centers))
    return list(cached("key_entities", scope, lambda: _key_entities(centers=centers)))


def _key_entities(*, centers: Collection[Center] | None) -> list[KeyEntity]:
    pairs = list(offered_pairs(centers=centers))
    resource_ids = {p.resource_id for p in pairs}
    activity_ids = {p.activity_id for p in pairs}
    insurances_of_resource = defaultdict(set)
    for resource_id, insurance_id in InsuranceResource.objects.filter(
        resource_id__in=resource_ids, insurance__web_enabled=True
    ).values_list("resource_id", "insurance_id"):
        insurances_of_resource[resource_id].add(insurance_id)
    cover = {
        (row.activity_id, row.insurance_id): row
        for row in InsuranceActivity.objects.filter(activity_id__in=activity_ids, insurance__web_enabled=True)
    }
    wanted = {i for ids in insurances_of_resource.values() for i in ids}
    insurances = {i.pk: i for i in Insurance.objects.filter(pk__in=wanted).order_by("lid")}

    rows = []
    for pair in pairs:
        duration = pair.duration or pair.activity.duration
        own_price = pair.price if pair.price is not None else pair.activity.price
        rows.append(KeyEntity(pair.resource, pair.activity, None, own_price, duration))
        accepted = [insurances[i] for i in insurances_of_resource[pair.resource_id] if (pair.activity_id, i) in cover]
        for insurance in sorted(accepted, key=lambda i: i.lid):
            price = cover[(pair.activity_id, insurance.pk)].price
            rows.append(
                KeyEntity(pair.resource, pair.activity, insurance, price if price is not None else own_price, duration)
            )
    return rows


MSG_UNKNOWN = "{what:cap} {lid!r} does not exist."
MSG_REMINDER_WINDOW = (
    "Without a patient, {T.FROM_DATE} and {T.TO_DATE} are both required and may span at most {days} days."
)
MSG_SLOT_MISSING = (
    "Name the slot with {T.SLOT}, or with {T.RESOURCE}, {T.ACTIVITY}, {T.DATE} and {T.START_TIME} (missing: {missing})."
)
MSG_SLOT_DISAGREES = "{T.SLOT:cap} {slot} is for {what} {expected}, but {what} {given} was sent."
REMINDER_MAX_DAYS = 31

# The word for each kind of row in messages.
TERMS = {
    Resource: Term.RESOURCE,
    Activity: Term.ACTIVITY,
    Insurance: Term.INSURANCE,
    Location: Term.LOCATION,
    Appointment: Term.APPOINTMENT,
}


def in_scope(queryset, centers: Collection[Center] | None, path: str):
    return queryset if centers is None else queryset.filter(**{f"{path}__in": list(centers)})


def get_by_lid(model, *, lid: str, centers: Collection[Center] | None = None):
    """The row with that external id, if it exists for this caller: a doctor, location or appointment of
    another center gets the same answer as an unknown id. Rows of the catalogue come from those kept
    for its current version (`catalogue_rows`)."""
    if model in CATALOGUE_ROWS:
        row = catalogue_rows(model, centers).by_lid.get(lid)
    else:
        queryset = model.objects.all()
        if model in CENTER_PATHS:
            queryset = in_scope(queryset, centers, CENTER_PATHS[model])
        row = queryset.filter(lid=lid).first()
    if row is None:
        raise DomainError(NOT_FOUND, MSG_UNKNOWN, what=TERMS[model], lid=lid)
    return row


def optional_by_lid(model, *, lid: str | None, centers: Collection[Center] | None = None):
    """As get_by_lid, or None when no id is given."""
    return None if lid is None else get_by_lid(model, lid=lid, centers=centers)


def appointment_for(*, lid: str, centers: Collection[Center] | None) -> Appointment:
    """One appointment as the hospital holds it now, if it belongs to the caller's centers."""
    queryset = in_scope(Appointment.objects.all(), centers, CENTER_PATHS[Appointment])
    appointment = queryset.select_related(*APPOINTMENT_RELATED).filter(lid=lid).first()
    if appointment is None:
        raise DomainError(NOT_FOUND, MSG_UNKNOWN, what=Term.APPOINTMENT, lid=lid)
    return appointment


def overlapping_appointment(
    *, resource: Resource, start: dt.datetime, end: dt.datetime, exclude: Appointment | None = None
) -> Appointment | None:
    """The earliest active appointment of the doctor that overlaps start..end, if any."""
    others = Appointment.objects.filter(resource=resource, status__in=ACTIVE_STATUSES, start__lt=end, end__gt=start)
    if exclude is not None and exclude.pk:
        others = others.exclude(pk=exclude.pk)
    return others.order_by("start").first()


def duration_of(*, resource: Resource, activity: Activity) -> dt.timedelta:
    """How long the activity lasts with this doctor: the doctor's own duration for it, else the activity's."""
    own = ResourceActivity.objects.filter(resource=resource, activity=activity).values_list("duration", flat=True)
    return dt.timedelta(minutes=next(iter(own), None) or activity.duration)


def absences_during(*, resource: Resource, start: dt.datetime, end: dt.datetime):
    """The absences that close the doctor at some moment of start..end: the doctor's own and the
    holidays of the doctor's center, earliest first."""
    closing = Q(resource=resource) | Q(center_id=resource.location.center_id)
    return Absence.objects.filter(closing, start__lt=end, end__gt=start).order_by("start", "pk")


def named_slot(
    *,
    centers: Collection[Center] | None,
    slot_lid: str | None = None,
    resource_lid: str | None = None,
    activity_lid: str | None = None,
    day: dt.date | None = None,
    start_time: dt.time | None = None,
) -> tuple[Resource, Activity, dt.datetime]:
    """The doctor, activity and start a caller names: by an availability id (as the slot search gives
    out), or by doctor, activity, date and start time (wall clock of the doctor's center); when both
    are given they must agree. Whether the slot is bookable is the booking's to decide."""
    if slot_lid is None:
        named = {Term.RESOURCE: resource_lid, Term.ACTIVITY: activity_lid, Term.DATE: day}
        named[Term.START_TIME] = start_time
        missing = [term for term, value in named.items() if value is None]
        if missing:
            raise DomainError(INVALID_INPUT, MSG_SLOT_MISSING, missing=missing)
        resource = get_by_lid(Resource, lid=resource_lid, centers=centers)
        activity = get_by_lid(Activity, lid=activity_lid)
        return resource, activity, dt.datetime.combine(day, start_time, resource.location.center.zone)

    key = parse_slot_lid(slot_lid)
    resource = catalogue_rows(Resource, centers).by_pk.get(key.resource_id)
    activity = catalogue_rows(Activity, centers).by_pk.get(key.activity_id)
    if resource is None or activity is None:
        raise DomainError(NOT_FOUND, MSG_UNKNOWN, what=Term.SLOT, lid=slot_lid)
    start = timezone.localtime(key.start, resource.location.center.zone)
    expected = {
        Term.RESOURCE: (resource.lid, resource_lid),
        Term.ACTIVITY: (activity.lid, activity_lid),
        Term.DATE: (f"{start:%d/%m/%Y}", day and f"{day:%d/%m/%Y}"),
        Term.START_TIME: (f"{start:%H:%M}", start_time and f"{start_time:%H:%M}"),
    }
    for term, (value, given) in expected.items():
        if given is not None and given != value:
            raise DomainError(INVALID_INPUT, MSG_SLOT_DISAGREES, slot=slot_lid, what=term, expected=value, given=given)
    return resource, activity, key.start


APPOINTMENT_RELATED = ("patient", "insurance", "activity__group", "resource__location__center")


def appointments_for(
    *,
    patient: Patient | None,
    centers: Collection[Center] | None,
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
    resource: Resource | None = None,
    changed_since: dt.datetime | None = None,
) -> list[Appointment]:
    """Appointments as the hospital holds them now, whatever their origin, cancelled ones included,
    ordered by date and time (of each center) and resource: a patient's (and those of records merged into it), or,
    without a patient, every appointment of the client's centers in a window of at most 31 days
    (the reminder batch). Dates are days of each appointment's own center; with `changed_since`,
    only those created or changed after it, a change of the patient's record (its phone or e-mail) included."""
    if patient is None and (
        start_date is None or end_date is None or not 0 <= (end_date - start_date).days < REMINDER_MAX_DAYS
    ):
        raise DomainError(INVALID_INPUT, MSG_REMINDER_WINDOW, days=REMINDER_MAX_DAYS)
    queryset = in_scope(Appointment.objects.all(), centers, CENTER_PATHS[Appointment])
    if patient is not None:
        queryset = queryset.filter(patient__in=patient_family(patient))
    if resource is not None:
        queryset = queryset.filter(resource=resource)
    if changed_since is not None:
        # Changed: the appointment, or the patient whose phone and e-mail the answers carry (the record
        # kept, when it was merged).
        queryset = queryset.filter(
            Q(modified__gt=changed_since)
            | Q(patient__modified__gt=changed_since)
            | Q(patient__merged_into__modified__gt=changed_since)
        )
    # Widened by a day on each side in UTC, then cut exactly on each center's own calendar.
    if start_date is not None:
        queryset = queryset.filter(start__gte=dt.datetime.combine(start_date - ONE_DAY, dt.time(), dt.UTC))
    if end_date is not None:
        queryset = queryset.filter(start__lt=dt.datetime.combine(end_date + 2 * ONE_DAY, dt.time(), dt.UTC))
    rows = []
    for appointment in queryset.select_related(*APPOINTMENT_RELATED).order_by("start", "resource__lid", "pk"):
        local = timezone.localtime(appointment.start, appointment.resource.location.center.zone)
        if (start_date is None or local.date() >= start_date) and (end_date is None or local.date() <= end_date):
            rows.append((local.replace(tzinfo=None), appointment.resource.lid, appointment.pk, appointment))
    # Ordered by date and time, each of its own center, then the doctor's id (contract section 5).
    return [row[-1] for row in sorted(rows, key=lambda row: row[:3])]


EXPORT_CHUNK = 2000


def appointments_starting_between(
    *, start: dt.datetime, end: dt.datetime, centers: Collection[Center] | None
) -> Iterator[Appointment]:
    """Every appointment starting at or after `start` and before `end`, whatever its origin, cancelled
    ones included, in time order then doctor: what the hospital's scheduled export sends (guide A.1.1).
    Read in chunks, so that a window of any size is never held in memory at once."""
    queryset = in_scope(Appointment.objects.filter(start__gte=start, start__lt=end), centers, CENTER_PATHS[Appointment])
    return (
        queryset.select_related("patient__merged_into", "resource__location__center", "location")
        .order_by("start", "resource__lid", "pk")
        .iterator(chunk_size=EXPORT_CHUNK)
    )
