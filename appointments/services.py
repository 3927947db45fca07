"""Writes of the scheduling domain. Every function is one transaction.

Nothing here knows a protocol: every way in (webservices, Sincro, the desk...) calls these, and
renders their errors in its own words.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from appointments.models import (
    ACTIVE_STATUSES,
    CANCELLED_STATUSES,
    Absence,
    Activity,
    Appointment,
    AppointmentStatus,
    Insurance,
    Origin,
    Resource,
)
from appointments.selectors import APPOINTMENT_RELATED, absences_during, duration_of, overlapping_appointment
from appointments.slots import Slot, find_slot
from centers.models import Center
from clients.scope import Scope
from core.errors import CONFLICT, INVALID_INPUT, NOT_FOUND, DomainError
from patients.models import Patient, PatientData
from patients.selectors import follow_merges
from patients.services import resolve_patient

OVERLAP_CONSTRAINT = "appointment_overlap"
MSG_SLOT_TAKEN = "{when} with {T.RESOURCE} {resource} is no longer available: another appointment holds it."
MSG_END_BEFORE_START = "The appointment must end after it starts."
MSG_ALREADY_STARTED = "Appointment {app} has already started ({when}) and can no longer be cancelled."
MSG_CANCELLED_CANNOT_MOVE = "Appointment {app} is cancelled; book a new appointment instead of moving it."


def local_label(resource: Resource, start: dt.datetime) -> str:
    """'14/12/2026 09:30' in the resource's center time zone, for messages."""
    return f"slot {timezone.localtime(start, resource.location.center.zone):%d/%m/%Y %H:%M}"


def is_overlap_violation(exc: IntegrityError) -> bool:
    return OVERLAP_CONSTRAINT in str(exc)


def take_turn(resource: Resource) -> None:
    """Writes to one resource's appointments take turns (a lock on the resource's row, held until
    the transaction ends): each sees what the previous one committed, so a taken time is answered
    cleanly, instead of two inserts waiting on each other inside PostgreSQL's exclusion constraint
    until one is killed as a deadlock. Taken before any other lock, so locks always come in the
    same order. (SQLite's IMMEDIATE transactions already take turns.)"""
    Resource.objects.select_for_update(no_key=True).filter(pk=resource.pk).exists()


def save_or_refuse(appointment: Appointment) -> None:
    """Saves the appointment; if the database refuses it as an overlap, CONFLICT naming the slot."""
    try:
        with transaction.atomic():
            appointment.save()
    except IntegrityError as exc:
        if not is_overlap_violation(exc):
            raise
        resource = appointment.resource
        raise DomainError(
            CONFLICT, MSG_SLOT_TAKEN, when=local_label(resource, appointment.start), resource=resource.lid
        ) from None


def refuse_if_cancelled(appointment: Appointment) -> None:
    if appointment.status in CANCELLED_STATUSES:
        raise DomainError(CONFLICT, MSG_CANCELLED_CANNOT_MOVE, app=appointment.lid)


def locked(appointment: Appointment) -> Appointment:
    """The appointment as stored now, its row locked until the transaction ends: what a change decides
    on, so that two changes of one appointment (a cancellation and a move...) see each other."""
    return (
        Appointment.objects.select_for_update(of=("self",)).select_related(*APPOINTMENT_RELATED).get(pk=appointment.pk)
    )


@transaction.atomic
def reschedule_appointment(
    *, appointment: Appointment, start: dt.datetime, end: dt.datetime | None = None, resource: Resource | None = None
) -> Appointment:
    """Moves an active appointment to another time (and optionally another resource), keeping its
    duration unless an end is given. Refuses a move onto another active appointment."""
    refuse_if_cancelled(appointment)
    resource = resource or appointment.resource
    end = end or start + (appointment.end - appointment.start)
    if end <= start:
        raise DomainError(INVALID_INPUT, MSG_END_BEFORE_START)
    take_turn(resource)
    appointment.resource, appointment.start, appointment.end = resource, start, end
    if appointment.location_id is None or appointment.location_id != resource.location_id:
        appointment.location = resource.location
    save_or_refuse(appointment)
    return appointment


@transaction.atomic
def cancel_appointment(*, appointment: Appointment, by_admin: bool = False, allow_past: bool = False) -> Appointment:
    """Cancels an appointment, keeping the row: its slot becomes bookable again. Cancelling a
    cancelled appointment (as stored now: its row is locked first) changes nothing. Only the desk
    (allow_past) may cancel one that started."""
    stored = locked(appointment)
    if stored.status in CANCELLED_STATUSES:
        appointment.status, appointment.cancelled_at = stored.status, stored.cancelled_at
        return appointment
    now = timezone.now()
    if not allow_past and appointment.start <= now:
        when = timezone.localtime(appointment.start, appointment.resource.location.center.zone)
        raise DomainError(CONFLICT, MSG_ALREADY_STARTED, app=appointment.lid, when=f"{when:%d/%m/%Y %H:%M}")
    appointment.status = AppointmentStatus.CANCELLED_BY_ADMIN if by_admin else AppointmentStatus.CANCELLED_BY_USER
    appointment.cancelled_at = now
    appointment.save(update_fields=["status", "cancelled_at", "modified"])
    return appointment


