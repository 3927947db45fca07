"""Booking, cancelling, moving and closing from the desk, through the domain's services: the answer the
clerk sees, and the database afterwards."""

import datetime as dt
import re
from html import unescape

import pytest
from django.contrib.messages import get_messages

from appointments.models import Absence, Appointment, AppointmentStatus, Origin
from appointments.services import MSG_SLOT_NOT_OFFERED_INSURED, MSG_SLOT_TAKEN, local_label
from demo.factories import AppointmentFactory, PatientFactory
from desk.forms import MSG_CHOOSE_PATIENT
from desk.views import MSG_POSSIBLE_DUPLICATES
from patients.models import DuplicateStatus, Patient, PossibleDuplicate
from patients.services import MSG_NAME_REQUIRED, REASON_REGISTERED_ANYWAY
from tests.desk.conftest import at, ddmmyyyy, desk_slots_at, desk_url
from tests.messages import said


def slot_of(clinic, doctor: str, hh_mm: str, activity: str = "visit"):
    return desk_slots_at(clinic[doctor], at(clinic["day"], hh_mm), clinic[activity])[0]


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def day_of(clinic) -> str:
    return desk_url("day", center="MAD", date=ddmmyyyy(clinic["day"]))


@pytest.fixture
def lucia(clinic):
    return PatientFactory(
        lid="P50", first_name="Lucía", second_name="Martín", third_name="", id_number="12345678Z",
        mobile_phone="+34 600 111 222", date_of_birth=dt.date(1985, 3, 12),
    )  # fmt: skip


# ---------------------------------------------------------------- booking


def test_the_booking_page_names_the_slot_and_finds_patients(desk, clinic, lucia):
    slot = slot_of(clinic, "d1", "09:00")

    response = desk.get(desk_url("book", slot=slot.lid, q="600111222", back=day_of(clinic)))

    content = unescape(response.content.decode())
    assert response.status_code == 200
    assert f"Book {clinic['day']:%A} {ddmmyyyy(clinic['day'])} at 09:00" in content
    assert 'value="P50"' in content and "Lucía Martín" in content
    assert re.search(r'<option value="VIS" selected>Visita \(VIS\)</option>', content)
    assert '<option value="ECG">Electrocardiograma (ECG)</option>' in content  # also free at 09:00
    assert '<option value="SAN">Sanitas (SAN)</option>' in content


def test_a_clerk_books_a_free_slot_for_a_patient_found_by_phone(desk, clinic, lucia):
    slot = slot_of(clinic, "d1", "09:00")

    response = desk.post(
        desk_url("book"),
        {"slot": slot.lid, "activity": "VIS", "insurance": "SAN", "origin": "PHONE", "notes": "Llamó",
         "patient": "P50", "back": day_of(clinic)},
    )  # fmt: skip

    saved = Appointment.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{day_of(clinic)}#app-{saved.lid}"
    assert (saved.patient, saved.resource, saved.activity, saved.insurance) == (lucia, clinic["d1"], clinic["visit"],
                                                                                 clinic["san"])  # fmt: skip
    assert (saved.start, saved.origin, saved.notes) == (slot.start, Origin.PHONE, "Llamó")
    assert messages_of(response) == [
        f"Booked: {ddmmyyyy(clinic['day'])} 09:00 with Ana García (D1), Visita, for Lucía Martín (P50)."
    ]
    day = desk.get(response["Location"])
    assert f'id="app-{saved.lid}"' in day.content.decode()


def test_a_new_patient_is_registered_with_the_booking(desk, clinic):
    slot = slot_of(clinic, "d2", "10:00")

    response = desk.post(
        desk_url("book"),
        {"slot": slot.lid, "activity": "VIS", "origin": "DESK", "patient": "new", "first_name": "Eva",
         "second_name": "Ruiz", "date_of_birth": "02/01/1990", "mobile_phone": "611 222 333"},
    )  # fmt: skip

    assert response.status_code == 302
    patient = Appointment.objects.get().patient
    assert (patient.full_name, patient.date_of_birth, patient.mobile_phone) == (
        "Eva Ruiz", dt.date(1990, 1, 2), "611 222 333",
    )  # fmt: skip


