"""Reads of the scheduling domain: key entities, appointments. The slot search is in slots.py."""

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from appointments.models import (
    Activity,
    Appointment,
    Insurance,
    InsuranceActivity,
    InsuranceResource,
    Patient,
    Resource,
    ResourceActivity,
)
from appointments.patients import patient_family, patient_in_scope  # noqa: F401  (re-exported)
from centers.models import Center
from his.errors import INVALID_INPUT, NOT_FOUND, HisError

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
    resource's, else the activity's."""
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


MSG_UNKNOWN = "{field} {lid!r} does not exist."
MSG_REMINDER_WINDOW = "Without a patient, START_DATE and END_DATE are both required and may span at most {days} days."
REMINDER_MAX_DAYS = 31


def in_scope(queryset, centers: Collection[Center] | None, path: str):
    return queryset if centers is None else queryset.filter(**{f"{path}__in": list(centers)})


def get_by_lid(model, *, lid: str, field: str, centers: Collection[Center] | None = None, center_path: str = ""):
    """The row with that external id, if it exists for this client (inside its centers)."""
    queryset = model.objects.all()
    if center_path:
        queryset = in_scope(queryset, centers, center_path)
    row = queryset.filter(lid=lid).first()
    if row is None:
        raise HisError(NOT_FOUND, MSG_UNKNOWN.format(field=field, lid=lid))
    return row


def appointment_for(*, lid: str, centers: Collection[Center] | None) -> Appointment:
    """One appointment as the hospital holds it now, if it belongs to the client's centers."""
    queryset = in_scope(Appointment.objects.all(), centers, "resource__location__center")
    appointment = queryset.select_related(*APPOINTMENT_RELATED).filter(lid=lid).first()
    if appointment is None:
        raise HisError(NOT_FOUND, MSG_UNKNOWN.format(field="APP_LID", lid=lid))
    return appointment


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
    only those created or changed after it."""
    if patient is None and (
        start_date is None or end_date is None or not 0 <= (end_date - start_date).days < REMINDER_MAX_DAYS
    ):
        raise HisError(INVALID_INPUT, MSG_REMINDER_WINDOW.format(days=REMINDER_MAX_DAYS))
    queryset = in_scope(Appointment.objects.all(), centers, "resource__location__center")
    if patient is not None:
        queryset = queryset.filter(patient__in=patient_family(patient))
    if resource is not None:
        queryset = queryset.filter(resource=resource)
    if changed_since is not None:
        queryset = queryset.filter(modified__gt=changed_since)
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
    # Ordered by date and time, each of its own center, then RESOURCE_LID (contract section 5).
    return [row[-1] for row in sorted(rows, key=lambda row: row[:3])]


# ---------------------------------------------------------------- the file exchange's reads (guide A.1.1, A.6)

from collections.abc import Iterator  # noqa: E402  (kept with the functions below)

from django.db.models import Exists, OuterRef, Q  # noqa: E402

EXPORT_CHUNK = 2000


def appointments_starting_between(
    *, start: dt.datetime, end: dt.datetime, centers: Collection[Center] | None
) -> Iterator[Appointment]:
    """Every appointment starting at or after `start` and before `end`, whatever its origin, cancelled
    ones included, in time order then resource: the hospital's scheduled export to tuOtempO (guide
    A.1.1). Read in chunks, so that a window of any size is never held in memory at once."""
    queryset = in_scope(
        Appointment.objects.filter(start__gte=start, start__lt=end), centers, "resource__location__center"
    )
    return (
        queryset.select_related("patient__merged_into", "resource__location__center", "location")
        .order_by("start", "resource__lid", "pk")
        .iterator(chunk_size=EXPORT_CHUNK)
    )


# The channels a patient may choose to be reached on, with the contact each needs.
CHANNEL_CONTACTS = {
    "sms": ("contact_by_sms", "mobile_phone"),
    "email": ("contact_by_email", "email"),
    "landline": ("contact_by_landline", "landline_phone"),
}
MSG_UNKNOWN_CHANNEL = "Unknown channel {channel!r}: use one of {channels}."
MERGE_DEPTH = 4  # merges followed when placing a patient in a center (chains are one or two long in practice)


def patients_for_campaign(*, channel: str | None, centers: Collection[Center] | None) -> Iterator[Patient]:
    """The patients a communication campaign may address (guide A.6): those who accepted the privacy
    terms and chose the channel, with the contact it needs on record; without a channel, those
    reachable on at least one. Records merged away are left out: the record that replaced them stands
    for them. For some centers, only the patients of those centers (with an appointment or a result
    there, their own or a merged record's). Ordered by USER_LID and read in chunks."""
    if channel is not None and channel not in CHANNEL_CONTACTS:
        raise HisError(INVALID_INPUT, MSG_UNKNOWN_CHANNEL.format(channel=channel, channels=", ".join(CHANNEL_CONTACTS)))
    chosen = [channel] if channel else list(CHANNEL_CONTACTS)
    reachable = Q()
    for name in chosen:
        flag, contact = CHANNEL_CONTACTS[name]
        reachable |= Q(**{flag: True}) & ~Q(**{contact: ""})
    queryset = Patient.objects.filter(reachable, privacy_accepted=True, merged_into__isnull=True)
    if centers is not None:
        from results.models import MedicalResult  # results builds on appointments, not the reverse

        centers = list(centers)
        seen_at = Q()
        for depth in range(MERGE_DEPTH):
            path = "patient" + "__merged_into" * depth
            seen_at |= Exists(
                Appointment.objects.filter(resource__location__center__in=centers, **{path: OuterRef("pk")})
            )
            seen_at |= Exists(MedicalResult.objects.filter(center__in=centers, **{path: OuterRef("pk")}))
        queryset = queryset.filter(seen_at)
    return queryset.order_by("lid", "pk").iterator(chunk_size=EXPORT_CHUNK)
