"""The booking services' refusals and retries, in the hospital's words (fast: no server, no surface).

Written for what mutation testing showed untested (docs/testing.md): the exact refusal of a taken slot,
a retry recognised only for the very same slot, and the reason given when a slot cannot be booked.
Dates are built from today, in the Canary Islands, whose clock is not the settings' default zone."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from appointments.models import Appointment, AppointmentStatus
from appointments.services import (
    book_appointment,
    book_at_desk,
    move_to_free_slot,
    reschedule_appointment,
    save_or_refuse,
)
from clients.scope import HOSPITAL
from core.errors import DomainError
from demo.factories import (
    AbsenceFactory,
    ActivityFactory,
    AppointmentFactory,
    AvailabilityRuleFactory,
    CenterFactory,
    InsuranceFactory,
    LocationFactory,
    PatientFactory,
    ResourceActivityFactory,
    ResourceFactory,
)
from patients.models import PatientData

DAY = timezone.localdate() + dt.timedelta(days=9)
LABEL = f"{DAY:%d/%m/%Y}"


@pytest.fixture
def clinic(db):
    """Las Palmas: D1 offers a 30-minute visit (60 minutes for D1) 09:00-13:00 every day; D2 the same visit."""
    center = CenterFactory(lid="LPA", time_zone="Atlantic/Canary")
    visit = ActivityFactory(lid="V1", duration=30, price=Decimal("50"))
    other = ResourceFactory(lid="D2", location=LocationFactory(center=center))
    ResourceActivityFactory(resource=other, activity=visit, duration=20)  # read first when not filtered by doctor
    doctor = ResourceFactory(lid="D1", location=LocationFactory(center=center))
    ResourceActivityFactory(resource=doctor, activity=ActivityFactory(lid="V9", duration=10), duration=10)
    ResourceActivityFactory(resource=doctor, activity=visit, duration=60)
    for resource in (doctor, other):
        for weekday in range(7):
            AvailabilityRuleFactory(resource=resource, weekday=weekday, start_time=dt.time(9), end_time=dt.time(13))
    return {"center": center, "doctor": doctor, "other": other, "visit": visit}


def at(clinic, clock: str) -> dt.datetime:
    hour, minute = map(int, clock.split(":"))
    return dt.datetime.combine(DAY, dt.time(hour, minute), clinic["center"].zone)


def refusal(call) -> tuple[str, str]:
    with pytest.raises(DomainError) as error:
        call()
    return error.value.code, error.value.message


def test_a_taken_time_is_refused_naming_the_slot_in_the_centers_clock(clinic):
    start = at(clinic, "09:00")
    AppointmentFactory(resource=clinic["doctor"], activity=clinic["visit"], start=start,
                       end=start + dt.timedelta(minutes=60))  # fmt: skip
    second = Appointment(resource=clinic["doctor"], activity=clinic["visit"], patient=PatientFactory(),
                         start=start + dt.timedelta(minutes=30), end=start + dt.timedelta(minutes=90))  # fmt: skip
    assert refusal(lambda: book_at_desk(appointment=second)) == (
        "CONFLICT",
        f"slot {LABEL} 09:30 with doctor D1 is no longer available: another appointment holds it.",
    )


def test_another_refusal_of_the_database_is_not_dressed_up_as_a_taken_slot(clinic):
    start = at(clinic, "09:00")
    backwards = Appointment(resource=clinic["doctor"], activity=clinic["visit"], patient=PatientFactory(),
                            location=clinic["doctor"].location, start=start,
                            end=start - dt.timedelta(minutes=5))  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        save_or_refuse(backwards)


def test_a_cancelled_appointment_cannot_be_moved(clinic):
    appointment = AppointmentFactory(resource=clinic["doctor"], activity=clinic["visit"],
                                     status=AppointmentStatus.CANCELLED_BY_USER)  # fmt: skip
    assert refusal(lambda: reschedule_appointment(appointment=appointment, start=at(clinic, "11:00"))) == (
        "CONFLICT",
        f"Appointment {appointment.lid} is cancelled; book a new appointment instead of moving it.",
    )


def book(clinic, patient, clock, *, resource=None, activity=None):
    return book_appointment(
        resource=resource or clinic["doctor"], activity=activity or clinic["visit"], start=at(clinic, clock),
        insurance=None, patient_data=PatientData(lid=patient.lid), scope=HOSPITAL,
    )  # fmt: skip


def test_a_retry_is_recognised_only_for_the_same_doctor_activity_and_time(clinic):
    patient = PatientFactory()
    first = book(clinic, patient, "09:00")
    again = book(clinic, patient, "09:00")
    assert (again.created, again.appointment.pk) == (False, first.appointment.pk)

    elsewhere = book(clinic, patient, "09:00", resource=clinic["other"])  # the same time with another doctor
    assert elsewhere.created and elsewhere.appointment.resource == clinic["other"]

    other_activity = ActivityFactory(lid="V2", duration=60)
    ResourceActivityFactory(resource=clinic["doctor"], activity=other_activity)
    code, message = refusal(lambda: book(clinic, patient, "09:00", activity=other_activity))
    assert (code, message) == ("CONFLICT", f"slot {LABEL} 09:00 with doctor D1 is no longer available: "
                                           "another appointment holds it.")  # fmt: skip


def test_a_cancelled_appointment_is_not_a_retry(clinic):
    patient = PatientFactory()
    first = book(clinic, patient, "10:00").appointment
    first.status = AppointmentStatus.CANCELLED_BY_USER
    first.save()
    again = book(clinic, patient, "10:00")
    assert again.created and again.appointment.pk != first.pk and again.appointment.is_active


def test_the_doctors_own_duration_decides_whether_the_slot_is_taken(clinic):
    # D1's visit lasts 60 minutes: an appointment at 09:45 takes the 09:00 slot (not with 30, 20 or 10).
    start = at(clinic, "09:45")
    AppointmentFactory(resource=clinic["doctor"], activity=clinic["visit"], start=start,
                       end=start + dt.timedelta(minutes=15))  # fmt: skip
    assert refusal(lambda: book(clinic, PatientFactory(), "09:00")) == (
        "CONFLICT",
        f"slot {LABEL} 09:00 with doctor D1 is no longer available: another appointment holds it.",
    )


def test_an_activity_the_doctor_does_not_offer_is_not_offered(clinic):
    unoffered = ActivityFactory(lid="X1", duration=30)
    assert refusal(lambda: book(clinic, PatientFactory(), "09:00", activity=unoffered)) == (
        "CONFLICT",
        f"slot {LABEL} 09:00 with doctor D1 is not offered for activity X1: it is outside the doctor's "
        "availability or in the past. Search the availabilities again.",
    )


def test_moving_an_appointment_off_the_steps_is_not_offered_not_taken_by_itself(clinic):
    start = at(clinic, "09:00")
    appointment = AppointmentFactory(resource=clinic["doctor"], activity=clinic["visit"], start=start,
                                     end=start + dt.timedelta(minutes=60))  # fmt: skip
    code, message = refusal(
        lambda: move_to_free_slot(
            appointment=appointment, resource=clinic["doctor"], start=at(clinic, "09:15"), scope=HOSPITAL
        )  # fmt: skip
    )
    assert (code, message) == ("CONFLICT", f"slot {LABEL} 09:15 with doctor D1 is not offered for activity V1: "
                               "it is outside the doctor's availability or in the past. Search the "
                               "availabilities again.")  # fmt: skip


@pytest.mark.parametrize(
    ("whose", "starts", "ends", "closed"),
    [
        ("doctor", "13:00", "15:00", True),  # this doctor, over the time asked
        ("center", "13:30", "14:00", True),  # a holiday of the center
        ("other", "13:00", "15:00", False),  # another doctor's absence
        ("doctor", "15:00", "16:00", False),  # after the time asked
        ("doctor", "11:00", "13:00", False),  # over before it
    ],
)
def test_a_time_outside_the_rules_is_closed_only_by_an_absence_over_it(clinic, whose, starts, ends, closed):
    who = {"doctor": {"resource": clinic["doctor"]}, "other": {"resource": clinic["other"]},
           "center": {"resource": None, "center": clinic["center"]}}[whose]  # fmt: skip
    AbsenceFactory(start=at(clinic, starts), end=at(clinic, ends), **who)
    code, message = refusal(lambda: book(clinic, PatientFactory(), "13:00"))
    assert code == "CONFLICT"
    if closed:
        assert message == (f"slot {LABEL} 13:00 with doctor D1 can no longer be booked: the doctor is absent or "
                           "the center is closed then.")  # fmt: skip
    else:
        assert message.startswith(f"slot {LABEL} 13:00 with doctor D1 is not offered for activity V1")


def test_an_insured_slot_not_offered_names_the_insurance(clinic):
    insurer = InsuranceFactory(lid="SAN")
    code, message = refusal(
        lambda: book_appointment(
            resource=clinic["doctor"],
            activity=clinic["visit"],
            start=at(clinic, "09:00"),
            insurance=insurer,
            patient_data=PatientData(lid=PatientFactory().lid),
            scope=HOSPITAL,
        )  # fmt: skip
    )
    assert (code, message) == ("CONFLICT", f"slot {LABEL} 09:00 with doctor D1 is not offered for activity V1 with "
                               "insurance SAN: it is outside the doctor's availability or in the past. Search the "
                               "availabilities again.")  # fmt: skip