def test_a_probable_match_is_shown_before_registering_and_kept_as_a_possible_duplicate(desk, clinic, lucia):
    slot = slot_of(clinic, "d2", "10:00")
    # What an online booking would take for Lucía: the same name, date of birth and mobile phone.
    body = {"slot": slot.lid, "activity": "VIS", "origin": "DESK", "patient": "new", "first_name": "lucia",
            "second_name": "MARTIN", "date_of_birth": "12/03/1985", "mobile_phone": "600 111 222"}  # fmt: skip

    warned = desk.post(desk_url("book"), body)

    assert warned.status_code == 400
    assert str(MSG_POSSIBLE_DUPLICATES) in unescape(warned.content.decode())
    assert 'name="patient" value="P50"' in warned.content.decode()
    assert not Appointment.objects.exists() and not PossibleDuplicate.objects.exists()

    booked = desk.post(desk_url("book"), {**body, "register_anyway": "on"})

    assert booked.status_code == 302
    newcomer = Appointment.objects.get().patient
    assert newcomer != lucia and Patient.objects.count() == 2
    pair = PossibleDuplicate.objects.get()
    assert (pair.patient, pair.other, pair.status, pair.reason) == (
        newcomer, lucia, DuplicateStatus.OPEN, REASON_REGISTERED_ANYWAY,
    )  # fmt: skip


def test_choosing_the_probable_match_books_for_that_patient(desk, clinic, lucia):
    slot = slot_of(clinic, "d2", "10:00")

    response = desk.post(desk_url("book"), {"slot": slot.lid, "activity": "VIS", "origin": "DESK", "patient": "P50"})

    assert response.status_code == 302
    assert Appointment.objects.get().patient == lucia
    assert Patient.objects.count() == 1 and not PossibleDuplicate.objects.exists()


def test_someone_who_only_shares_a_name_and_birth_date_is_registered_without_a_warning(desk, clinic, lucia):
    slot = slot_of(clinic, "d2", "10:00")

    response = desk.post(
        desk_url("book"),
        {"slot": slot.lid, "activity": "VIS", "origin": "DESK", "patient": "new", "first_name": "Lucía",
         "second_name": "Martín", "date_of_birth": "12/03/1985"},
    )  # fmt: skip

    # Matching needs a mobile phone or an email besides: the desk warns by the rule online bookings match by.
    assert response.status_code == 302
    assert Appointment.objects.get().patient != lucia
    assert Patient.objects.count() == 2 and not PossibleDuplicate.objects.exists()


def test_a_booking_without_a_chosen_patient_or_a_name_says_what_is_missing(desk, clinic):
    slot = slot_of(clinic, "d2", "10:00")

    unchosen = desk.post(desk_url("book"), {"slot": slot.lid, "activity": "VIS", "origin": "DESK"})
    nameless = desk.post(desk_url("book"), {"slot": slot.lid, "activity": "VIS", "origin": "DESK", "patient": "new",
                                            "register_anyway": "on"})  # fmt: skip

    assert unchosen.status_code == 400 and str(MSG_CHOOSE_PATIENT) in unescape(unchosen.content.decode())
    assert nameless.status_code == 400 and said(MSG_NAME_REQUIRED) in unescape(nameless.content.decode())
    assert "USER_FIRST_NAME" not in nameless.content.decode()
    assert not Appointment.objects.exists() and not Patient.objects.exists()


def test_a_slot_taken_meanwhile_gives_a_plain_sentence_and_the_refreshed_day(desk, clinic, lucia):
    slot = slot_of(clinic, "d1", "09:00")
    desk.get(desk_url("book", slot=slot.lid))  # the clerk opens the form...
    other = AppointmentFactory(
        resource=clinic["d1"], activity=clinic["visit"], start=slot.start, origin=Origin.ONLINE
    )  # fmt: skip  ... and tuOtempO books the slot

    response = desk.post(
        desk_url("book"),
        {"slot": slot.lid, "activity": "VIS", "origin": "DESK", "patient": "P50", "back": day_of(clinic)},
        follow=True,
    )

    expected = said(MSG_SLOT_TAKEN, when=local_label(clinic["d1"], slot.start), resource="D1")
    assert response.redirect_chain == [(day_of(clinic), 302)]
    assert f"S{expected[1:]}" in unescape(response.content.decode())  # capitalised: a sentence
    assert f'id="app-{other.lid}"' in response.content.decode()
    assert list(Appointment.objects.all()) == [other]