MSG_SLOT_NOT_OFFERED = (
    "{when} with {T.RESOURCE} {resource} is not offered for {T.ACTIVITY} {activity}: it is outside "
    "the doctor's availability or in the past. Search the availabilities again."
)
MSG_SLOT_NOT_OFFERED_INSURED = (
    "{when} with {T.RESOURCE} {resource} is not offered for {T.ACTIVITY} {activity} with {T.INSURANCE} "
    "{insurance}: it is outside the doctor's availability or in the past. Search the availabilities again."
)
MSG_SLOT_CLOSED = (
    "{when} with {T.RESOURCE} {resource} can no longer be booked: the doctor is absent or the center is closed then."
)
MSG_NOT_OWNER = "Appointment {app} does not belong to this patient."


@dataclass(frozen=True)
class Booking:
    appointment: Appointment
    created: bool  # False: the patient already held this slot (a retried request)


def held_by(*, patient: Patient, resource: Resource, activity: Activity, start: dt.datetime) -> Appointment | None:
    """The active appointment this patient already holds in that slot, if any."""
    return (
        Appointment.objects.filter(
            patient=patient, resource=resource, activity=activity, start=start, status__in=ACTIVE_STATUSES
        )
        .select_related("patient")
        .first()
    )


@transaction.atomic
def book_appointment(
    *,
    resource: Resource,
    activity: Activity,
    start: dt.datetime,
    insurance: Insurance | None,
    patient_data: PatientData,
    scope: Scope,
    notes: str = "",
    origin: str = Origin.ONLINE,
    new_patient: bool = False,
) -> Booking:
    """Books the slot for the patient the caller describes, identified or registered by its patient
    pattern among the patients it may know (new_patient: registered, see resolve_patient). The slot
    must be free under the rules of the caller's scope (an integration client books only what is
    offered online; the hospital's desk, also what is not). Exactly one of any number of simultaneous
    requests for a slot wins, whoever makes them: the database refuses the others. The same patient
    asking again for the slot it holds gets the same appointment back. A failed booking leaves nothing
    behind, not even a patient it registered."""
    take_turn(resource)
    patient = resolve_patient(data=patient_data, scope=scope, new_patient=new_patient)
    try:
        slot = bookable_slot(resource=resource, activity=activity, insurance=insurance, start=start, scope=scope)
    except DomainError:
        # Not bookable; if it is because this patient holds it already, this is a retry.
        existing = held_by(patient=patient, resource=resource, activity=activity, start=start)
        if existing is not None:
            return Booking(existing, created=False)
        raise
    appointment = Appointment(
        resource=resource,
        activity=activity,
        insurance=insurance,
        location=slot.location,
        patient=patient,
        start=slot.start,
        end=slot.end,
        status=AppointmentStatus.APPROVED,
        origin=origin,
        notes=notes[:500],
    )
    try:
        save_or_refuse(appointment)
    except DomainError:
        # Another request won the race; if it was this same patient's, this is a retry.
        existing = held_by(patient=patient, resource=resource, activity=activity, start=start)
        if existing is not None:
            return Booking(existing, created=False)
        raise
    return Booking(appointment, created=True)


def bookable_slot(
    *,
    resource: Resource,
    activity: Activity,
    insurance: Insurance | None,
    start: dt.datetime,
    scope: Scope,
    exclude: Appointment | None = None,
) -> Slot:
    """The free slot starting then that the caller may book (or move `exclude` to), or the refusal
    saying why not. Call it holding the resource's turn, so that the answer still holds when saving."""
    slot = find_slot(
        resource=resource, activity=activity, start=start, insurance=insurance, online=scope.online, exclude=exclude
    )
    if slot is None:
        raise why_not_bookable(resource=resource, activity=activity, insurance=insurance, start=start, exclude=exclude)
    return slot


def why_not_bookable(
    *,
    resource: Resource,
    activity: Activity,
    insurance: Insurance | None,
    start: dt.datetime,
    exclude: Appointment | None = None,
) -> DomainError:
    """Why that slot cannot be booked, in the hospital's words: taken by another appointment, closed by
    an absence or a holiday, or not offered at all (outside the doctor's rules, in the past...)."""
    when = local_label(resource, start)
    end = start + duration_of(resource=resource, activity=activity)
    taken = overlapping_appointment(resource=resource, start=start, end=end, exclude=exclude) is not None
    if taken and start > timezone.now():
        return DomainError(CONFLICT, MSG_SLOT_TAKEN, when=when, resource=resource.lid)
    if absences_during(resource=resource, start=start, end=end).exists():
        return DomainError(CONFLICT, MSG_SLOT_CLOSED, when=when, resource=resource.lid)
    if insurance is not None:
        return DomainError(
            CONFLICT,
            MSG_SLOT_NOT_OFFERED_INSURED,
            when=when,
            resource=resource.lid,
            activity=activity.lid,
            insurance=insurance.lid,
        )
    return DomainError(CONFLICT, MSG_SLOT_NOT_OFFERED, when=when, resource=resource.lid, activity=activity.lid)


