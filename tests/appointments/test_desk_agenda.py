"""The hospital's side of the domain, which its desk uses: free slots without the web flags (the one slot
engine, online=False), the agenda of a center, and booking, moving, cancelling and closing as the hospital
(scope HOSPITAL) under the same rules, lock and refusals as an online booking."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.agenda import appointments_during, center_agenda
from appointments.models import Absence, Appointment, AppointmentStatus, Origin, Resource, Weekday
from appointments.services import (
    MSG_ABSENCE_END,
    MSG_ABSENCE_WHO,
    MSG_CANCELLED_CANNOT_MOVE,
    MSG_SLOT_CLOSED,
    MSG_SLOT_NOT_OFFERED,
    MSG_SLOT_TAKEN,
    book_appointment,
    cancel_appointment,
    local_label,
    mark_absence,
    move_to_free_slot,
)
from appointments.slots import find_slots, slots_starting_at
from clients.scope import HOSPITAL, scope_of
from clients.services import create_integration_client
from core.errors import CONFLICT, INVALID_INPUT, DomainError
from demo.factories import (
    AbsenceFactory,
    ActivityFactory,
    AppointmentFactory,
    AvailabilityRuleFactory,
    CenterFactory,
    InsuranceActivityFactory,
    InsuranceFactory,
    InsuranceResourceFactory,
    LocationFactory,
    PatientFactory,
    ResourceActivityFactory,
    ResourceFactory,
)
from patients.models import Patient, PatientData
from tests.messages import said

MADRID = ZoneInfo("Europe/Madrid")
CANARY = ZoneInfo("Atlantic/Canary")
MONDAY = dt.date(2027, 3, 1)
NOW = dt.datetime(2027, 2, 1, 8, 0, tzinfo=dt.UTC)

pytestmark = pytest.mark.django_db


def at(day: dt.date, hh_mm: str, zone: ZoneInfo = MADRID) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hh_mm), zone)


def next_weekday(weekday: int, weeks: int = 2) -> dt.date:
    """A day of that Python weekday (0 = Monday) at least `weeks` weeks from today, for the services,
    which book against the real clock."""
    day = timezone.localdate(timezone=MADRID) + dt.timedelta(weeks=weeks)
    return day + dt.timedelta(days=(weekday - day.weekday()) % 7)


def times(slots) -> list[str]:
    return [f"{slot.start:%H:%M} {slot.resource.lid} {slot.activity.lid}" for slot in slots]


def hospital_slots(*, resources, first_day: dt.date, last_day: dt.date, activity=None, **kwargs):
    """Every slot the hospital may book with these doctors on those days."""
    window = {"start_day": first_day, "end_day": last_day, "limit": None, "online": False}
    return find_slots(activity=activity, resources=resources, **window, **kwargs)


def hospital_slots_at(*, resource, start: dt.datetime, **kwargs):
    return slots_starting_at(resource=resource, start=start, online=False, **kwargs)


def book_at_the_desk(*, patient=None, patient_data=None, origin=Origin.DESK, **kwargs):
    """A booking made at the desk: as the hospital, for a chosen patient or one described."""
    data = PatientData(lid=patient.lid) if patient is not None else patient_data
    return book_appointment(patient_data=data, scope=HOSPITAL, origin=origin, **kwargs)


@pytest.fixture
def clinic():
    """Madrid: D1 offers a 30-minute visit and a 15-minute ECG (ECG only on the 09:00-10:00 rule),
    Mondays 09:00-10:00 and 12:00-12:30; D2 offers the visit, is desk-only, Mondays 09:00-10:00.
    Sanitas covers the visit only and is accepted by D1 only. Las Palmas: D3, Mondays 09:00-10:00."""
    madrid = CenterFactory(lid="MAD", time_zone="Europe/Madrid")
    canary = CenterFactory(lid="LPA", time_zone="Atlantic/Canary")
    room = LocationFactory(lid="MAD-1", center=madrid)
    visit = ActivityFactory(lid="VIS", name="Visit", duration=30, price=Decimal("50"))
    ecg = ActivityFactory(lid="ECG", name="ECG", duration=15, price=Decimal("30"), web_enabled=False)
    d1 = ResourceFactory(lid="D1", location=room)
    d2 = ResourceFactory(lid="D2", location=room, web_enabled=False)
    d3 = ResourceFactory(lid="D3", location=LocationFactory(lid="LPA-1", center=canary))
    for doctor in (d1, d2, d3):
        ResourceActivityFactory(resource=doctor, activity=visit)
    ResourceActivityFactory(resource=d1, activity=ecg)
    AvailabilityRuleFactory(
        lid="R1",
        resource=d1,
        weekday=Weekday.MONDAY,
        start_time=dt.time(9),
        end_time=dt.time(10),
        activities=[visit, ecg],
    )
    AvailabilityRuleFactory(
        lid="R1b", resource=d1, weekday=Weekday.MONDAY, start_time=dt.time(12), end_time=dt.time(12, 30)
    )
    AvailabilityRuleFactory(
        lid="R1c", resource=d1, weekday=Weekday.TUESDAY, start_time=dt.time(9), end_time=dt.time(10)
    )
    for lid, doctor in (("R2", d2), ("R3", d3)):
        AvailabilityRuleFactory(
            lid=lid, resource=doctor, weekday=Weekday.MONDAY, start_time=dt.time(9), end_time=dt.time(10)
        )
    sanitas = InsuranceFactory(lid="SAN", name="Sanitas", web_enabled=False)
    InsuranceResourceFactory(insurance=sanitas, resource=d1)
    InsuranceActivityFactory(insurance=sanitas, activity=visit, price=Decimal("20"))
    return {
        "madrid": madrid,
        "canary": canary,
        "visit": visit,
        "ecg": ecg,
        "d1": d1,
        "d2": d2,
        "d3": d3,
        "san": sanitas,
    }


# ---------------------------------------------------------------- the desk's free slots


def test_desk_slots_offer_every_activity_of_every_doctor_with_its_own_duration(clinic):
    slots = hospital_slots(resources=[clinic["d1"], clinic["d2"]], first_day=MONDAY, last_day=MONDAY, now=NOW)

    assert times(slots) == [
        "09:00 D1 ECG", "09:00 D1 VIS", "09:00 D2 VIS", "09:15 D1 ECG", "09:30 D1 ECG", "09:30 D1 VIS",
        "09:30 D2 VIS", "09:45 D1 ECG", "12:00 D1 ECG", "12:00 D1 VIS", "12:15 D1 ECG",
    ]  # fmt: skip
    ecg = next(s for s in slots if s.activity.lid == "ECG")
    assert ecg.end - ecg.start == dt.timedelta(minutes=15) and ecg.start.tzinfo == MADRID


def test_desk_slots_agree_with_the_online_search_where_both_apply(clinic):
    online = find_slots(activity=clinic["visit"], start_day=MONDAY, end_day=MONDAY, resource=clinic["d1"], now=NOW)
    desk = hospital_slots(
        resources=[clinic["d1"]], first_day=MONDAY, last_day=MONDAY, activity=clinic["visit"], now=NOW
    )

    assert [(s.lid, s.start, s.end, s.price) for s in desk] == [(s.lid, s.start, s.end, s.price) for s in online]


def test_a_rule_naming_activities_opens_only_those(clinic):
    tuesday = MONDAY + dt.timedelta(days=1)
    AvailabilityRuleFactory(
        lid="R1d",
        resource=clinic["d1"],
        weekday=Weekday.WEDNESDAY,
        start_time=dt.time(9),
        end_time=dt.time(9, 30),
        activities=[clinic["ecg"]],
    )
    slots = hospital_slots(resources=[clinic["d1"]], first_day=tuesday, last_day=tuesday + dt.timedelta(1), now=NOW)

    wednesday = [t for s, t in zip(slots, times(slots), strict=True) if s.start.date() == tuesday + dt.timedelta(1)]
    assert wednesday == ["09:00 D1 ECG", "09:15 D1 ECG"]


def test_desk_slots_leave_out_appointments_absences_holidays_and_the_past(clinic):
    d1, d2, d3 = clinic["d1"], clinic["d2"], clinic["d3"]
    AppointmentFactory(resource=d1, activity=clinic["visit"], start=at(MONDAY, "09:00"), end=at(MONDAY, "09:30"))
    AppointmentFactory(
        resource=d1,
        activity=clinic["visit"],
        start=at(MONDAY, "12:00"),
        end=at(MONDAY, "12:30"),
        status=AppointmentStatus.CANCELLED_BY_USER,
    )
    AbsenceFactory(resource=d2, start=at(MONDAY, "09:30"), end=at(MONDAY, "12:00"))
    AbsenceFactory(
        resource=None, center=clinic["canary"], start=at(MONDAY, "00:00", CANARY), end=at(MONDAY, "23:59", CANARY)
    )
    now = at(MONDAY, "09:40")

    slots = hospital_slots(resources=[d1, d2, d3], first_day=MONDAY, last_day=MONDAY, activity=clinic["visit"], now=NOW)
    later = hospital_slots(resources=[d1, d2, d3], first_day=MONDAY, last_day=MONDAY, activity=clinic["visit"], now=now)

    assert times(slots) == ["09:00 D2 VIS", "09:30 D1 VIS", "12:00 D1 VIS"]
    assert times(later) == ["12:00 D1 VIS"]


def test_a_moved_appointment_frees_its_own_time(clinic):
    held = AppointmentFactory(resource=clinic["d1"], activity=clinic["visit"], start=at(MONDAY, "09:00"))
    kwargs = {
        "resources": [clinic["d1"]],
        "first_day": MONDAY,
        "last_day": MONDAY,
        "activity": clinic["ecg"],
        "now": NOW,
    }

    assert "09:15 D1 ECG" not in times(hospital_slots(**kwargs))
    assert "09:15 D1 ECG" in times(hospital_slots(**kwargs, exclude=held))


def test_with_an_insurance_only_doctors_accepting_it_and_activities_it_covers(clinic):
    slots = hospital_slots(
        resources=[clinic["d1"], clinic["d2"]], first_day=MONDAY, last_day=MONDAY, insurance=clinic["san"], now=NOW
    )

    assert times(slots) == ["09:00 D1 VIS", "09:30 D1 VIS", "12:00 D1 VIS"]
    assert {s.price for s in slots} == {Decimal("20")} and {s.insurance for s in slots} == {clinic["san"]}


def test_the_slots_at_one_time_name_each_activity_free_then(clinic):
    at_nine = hospital_slots_at(resource=clinic["d1"], start=at(MONDAY, "09:00"), now=NOW)
    at_quarter = hospital_slots_at(resource=clinic["d1"], start=at(MONDAY, "09:15"), now=NOW)

    assert times(at_nine) == ["09:00 D1 ECG", "09:00 D1 VIS"]
    assert times(at_quarter) == ["09:15 D1 ECG"]


def test_desk_slots_cost_a_fixed_number_of_queries_whatever_the_doctors(clinic):
    def count(doctors):
        with CaptureQueriesContext(connection) as queries:
            hospital_slots(resources=doctors, first_day=MONDAY, last_day=MONDAY + dt.timedelta(6), now=NOW)
        return len(queries)

    few = count([clinic["d1"]])
    for n in range(12):
        doctor = ResourceFactory(lid=f"X{n}", location=clinic["d1"].location)
        ResourceActivityFactory(resource=doctor, activity=clinic["visit"])
        ResourceActivityFactory(resource=doctor, activity=clinic["ecg"])
        AvailabilityRuleFactory(resource=doctor, weekday=Weekday.MONDAY, start_time=dt.time(9), end_time=dt.time(14))
    many = count(list(Resource.objects.all()))

    assert few == many <= 6  # the version, the kept doctors and activities, offers, rules, busy time


# ---------------------------------------------------------------- the agenda


def test_the_agenda_holds_a_center_day_on_its_own_wall_clock(clinic):
    d3, visit = clinic["d3"], clinic["visit"]
    late = AppointmentFactory(resource=d3, activity=visit, start=at(MONDAY, "23:30", CANARY))  # 00:30 in Madrid
    AppointmentFactory(resource=d3, activity=visit, start=at(MONDAY + dt.timedelta(1), "00:30", CANARY))
    AppointmentFactory(resource=clinic["d1"], activity=visit, start=at(MONDAY, "09:00"))

    agenda = center_agenda(center=clinic["canary"], first_day=MONDAY, last_day=MONDAY, scope=HOSPITAL, now=NOW)

    assert agenda.resources == [d3]
    assert agenda.appointments == [late]
    assert times(agenda.free) == ["09:00 D3 VIS", "09:30 D3 VIS"]


def test_the_agenda_marks_appointments_inside_an_absence_to_be_moved(clinic):
    d1, visit = clinic["d1"], clinic["visit"]
    inside = AppointmentFactory(resource=d1, activity=visit, start=at(MONDAY, "09:00"))
    outside = AppointmentFactory(resource=d1, activity=visit, start=at(MONDAY, "12:00"))
    cancelled = AppointmentFactory(
        resource=clinic["d2"], activity=visit, start=at(MONDAY, "09:00"), status=AppointmentStatus.CANCELLED_BY_ADMIN
    )
    absence = AbsenceFactory(resource=d1, start=at(MONDAY, "08:00"), end=at(MONDAY, "11:00"))

    agenda = center_agenda(
        center=clinic["madrid"],
        first_day=MONDAY,
        last_day=MONDAY,
        scope=HOSPITAL,
        resources=Resource.objects.all(),
        now=NOW,
    )

    assert agenda.to_move == {inside.pk}
    assert set(agenda.appointments) == {inside, outside, cancelled}
    assert agenda.absences == [absence]
    assert [r.lid for r in agenda.resources] == ["D1", "D2"]


# ---------------------------------------------------------------- booking at the desk


@pytest.fixture
def bookable(clinic):
    """The clinic's next Monday two weeks ahead, at 09:00 Madrid."""
    monday = next_weekday(0)
    return {**clinic, "day": monday, "nine": at(monday, "09:00")}