def test_opening_a_slot_that_is_no_longer_free_returns_to_the_day(desk, clinic):
    slot = slot_of(clinic, "d1", "09:00")
    AppointmentFactory(resource=clinic["d1"], activity=clinic["visit"], start=slot.start)

    response = desk.get(desk_url("book", slot=slot.lid, back=day_of(clinic)))

    assert response.status_code == 302 and response["Location"] == day_of(clinic)
    assert messages_of(response) == [
        f"S{said(MSG_SLOT_TAKEN, when=local_label(clinic['d1'], slot.start), resource='D1')[1:]}"
    ]


@pytest.mark.parametrize("back", ["https://evil.example/desk/", "//evil.example/", "/admin/"])
def test_the_page_to_return_to_is_a_desk_page(desk, clinic, lucia, back):
    slot = slot_of(clinic, "d1", "09:00")

    response = desk.post(desk_url("book"), {"slot": slot.lid, "activity": "VIS", "origin": "DESK", "patient": "P50",
                                            "back": back})  # fmt: skip

    assert response.status_code == 302 and response["Location"].startswith("/desk/?center=MAD&date=")


def test_an_unknown_slot_is_not_found(desk, clinic):
    assert desk.get(desk_url("book", slot="20990101T0900Z-999-999")).status_code == 404
    assert desk.get(desk_url("book", slot="garbage")).status_code == 404


# ---------------------------------------------------------------- cancelling and moving


@pytest.fixture
def held(clinic, lucia):
    return AppointmentFactory(resource=clinic["d1"], activity=clinic["visit"], patient=lucia,
                              start=at(clinic["day"], "09:00"))  # fmt: skip


@pytest.mark.parametrize(
    ("reason", "status", "words"),
    [("admin", AppointmentStatus.CANCELLED_BY_ADMIN, "by the hospital"),
     ("user", AppointmentStatus.CANCELLED_BY_USER, "at the patient's request")],
)  # fmt: skip
def test_a_clerk_cancels_with_the_reason(desk, clinic, held, reason, status, words):
    response = desk.post(desk_url("cancel", held.lid), {"reason": reason, "back": day_of(clinic)})

    held.refresh_from_db()
    assert held.status == status and held.cancelled_at is not None
    assert response["Location"] == f"{day_of(clinic)}#app-{held.lid}"
    assert messages_of(response) == [
        f"Appointment {held.lid} ({ddmmyyyy(clinic['day'])} 09:00, Lucía Martín (P50)) is cancelled {words}; "
        "its slot can be booked again."
    ]


def test_cancelling_a_cancelled_appointment_changes_nothing(desk, clinic, held):
    desk.post(desk_url("cancel", held.lid), {"reason": "user"})
    response = desk.post(desk_url("cancel", held.lid), {"reason": "admin"})

    held.refresh_from_db()
    assert held.status == AppointmentStatus.CANCELLED_BY_USER
    assert messages_of(response)[-1] == f"Appointment {held.lid} was already cancelled: nothing changed."


def test_a_bad_reason_is_refused(desk, clinic, held):
    response = desk.post(desk_url("cancel", held.lid), {"reason": "because"})

    held.refresh_from_db()
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert held.status == AppointmentStatus.APPROVED


def test_the_move_page_lists_free_slots_of_every_doctor_for_the_activity(desk, clinic, held):
    response = desk.get(desk_url("move", held.lid))

    content = response.content.decode()
    assert response.status_code == 200
    assert "Ana García (D1)" in content and "Luis Pérez (D2)" in content
    assert f'value="{slot_of(clinic, "d2", "09:00").lid}"' in content
    assert f'value="{slot_of(clinic, "d1", "09:30").lid}"' in content


def test_a_clerk_moves_an_appointment_to_another_doctor(desk, clinic, held):
    target = slot_of(clinic, "d2", "10:00")

    response = desk.post(desk_url("move", held.lid), {"slot": target.lid})

    held.refresh_from_db()
    assert (held.resource, held.start, held.end) == (clinic["d2"], target.start, target.end)
    assert response["Location"] == f"{day_of(clinic)}#app-{held.lid}"
    assert messages_of(response) == [
        f"Appointment {held.lid} (Lucía Martín (P50)) moved to {ddmmyyyy(clinic['day'])} 10:00 with Luis Pérez (D2)."
    ]