@transaction.atomic
def cancel_for_patient(*, appointment: Appointment, patient: Patient | None) -> Appointment:
    """Cancels on the patient's behalf (online, by reminder reply): only an appointment
    that has not started, and when a patient is named, only that patient's own."""
    appointment = locked(appointment)
    if patient is not None and follow_merges(appointment.patient).pk != follow_merges(patient).pk:
        raise DomainError(NOT_FOUND, MSG_NOT_OWNER, app=appointment.lid)
    return cancel_appointment(appointment=appointment)


@transaction.atomic
def book_at_desk(*, appointment: Appointment) -> Appointment:
    """Saves an appointment made at the desk or by phone for a known patient, at any time the clerk
    chooses (outside the web availability too). Only the no-overlap rule applies: a taken time is
    refused with a message naming it."""
    take_turn(appointment.resource)
    if appointment.end <= appointment.start:
        raise DomainError(INVALID_INPUT, MSG_END_BEFORE_START)
    appointment.location = appointment.resource.location
    save_or_refuse(appointment)
    return appointment


MSG_CANCELLED_CANNOT_CONFIRM = "Appointment {app} is cancelled: the patient's confirmation cannot be recorded."


@transaction.atomic
def confirm_by_patient(*, appointment: Appointment) -> bool:
    """Records that the patient confirmed the appointment (a reply to a reminder). Recording it again
    changes nothing and keeps the first time; a cancelled appointment cannot be confirmed. True when
    this call recorded it."""
    current = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if current.status in CANCELLED_STATUSES:
        raise DomainError(CONFLICT, MSG_CANCELLED_CANNOT_CONFIRM, app=current.lid)
    if current.patient_confirmed_at is not None:
        appointment.patient_confirmed_at = current.patient_confirmed_at
        return False
    # An update, not save(): `modified` stays, since nothing that tuOtempO's answers carry changed.
    now = timezone.now()
    Appointment.objects.filter(pk=current.pk).update(patient_confirmed_at=now)
    appointment.patient_confirmed_at = now
    return True


@transaction.atomic
def move_to_free_slot(*, appointment: Appointment, resource: Resource, start: dt.datetime, scope: Scope) -> Appointment:
    """Moves an active appointment to a free slot of the same or another doctor for its activity and
    insurance, one the caller may book (bookable_slot): it takes that slot's length, and its own old
    time counts as free, so it may move by less than its length. The desk's move; the admin's
    reschedule_appointment moves to any time the overlap rule allows."""
    take_turn(resource)
    appointment = locked(appointment)
    refuse_if_cancelled(appointment)
    slot = bookable_slot(
        resource=resource,
        activity=appointment.activity,
        insurance=appointment.insurance,
        start=start,
        scope=scope,
        exclude=appointment,
    )
    return reschedule_appointment(appointment=appointment, start=slot.start, end=slot.end, resource=resource)


MSG_ABSENCE_WHO = "An absence is of one doctor or of a whole center (a holiday), not both and not neither."
MSG_ABSENCE_END = "The absence must end after it starts."


@transaction.atomic
def mark_absence(
    *,
    start: dt.datetime,
    end: dt.datetime,
    resource: Resource | None = None,
    center: Center | None = None,
    reason: str = "",
) -> Absence:
    """Closes a doctor (an absence) or a whole center (a holiday) from start to end: no slot is offered
    then, online or at the desk. Appointments already booked then are kept: agenda.appointments_during()
    lists them for the desk to move or cancel."""
    if (resource is None) == (center is None):
        raise DomainError(INVALID_INPUT, MSG_ABSENCE_WHO)
    if end <= start:
        raise DomainError(INVALID_INPUT, MSG_ABSENCE_END)
    return Absence.objects.create(resource=resource, center=center, start=start, end=end, reason=reason.strip()[:200])


@transaction.atomic
def keep_caller_ids(
    *, appointment: Appointment, tid: str = "", owner_lid: str = "", owner_tid: str = "", owner_name: str = ""
) -> Appointment:
    """Keeps the ids a caller gives its booking (its own appointment id, who booked it), so that the
    hospital can show them back; an empty value leaves what is kept."""
    given = {"tid": tid[:50], "owner_lid": owner_lid[:50], "owner_tid": owner_tid[:50], "owner_name": owner_name[:100]}
    changed = [name for name, value in given.items() if value and getattr(appointment, name) != value]
    for name in changed:
        setattr(appointment, name, given[name])
    if changed:
        appointment.save(update_fields=[*changed, "modified"])
    return appointment