def test_the_desk_books_a_free_slot_for_a_known_patient(bookable):
    patient = PatientFactory()

    booking = book_at_the_desk(
        resource=bookable["d2"],
        activity=bookable["visit"],
        start=bookable["nine"],
        insurance=None,
        patient=patient,
        origin=Origin.PHONE,
        notes="Llamó por teléfono",
    )

    saved = Appointment.objects.get()
    assert booking.created and booking.appointment == saved
    assert (saved.resource, saved.patient, saved.origin, saved.status) == (
        bookable["d2"],
        patient,
        Origin.PHONE,
        AppointmentStatus.APPROVED,
    )
    assert saved.end - saved.start == dt.timedelta(minutes=30) and saved.location == bookable["d2"].location


def test_the_desk_matches_a_described_patient_as_an_online_booking_would(bookable):
    known = PatientFactory(id_number="12345678Z")

    same = book_at_the_desk(
        resource=bookable["d1"],
        activity=bookable["visit"],
        start=bookable["nine"],
        insurance=bookable["san"],
        patient_data=PatientData(first_name="Otro", second_name="Nombre", id_number="12.345.678-z"),
    )
    new = book_at_the_desk(
        resource=bookable["d2"],
        activity=bookable["visit"],
        start=bookable["nine"],
        insurance=None,
        patient_data=PatientData(first_name="Nueva", second_name="Paciente", mobile_phone="600 000 111"),
    )

    assert same.appointment.patient == known and same.appointment.insurance == bookable["san"]
    assert new.appointment.patient.full_name == "Nueva Paciente" and Patient.objects.count() == 2