def test_a_move_onto_a_slot_taken_meanwhile_is_refused_and_the_slots_refreshed(desk, clinic, held):
    target = slot_of(clinic, "d2", "10:00")
    AppointmentFactory(resource=clinic["d2"], activity=clinic["visit"], start=target.start)

    response = desk.post(desk_url("move", held.lid), {"slot": target.lid}, follow=True)

    held.refresh_from_db()
    assert held.resource == clinic["d1"] and held.start == at(clinic["day"], "09:00")
    expected = said(MSG_SLOT_TAKEN, when=local_label(clinic["d2"], target.start), resource="D2")
    assert f"S{expected[1:]}" in unescape(response.content.decode())
    assert f'value="{target.lid}"' not in response.content.decode()


def test_a_slot_of_another_activity_is_refused_for_a_move(desk, clinic, held):
    ecg = slot_of(clinic, "d1", "10:00", activity="ecg")

    response = desk.post(desk_url("move", held.lid), {"slot": ecg.lid}, follow=True)

    held.refresh_from_db()
    assert held.start == at(clinic["day"], "09:00")
    assert "That slot is for another activity" in response.content.decode()


# ---------------------------------------------------------------- absences and holidays


def test_a_doctors_absence_lists_the_appointments_to_move(desk, clinic, held):
    day = ddmmyyyy(clinic["day"])

    response = desk.post(
        desk_url("absence-new", center="MAD"),
        {"doctor": "D1", "first_day": day, "start_time": "08:30", "last_day": day, "end_time": "10:00",
         "reason": "Congreso <b>"},
    )  # fmt: skip

    absence = Absence.objects.get()
    assert (absence.resource, absence.center, absence.reason) == (clinic["d1"], None, "Congreso <b>")
    assert (absence.start, absence.end) == (at(clinic["day"], "08:30"), at(clinic["day"], "10:00"))
    assert response["Location"] == desk_url("absence", absence.pk)
    page = desk.get(response["Location"])
    content = page.content.decode()
    assert f'id="app-{held.lid}"' in content and f"/desk/appointments/{held.lid}/move/" in content
    assert "Congreso &lt;b&gt;" in content


def test_a_holiday_closes_the_whole_center_for_whole_days(desk, clinic, held):
    first, last = clinic["day"], clinic["day"] + dt.timedelta(days=1)

    desk.post(desk_url("absence-new", center="MAD"), {"first_day": ddmmyyyy(first), "last_day": ddmmyyyy(last),
                                                      "reason": "Fiestas"})  # fmt: skip

    holiday = Absence.objects.get()
    assert (holiday.center, holiday.resource) == (clinic["madrid"], None)
    assert (holiday.start, holiday.end) == (at(first, "00:00"), at(last + dt.timedelta(days=1), "00:00"))
    day = desk.get(day_of(clinic))
    assert 'class="free" href' not in day.content.decode() and "Holiday" in day.content.decode()


def test_an_absence_that_ends_before_it_starts_is_refused(desk, clinic):
    day = ddmmyyyy(clinic["day"])

    url = desk_url("absence-new", center="MAD")
    same_day = desk.post(url, {"doctor": "D1", "first_day": day, "start_time": "10:00", "last_day": day,
                               "end_time": "09:00"})  # fmt: skip
    backwards = desk.post(url, {"first_day": day, "last_day": "01/01/2020"})

    assert same_day.status_code == 400 and "The absence must end after it starts." in same_day.content.decode()
    assert backwards.status_code == 400 and "The last day cannot be before the first day." in backwards.content.decode()
    assert not Absence.objects.exists()


def test_a_doctor_of_another_center_cannot_be_closed_from_this_one(desk, clinic):
    day = ddmmyyyy(clinic["day"])

    response = desk.post(desk_url("absence-new", center="MAD"), {"doctor": "D3", "first_day": day, "last_day": day})

    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert not Absence.objects.exists()


def test_an_insurance_that_does_not_cover_the_activity_is_refused_on_the_form(desk, clinic, lucia):
    slot = slot_of(clinic, "d1", "09:00", activity="ecg")

    response = desk.post(desk_url("book"), {"slot": slot.lid, "activity": "ECG", "insurance": "SAN", "origin": "DESK",
                                            "patient": "P50"})  # fmt: skip

    assert response.status_code == 400
    expected = said(MSG_SLOT_NOT_OFFERED_INSURED, when=local_label(clinic["d1"], slot.start), resource="D1",
                    activity="ECG", insurance="SAN")  # fmt: skip
    assert f"S{expected[1:]}" in unescape(response.content.decode())
    assert not Appointment.objects.exists()
