"""Every use the file exchange makes of the domain, in one place, so that it can be re-pointed when
the domain moves. Nothing else in exchange/ imports from the domain apps.

The exchange runs with the hospital's own authority, not as an integration client: it sees every
center unless the command names one (`--center`), and then nothing of the others.
"""

import datetime as dt
from collections.abc import Iterator

from appointments.models import Appointment, AppointmentStatus
from appointments.selectors import KeyEntity, appointment_for, appointments_starting_between, key_entities
from appointments.services import cancel_appointment, confirm_by_patient
from centers.models import Center
from core.errors import DomainError
from patients.models import Patient
from patients.selectors import follow_merges, patients_for_campaign

__all__ = [
    "Appointment",
    "AppointmentStatus",
    "Center",
    "DomainError",
    "KeyEntity",
    "Patient",
    "appointment_named",
    "appointments_in_window",
    "campaign_patients",
    "cancel",
    "catalogue",
    "center_named",
    "confirm",
    "current_patient",
]

MSG_UNKNOWN_CENTER = "CENTER_LID {lid!r} does not exist."


def center_named(lid: str | None) -> list[Center] | None:
    """The centers a run is limited to: the one named, or None for every center."""
    if lid is None:
        return None
    center = Center.objects.filter(lid=lid).first()
    if center is None:
        raise ValueError(MSG_UNKNOWN_CENTER.format(lid=lid))
    return [center]


def appointments_in_window(
    *, start: dt.datetime, end: dt.datetime, centers: list[Center] | None
) -> Iterator[Appointment]:
    return appointments_starting_between(start=start, end=end, centers=centers)


def current_patient(appointment: Appointment) -> Patient:
    """The record that stands for the appointment's patient now (merges followed)."""
    return follow_merges(appointment.patient)


def catalogue(*, centers: list[Center] | None) -> list[KeyEntity]:
    return key_entities(centers=centers)


def campaign_patients(*, channel: str | None, centers: list[Center] | None) -> Iterator[Patient]:
    return patients_for_campaign(channel=channel, centers=centers)


def appointment_named(*, lid: str, centers: list[Center] | None) -> Appointment:
    """The appointment with that APP_LID in the centers of the run; DomainError NOT_FOUND otherwise."""
    return appointment_for(lid=lid, centers=centers)


def cancel(*, appointment: Appointment, by_admin: bool) -> bool:
    """Cancels it through the domain; True when this call cancelled it, False when it already was."""
    was_active = appointment.is_active
    cancel_appointment(appointment=appointment, by_admin=by_admin)
    return was_active


def confirm(*, appointment: Appointment) -> bool:
    """Records the patient's confirmation; True when this call recorded it."""
    return confirm_by_patient(appointment=appointment)