def test_a_taken_slot_is_refused_in_the_hospitals_words_and_leaves_nothing(bookable):
    AppointmentFactory(resource=bookable["d1"], activity=bookable["visit"], start=bookable["nine"])
    patients = Patient.objects.count()

    with pytest.raises(DomainError) as refused:
        book_at_the_desk(
            resource=bookable["d1"],
            activity=bookable["ecg"],
            start=bookable["nine"] + dt.timedelta(minutes=15),
            insurance=None,
            patient_data=PatientData(first_name="Nadie", second_name="Nuevo"),
        )

    when = local_label(bookable["d1"], bookable["nine"] + dt.timedelta(minutes=15))
    assert refused.value.code == CONFLICT
    assert refused.value.message == said(MSG_SLOT_TAKEN, when=when, resource="D1")
    assert "doctor D1" in refused.value.message
    assert Appointment.objects.count() == 1 and Patient.objects.count() == patients


def test_a_slot_closed_by_an_absence_or_outside_the_hours_is_refused(bookable):
    patient = PatientFactory()
    AbsenceFactory(resource=bookable["d2"], start=bookable["nine"], end=bookable["nine"] + dt.timedelta(hours=1))
    book = {"activity": bookable["visit"], "insurance": None, "patient": patient}

    with pytest.raises(DomainError) as closed:
        book_at_the_desk(resource=bookable["d2"], start=bookable["nine"], **book)
    with pytest.raises(DomainError) as outside:
        book_at_the_desk(resource=bookable["d1"], start=bookable["nine"] + dt.timedelta(hours=5), **book)

    assert closed.value.message == said(
        MSG_SLOT_CLOSED, when=local_label(bookable["d2"], bookable["nine"]), resource="D2"
    )
    assert outside.value.message == said(
        MSG_SLOT_NOT_OFFERED,
        when=local_label(bookable["d1"], bookable["nine"] + dt.timedelta(hours=5)),
        resource="D1",
        activity="VIS",
    )
    assert not Appointment.objects.exists()


