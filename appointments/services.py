"""Writes of the scheduling domain. Every function is one transaction.

Nothing here knows tuOtempO's field names or formats: the shells translate (appointments/wire.py).
"""

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from appointments.models import CANCELLED_STATUSES, Appointment, AppointmentStatus, Resource
from his.errors import CONFLICT, INVALID_INPUT, HisError

OVERLAP_CONSTRAINT = "appointment_overlap"
MSG_SLOT_TAKEN = "{when} with RESOURCE_LID {resource} is no longer available: another appointment holds it."
MSG_END_BEFORE_START = "The appointment must end after it starts."
MSG_ALREADY_STARTED = "Appointment {app} has already started ({when}) and can no longer be cancelled."
MSG_CANCELLED_CANNOT_MOVE = "Appointment {app} is cancelled; book a new appointment instead of moving it."


def local_label(resource: Resource, start: dt.datetime) -> str:
    """'14/12/2026 09:30' in the resource's center time zone, for messages."""
    return f"slot {timezone.localtime(start, resource.location.center.zone):%d/%m/%Y %H:%M}"


def is_overlap_violation(exc: IntegrityError) -> bool:
    return OVERLAP_CONSTRAINT in str(exc)


@transaction.atomic
def reschedule_appointment(
    *, appointment: Appointment, start: dt.datetime, end: dt.datetime | None = None, resource: Resource | None = None
) -> Appointment:
    """Moves an active appointment to another time (and optionally another resource), keeping its
    duration unless an end is given. Refuses a move onto another active appointment."""
    if appointment.status in CANCELLED_STATUSES:
        raise HisError(CONFLICT, MSG_CANCELLED_CANNOT_MOVE.format(app=appointment.lid))
    resource = resource or appointment.resource
    end = end or start + (appointment.end - appointment.start)
    if end <= start:
        raise HisError(INVALID_INPUT, MSG_END_BEFORE_START)
    appointment.resource, appointment.start, appointment.end = resource, start, end
    if appointment.location_id is None or appointment.location_id != resource.location_id:
        appointment.location = resource.location
    try:
        with transaction.atomic():
            appointment.save()
    except IntegrityError as exc:
        if is_overlap_violation(exc):
            raise HisError(
                CONFLICT, MSG_SLOT_TAKEN.format(when=local_label(resource, start), resource=resource.lid)
            ) from None
        raise
    return appointment


@transaction.atomic
def cancel_appointment(*, appointment: Appointment, by_admin: bool = False, allow_past: bool = False) -> Appointment:
    """Cancels an appointment, keeping the row: its slot becomes bookable again. Cancelling a
    cancelled appointment changes nothing. Only the desk (allow_past) may cancel one that started."""
    if appointment.status in CANCELLED_STATUSES:
        return appointment
    now = timezone.now()
    if not allow_past and appointment.start <= now:
        when = timezone.localtime(appointment.start, appointment.resource.location.center.zone)
        raise HisError(CONFLICT, MSG_ALREADY_STARTED.format(app=appointment.lid, when=f"{when:%d/%m/%Y %H:%M}"))
    appointment.status = AppointmentStatus.CANCELLED_BY_ADMIN if by_admin else AppointmentStatus.CANCELLED_BY_USER
    appointment.cancelled_at = now
    appointment.save(update_fields=["status", "cancelled_at", "modified"])
    return appointment