def test_booking_again_the_slot_a_patient_holds_gives_the_same_appointment(bookable):
    patient = PatientFactory()
    book = {"resource": bookable["d1"], "activity": bookable["visit"], "start": bookable["nine"], "insurance": None}

    first = book_at_the_desk(**book, patient=patient)
    again = book_at_the_desk(**book, patient=patient)

    assert first.created and not again.created and again.appointment == first.appointment
    assert Appointment.objects.count() == 1


def test_the_hospital_books_what_an_integration_client_is_not_offered(bookable):
    client, _secret = create_integration_client(name="web")
    phone_only = {"resource": bookable["d1"], "activity": bookable["ecg"]}  # ECG is not web-enabled
    desk_only = {"resource": bookable["d2"], "activity": bookable["visit"]}  # D2 is not web-enabled
    when = {"start": bookable["nine"], "insurance": None}

    for slot in (phone_only, desk_only):
        with pytest.raises(DomainError) as refused:
            book_appointment(
                **slot, **when, patient_data=PatientData(first_name="Web", second_name="User"), scope=scope_of(client)
            )
        assert refused.value.code == CONFLICT and "is not offered for" in refused.value.message
    assert not Appointment.objects.exists() and not Patient.objects.exists()

    booked = [
        book_at_the_desk(**slot, **when, patient=PatientFactory()).appointment for slot in (phone_only, desk_only)
    ]

    assert [(a.resource.lid, a.activity.lid, a.origin) for a in booked] == [
        ("D1", "ECG", "DESK"),
        ("D2", "VIS", "DESK"),
    ]


def test_a_slot_closed_by_a_holiday_is_refused_online_in_the_same_words(bookable):
    client, _secret = create_integration_client(name="web")
    AbsenceFactory(resource=None, center=bookable["madrid"], start=bookable["nine"], end=at(bookable["day"], "23:00"))

    with pytest.raises(DomainError) as refused:
        book_appointment(
            resource=bookable["d1"],
            activity=bookable["visit"],
            start=bookable["nine"],
            insurance=None,
            patient_data=PatientData(first_name="Web", second_name="User"),
            scope=scope_of(client),
        )

    when = local_label(bookable["d1"], bookable["nine"])
    assert refused.value.message == said(MSG_SLOT_CLOSED, when=when, resource="D1")
    assert not Appointment.objects.exists() and not Patient.objects.exists()


# ---------------------------------------------------------------- moving, cancelling, closing


def test_an_appointment_moves_to_another_doctors_free_slot_with_that_slots_length(bookable):
    ResourceActivityFactory(resource=bookable["d2"], activity=bookable["ecg"], duration=20)
    held = AppointmentFactory(resource=bookable["d1"], activity=bookable["ecg"], start=bookable["nine"])

    moved = move_to_free_slot(appointment=held, resource=bookable["d2"], start=bookable["nine"], scope=HOSPITAL)

    held.refresh_from_db()
    assert held.resource == bookable["d2"] and held.start == bookable["nine"]
    assert held.end - held.start == dt.timedelta(minutes=20) and moved.location == bookable["d2"].location


def test_an_appointment_moves_by_less_than_its_length_on_the_same_doctor(bookable):
    Resource.objects.filter(pk=bookable["d1"].pk).update(availabilities_step=15)
    quarter_past = bookable["nine"] + dt.timedelta(minutes=15)
    held = AppointmentFactory(resource=bookable["d1"], activity=bookable["visit"], start=quarter_past)

    move_to_free_slot(appointment=held, resource=bookable["d1"], start=bookable["nine"], scope=HOSPITAL)

    held.refresh_from_db()
    assert (held.start, held.end) == (bookable["nine"], bookable["nine"] + dt.timedelta(minutes=30))


def test_a_move_onto_a_taken_slot_or_of_a_cancelled_appointment_is_refused(bookable):
    held = AppointmentFactory(resource=bookable["d1"], activity=bookable["visit"], start=bookable["nine"])
    AppointmentFactory(resource=bookable["d2"], activity=bookable["visit"], start=bookable["nine"])
    gone = AppointmentFactory(
        resource=bookable["d1"],
        activity=bookable["visit"],
        start=bookable["nine"] + dt.timedelta(minutes=30),
        status=AppointmentStatus.CANCELLED_BY_USER,
    )

    with pytest.raises(DomainError) as taken:
        move_to_free_slot(appointment=held, resource=bookable["d2"], start=bookable["nine"], scope=HOSPITAL)
    with pytest.raises(DomainError) as cancelled:
        move_to_free_slot(
            appointment=gone, resource=bookable["d2"], start=bookable["nine"] + dt.timedelta(minutes=30), scope=HOSPITAL
        )

    assert taken.value.message == said(
        MSG_SLOT_TAKEN, when=local_label(bookable["d2"], bookable["nine"]), resource="D2"
    )
    assert cancelled.value.message == said(MSG_CANCELLED_CANNOT_MOVE, app=gone.lid)
    held.refresh_from_db()
    assert held.resource == bookable["d1"]


def test_the_desk_cancels_by_admin_or_on_the_patients_word_even_after_the_start(bookable):
    past = AppointmentFactory(
        resource=bookable["d1"], activity=bookable["visit"], start=timezone.now() - dt.timedelta(hours=2)
    )
    future = AppointmentFactory(resource=bookable["d1"], activity=bookable["visit"], start=bookable["nine"])

    cancel_appointment(appointment=past, by_admin=True, allow_past=True)
    cancel_appointment(appointment=future, by_admin=False, allow_past=True)
    again = cancel_appointment(appointment=past, by_admin=False, allow_past=True)

    past.refresh_from_db()
    future.refresh_from_db()
    assert past.status == AppointmentStatus.CANCELLED_BY_ADMIN and past.cancelled_at is not None
    assert future.status == AppointmentStatus.CANCELLED_BY_USER
    assert again.status == AppointmentStatus.CANCELLED_BY_ADMIN  # a cancelled appointment stays as it was


def test_a_cancellation_decides_on_the_appointment_as_stored_not_as_a_page_saw_it(bookable):
    held = AppointmentFactory(resource=bookable["d1"], activity=bookable["visit"], start=bookable["nine"])
    seen_by_the_desk = Appointment.objects.get(pk=held.pk)  # loaded before the patient cancelled online
    cancel_appointment(appointment=held, by_admin=False)

    again = cancel_appointment(appointment=seen_by_the_desk, by_admin=True, allow_past=True)

    held.refresh_from_db()
    assert held.status == AppointmentStatus.CANCELLED_BY_USER
    assert again.status == AppointmentStatus.CANCELLED_BY_USER and again.cancelled_at == held.cancelled_at


def test_an_appointment_cancelled_meanwhile_is_not_moved_back_to_life(bookable):
    held = AppointmentFactory(resource=bookable["d1"], activity=bookable["visit"], start=bookable["nine"])
    seen_by_the_desk = Appointment.objects.get(pk=held.pk)
    cancel_appointment(appointment=held, by_admin=False)

    with pytest.raises(DomainError) as refused:
        move_to_free_slot(appointment=seen_by_the_desk, resource=bookable["d2"], start=bookable["nine"], scope=HOSPITAL)

    held.refresh_from_db()
    assert refused.value.message == said(MSG_CANCELLED_CANNOT_MOVE, app=held.lid)
    assert (held.status, held.resource) == (AppointmentStatus.CANCELLED_BY_USER, bookable["d1"])


def test_a_holiday_closes_the_center_and_lists_every_doctors_appointments_then(bookable):
    day, visit = bookable["day"], bookable["visit"]
    one = AppointmentFactory(resource=bookable["d1"], activity=visit, start=bookable["nine"])
    two = AppointmentFactory(resource=bookable["d2"], activity=visit, start=bookable["nine"])
    AppointmentFactory(resource=bookable["d3"], activity=visit, start=at(day, "09:00", CANARY))
    AppointmentFactory(
        resource=bookable["d1"],
        activity=visit,
        start=bookable["nine"] + dt.timedelta(minutes=30),
        status=AppointmentStatus.CANCELLED_BY_USER,
    )

    holiday = mark_absence(
        center=bookable["madrid"], start=at(day, "00:00"), end=at(day + dt.timedelta(1), "00:00"), reason=" Fiesta "
    )

    assert Absence.objects.get() == holiday and holiday.reason == "Fiesta"
    assert appointments_during(absence=holiday) == [one, two]
    assert hospital_slots(resources=[bookable["d1"], bookable["d2"]], first_day=day, last_day=day) == []


def test_an_absence_needs_one_doctor_or_one_center_and_an_end_after_its_start(bookable):
    start = bookable["nine"]
    cases = [
        ({"resource": bookable["d1"], "center": bookable["madrid"], "end": start + dt.timedelta(1)}, MSG_ABSENCE_WHO),
        ({"end": start + dt.timedelta(1)}, MSG_ABSENCE_WHO),
        ({"resource": bookable["d1"], "end": start}, MSG_ABSENCE_END),
    ]
    for kwargs, message in cases:
        with pytest.raises(DomainError) as refused:
            mark_absence(start=start, **kwargs)
        assert refused.value.code == INVALID_INPUT and refused.value.message == message
    assert not Absence.objects.exists()
