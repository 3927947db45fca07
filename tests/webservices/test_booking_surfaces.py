"""The booking methods, scenario by scenario, through zeep against a live server and over REST."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from appointments.models import Appointment, AppointmentStatus, Resource
from appointments.selectors import MSG_REMINDER_WINDOW
from appointments.services import reschedule_appointment
from demo.factories import (
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
from patients.models import Patient
from patients.selectors import MSG_WRONG_PATTERN
from tests.messages import wire
from tuotempo.formats import MSG_BAD_DATE

pytestmark = pytest.mark.live

MADRID = timezone.get_fixed_timezone(0)  # replaced below by the center's zone


def future_day(days=14) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)


def ddmmyyyy(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


@pytest.fixture
def clinic(db):
    """One Madrid doctor offering a 30-minute visit 09:00-13:00 every day, accepting Sanitas."""
    center = CenterFactory(lid="MAD", time_zone="Europe/Madrid")
    other = CenterFactory(lid="LPA", time_zone="Atlantic/Canary")
    doctor = ResourceFactory(
        lid="D1", first_name="Ana", second_name="García", location=LocationFactory(lid="MAD-1", center=center)
    )
    visit = ActivityFactory(lid="V1", name="Visita", duration=30, price=Decimal("50"))
    ResourceActivityFactory(resource=doctor, activity=visit)
    sanitas = InsuranceFactory(lid="SAN")
    InsuranceResourceFactory(insurance=sanitas, resource=doctor)
    InsuranceActivityFactory(insurance=sanitas, activity=visit, price=Decimal("20"))
    for weekday in range(7):
        AvailabilityRuleFactory(
            lid=f"R{weekday}", resource=doctor, weekday=weekday, start_time=dt.time(9), end_time=dt.time(13)
        )
    far = ResourceFactory(lid="D2", location=LocationFactory(lid="LPA-1", center=other))
    ResourceActivityFactory(resource=far, activity=visit)
    AvailabilityRuleFactory(lid="RL", resource=far, weekday=1, start_time=dt.time(9), end_time=dt.time(10))
    return {"center": center, "doctor": doctor, "visit": visit}


PATIENT = {
    "USER_FIRST_NAME": "Lucía", "USER_SECOND_NAME": "Martín", "USER_THIRD_NAME": "Ruiz", "USER_GENDER": "F",
    "USER_DATE_OF_BIRTH": "12/03/1985", "USER_MOBILE_PHONE": "+34 600 111 222", "USER_EMAIL": "lucia@example.org",
    "USER_ID_NUMBER": "12345678Z",
}  # fmt: skip
OTHER_PATIENT = {"USER_FIRST_NAME": "Pedro", "USER_SECOND_NAME": "López", "USER_MOBILE_PHONE": "600999888"}


def search(surface, creds, day, **extra):
    params = {"ACTIVITY_LID": "V1", "AVA_START_DAY": ddmmyyyy(day), "AVA_END_DAY": ddmmyyyy(day), **extra}
    return surface.call("searchAvailabilities", params, authorization=creds.basic())


def test_search_book_retry_conflict_check_list_cancel_and_offer_again(surface, clinic, creds):
    day = future_day()
    found = search(surface, creds, day, RESOURCE_LID="D1")
    assert found.ok
    assert [s["AVA_START_TIME"] for s in found.payload] == [
        "09:00",
        "09:30",
        "10:00",
        "10:30",
        "11:00",
        "11:30",
        "12:00",
        "12:30",
    ]
    first = found.payload[0]
    assert first | {"AVAILABILITY_LID": None} == {
        "RESOURCE_LID": "D1", "ACTIVITY_LID": "V1", "INSURANCE_LID": None, "LOCATION_LID": "MAD-1",
        "AVA_DATE": ddmmyyyy(day), "AVA_START_TIME": "09:00", "AVA_END_TIME": "09:30", "AVAILABILITY_LID": None,
        "ACTIVITY_PRICE": "50.00",
    }  # fmt: skip

    booked = surface.call(
        "addAppointment", {"AVAILABILITY_LID": first["AVAILABILITY_LID"], **PATIENT}, authorization=creds.basic()
    )
    assert booked.ok and booked.payload["ADD_RESULT"] == "OK" and booked.payload["ERROR_MESSAGE"] is None
    app_lid, user_lid = booked.payload["APP_LID"], booked.payload["USER_LID"]
    appointment = Appointment.objects.get(lid=app_lid)
    assert appointment.patient.lid == user_lid and appointment.patient.id_number == "12345678Z"
    assert timezone.localtime(appointment.start, clinic["center"].zone).time() == dt.time(9, 0)

    retried = surface.call(
        "addAppointment",
        {"AVAILABILITY_LID": first["AVAILABILITY_LID"], "USER_LID": user_lid},
        authorization=creds.basic(),
    )
    assert retried.ok and (retried.payload["APP_LID"], retried.payload["USER_LID"]) == (app_lid, user_lid)
    assert Appointment.objects.count() == 1

    taken = surface.call(
        "addAppointment", {"AVAILABILITY_LID": first["AVAILABILITY_LID"], **OTHER_PATIENT}, authorization=creds.basic()
    )
    assert not taken.ok and taken.payload["ADD_RESULT"] == "ERROR"
    assert "09:00" in taken.payload["ERROR_MESSAGE"] and "D1" in taken.payload["ERROR_MESSAGE"]
    assert taken.payload["APP_LID"] is None
    if surface.name == "rest":
        assert (taken.status, taken.code) == (409, "CONFLICT")
    assert Appointment.objects.count() == 1 and Patient.objects.count() == 1  # nobody registered for nothing

    checked = surface.call("checkAppointment", {"APP_LID": app_lid}, authorization=creds.basic())
    assert checked.payload == {
        "APP_LID": app_lid, "STATUS": "Confirmed", "APP_DATE": ddmmyyyy(day), "APP_START_TIME": "09:00",
        "APP_END_TIME": "09:30", "USER_LID": user_lid, "USER_TID": None, "USER_MOBILE_PHONE": "+34 600 111 222",
        "USER_EMAIL": "lucia@example.org", "USER_INSURANCE_LID": None, "RESOURCE_LID": "D1", "ACTIVITY_LID": "V1",
    }  # fmt: skip

    listed = surface.call("getAppointments", {"USER_LID": user_lid}, authorization=creds.basic())
    assert [(a["APP_LID"], a["STATUS"], a["ACTIVITY_NAME"], a["RESOURCE_FIRST_NAME"]) for a in listed.payload] == [
        (app_lid, "Confirmed", "Visita", "Ana")
    ]
    stamp = timezone.now().isoformat()  # ISO 8601 with an offset; a wall-clock stamp works too (below)
    unchanged = surface.call(
        "getAppointments", {"USER_LID": user_lid, "LAST_REQUEST_TIMESTAMP": stamp}, authorization=creds.basic()
    )
    assert unchanged.ok and unchanged.payload == []

    cancelled = surface.call("deleteAppointment", {"APP_LID": app_lid}, authorization=creds.basic())
    assert cancelled.payload == {"DELETE_RESULT": "OK", "ERROR_MESSAGE": None, "APP_LID": app_lid}
    assert Appointment.objects.get(lid=app_lid).status == AppointmentStatus.CANCELLED_BY_USER
    changed = surface.call(
        "getAppointments", {"USER_LID": user_lid, "LAST_REQUEST_TIMESTAMP": stamp}, authorization=creds.basic()
    )
    assert [(a["APP_LID"], a["STATUS"]) for a in changed.payload] == [(app_lid, "Cancelled")]
    assert surface.call("checkAppointment", {"APP_LID": app_lid}, authorization=creds.basic()).payload["STATUS"] == (
        "Cancelled"
    )

    again = search(surface, creds, day, RESOURCE_LID="D1")
    assert again.payload[0]["AVAILABILITY_LID"] == first["AVAILABILITY_LID"]  # stable, and free again
    rebooked = surface.call(
        "addAppointment", {"AVAILABILITY_LID": first["AVAILABILITY_LID"], **OTHER_PATIENT}, authorization=creds.basic()
    )
    assert rebooked.ok and rebooked.payload["APP_LID"] != app_lid


def test_book_by_resource_activity_date_and_time(surface, clinic, creds):
    day = future_day(15)
    params = {
        "RESOURCE_LID": "D1",
        "ACTIVITY_LID": "V1",
        "APP_DATE": day.isoformat(),
        "APP_START_TIME": "10:30",
        "INSURANCE_LID": "SAN",
        **PATIENT,
    }
    booked = surface.call("addAppointment", params, authorization=creds.basic())
    assert booked.ok, booked
    appointment = Appointment.objects.get(lid=booked.payload["APP_LID"])
    assert appointment.insurance.lid == "SAN"
    assert timezone.localtime(appointment.start, clinic["center"].zone) == dt.datetime.combine(
        day, dt.time(10, 30), clinic["center"].zone
    )


def test_a_slot_named_two_ways_must_agree(surface, clinic, creds):
    day = future_day()
    slot = search(surface, creds, day).payload[0]
    refused = surface.call(
        "addAppointment",
        {"AVAILABILITY_LID": slot["AVAILABILITY_LID"], "APP_START_TIME": "11:00", **PATIENT},
        authorization=creds.basic(),
    )
    assert not refused.ok and "APP_START_TIME" in refused.payload["ERROR_MESSAGE"]
    assert Appointment.objects.count() == 0 and Patient.objects.count() == 0


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"RESOURCE_LID": "D1", "ACTIVITY_LID": "V1", "APP_START_TIME": "10:00"}, "APP_DATE"),
        ({"AVAILABILITY_LID": "garbage"}, "AVAILABILITY_LID"),
        ({"RESOURCE_LID": "D1", "ACTIVITY_LID": "V1", "APP_DATE": "+14", "APP_START_TIME": "10:07"}, "not offered"),
        ({"RESOURCE_LID": "D1", "ACTIVITY_LID": "V1", "APP_DATE": "+14", "APP_START_TIME": "18:00"}, "not offered"),
        ({"RESOURCE_LID": "D1", "ACTIVITY_LID": "V1", "APP_DATE": "-1", "APP_START_TIME": "10:00"}, "not offered"),
        ({"RESOURCE_LID": "NOPE", "ACTIVITY_LID": "V1", "APP_DATE": "+14", "APP_START_TIME": "10:00"}, "NOPE"),
        (
            {
                "RESOURCE_LID": "D1",
                "ACTIVITY_LID": "V1",
                "APP_DATE": "+14",
                "APP_START_TIME": "10:00",
                "USER_GENDER": "X",
            },
            "USER_GENDER",
        ),
    ],
    ids=["missing date", "bad slot id", "off-step", "outside rule", "past", "unknown resource", "bad gender"],
)
def test_a_booking_that_cannot_be_made_says_why_and_leaves_nothing(surface, clinic, creds, params, fragment):
    if "APP_DATE" in params:
        params = params | {"APP_DATE": ddmmyyyy(timezone.localdate() + dt.timedelta(days=int(params["APP_DATE"])))}
    outcome = surface.call("addAppointment", {**PATIENT, **params}, authorization=creds.basic())
    assert not outcome.ok and outcome.payload["ADD_RESULT"] == "ERROR"
    assert fragment in outcome.payload["ERROR_MESSAGE"]
    assert Appointment.objects.count() == 0 and Patient.objects.count() == 0


def test_an_unparsable_date_is_an_input_error(surface, clinic, creds):
    outcome = search(surface, creds, future_day(), AVA_START_DAY="31/02/2027")
    assert (outcome.ok, outcome.code) == (False, "INVALID_INPUT") and "AVA_START_DAY" in outcome.message


def test_search_honours_band_cap_insurance_and_scope(surface, clinic, creds, make_client):
    day = future_day()
    band = search(surface, creds, day, AVA_MIN_TIME="10:00", AVA_MAX_TIME="11:30")
    assert [(s["RESOURCE_LID"], s["AVA_START_TIME"]) for s in band.payload] == [
        ("D1", "10:00"),
        ("D1", "10:30"),
        ("D1", "11:00"),
    ]
    capped = search(surface, creds, day, AVA_RESULTS_NUMBER="3")
    assert len(capped.payload) == 3
    insured = search(surface, creds, day, INSURANCE_LID="SAN", AVA_RESULTS_NUMBER="1")
    assert insured.payload[0]["INSURANCE_LID"] == "SAN" and insured.payload[0]["ACTIVITY_PRICE"] == "20.00"
    canarias = make_client(name="canarias", centers=["LPA"])
    assert all(
        s["RESOURCE_LID"] == "D2"
        for s in search(surface, canarias, day, AVA_END_DAY=ddmmyyyy(day + dt.timedelta(days=7))).payload
    )
    hidden = surface.call(
        "searchAvailabilities", {"ACTIVITY_LID": "V1", "RESOURCE_LID": "D1"}, authorization=canarias.basic()
    )
    assert hidden.code == "NOT_FOUND"


def test_delete_is_idempotent_and_refuses_unknown_and_started(surface, clinic, creds):
    appointment = AppointmentFactory(resource=clinic["doctor"], activity=clinic["visit"])
    for _ in range(2):
        outcome = surface.call("deleteAppointment", {"APP_LID": appointment.lid}, authorization=creds.basic())
        assert outcome.ok and outcome.payload["DELETE_RESULT"] == "OK"
    unknown = surface.call("deleteAppointment", {"APP_LID": "A999999"}, authorization=creds.basic())
    assert unknown.payload["DELETE_RESULT"] == "ERROR" and "A999999" in unknown.payload["ERROR_MESSAGE"]
    if surface.name == "rest":
        assert (unknown.status, unknown.code) == (404, "NOT_FOUND")
    start = timezone.now() - dt.timedelta(hours=1)
    past = AppointmentFactory(
        resource=clinic["doctor"], activity=clinic["visit"], start=start, end=start + dt.timedelta(minutes=30)
    )
    refused = surface.call("deleteAppointment", {"APP_LID": past.lid}, authorization=creds.basic())
    assert refused.payload["DELETE_RESULT"] == "ERROR" and "already started" in refused.payload["ERROR_MESSAGE"]
    past.refresh_from_db()
    assert past.status == AppointmentStatus.APPROVED


def test_cancel_appointment_checks_the_owner_and_puts_the_message_in_app_lid(surface, clinic, creds):
    owner, stranger = PatientFactory(), PatientFactory()
    appointment = AppointmentFactory(resource=clinic["doctor"], activity=clinic["visit"], patient=owner)
    refused = surface.call(
        "CancelAppointment", {"APP_LID": appointment.lid, "USER_LID": stranger.lid}, authorization=creds.basic()
    )
    assert refused.payload["RESULT"] == "ERROR" and refused.payload["DELETE_RESULT"] == "ERROR"
    # The whole sentence when it fits the guide's nvarchar(50), else its summary (APP_LIDs grow with the database).
    full = f"Appointment {appointment.lid} does not belong to this patient."
    assert refused.payload["APP_LID"] == (full if len(full) <= 50 else "The appointment is not this patient's.")
    appointment.refresh_from_db()
    assert appointment.is_active
    done = surface.call(
        "CancelAppointment", {"APP_LID": appointment.lid, "USER_LID": owner.lid}, authorization=creds.basic()
    )
    assert done.payload == {"DELETE_RESULT": "OK", "RESULT": "OK", "APP_LID": appointment.lid}
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED_BY_USER and appointment.cancelled_at is not None


def test_a_desk_reschedule_is_seen_by_check_and_by_the_incremental_list(surface, clinic, creds):
    appointment = AppointmentFactory(resource=clinic["doctor"], activity=clinic["visit"])
    # Second precision, wall-clock of the center, as tuOtempO sends it: changes in that same second
    # are returned again (at least once), so nothing is missed.
    stamp = timezone.localtime(timezone.now(), clinic["center"].zone).strftime("%d/%m/%Y %H:%M:%S")
    new_start = dt.datetime.combine(future_day(20), dt.time(12, 0), clinic["center"].zone)
    reschedule_appointment(appointment=appointment, start=new_start)
    checked = surface.call("checkAppointment", {"APP_LID": appointment.lid}, authorization=creds.basic()).payload
    assert (checked["APP_DATE"], checked["APP_START_TIME"], checked["APP_END_TIME"]) == (
        ddmmyyyy(future_day(20)),
        "12:00",
        "12:30",
    )
    changed = surface.call(
        "getAppointments",
        {"USER_LID": appointment.patient.lid, "LAST_REQUEST_TIMESTAMP": stamp},
        authorization=creds.basic(),
    )
    assert [a["APP_START_TIME"] for a in changed.payload] == ["12:00"]


def test_search_appointments_without_a_patient_is_the_reminder_batch(surface, clinic, creds):
    day = future_day(10)
    start = dt.datetime.combine(day, dt.time(9), clinic["center"].zone)
    a = AppointmentFactory(
        resource=clinic["doctor"], activity=clinic["visit"], start=start, end=start + dt.timedelta(minutes=30)
    )
    b = AppointmentFactory(
        resource=clinic["doctor"],
        activity=clinic["visit"],
        start=start + dt.timedelta(hours=1),
        end=start + dt.timedelta(hours=1, minutes=30),
        status=AppointmentStatus.CANCELLED_BY_ADMIN,
    )
    AppointmentFactory(
        resource=clinic["doctor"],
        activity=clinic["visit"],
        start=start + dt.timedelta(days=1),
        end=start + dt.timedelta(days=1, minutes=30),
    )
    batch = surface.call(
        "SearchAppointments", {"START_DATE": ddmmyyyy(day), "END_DATE": ddmmyyyy(day)}, authorization=creds.basic()
    )
    assert [(r["APP_LID"], r["STATUS"], r["USER_LID"]) for r in batch.payload] == [
        (a.lid, "Confirmed", a.patient.lid),
        (b.lid, "Cancelled", b.patient.lid),
    ]
    too_long = surface.call(
        "SearchAppointments",
        {"START_DATE": ddmmyyyy(day), "END_DATE": ddmmyyyy(day + dt.timedelta(days=31))},
        authorization=creds.basic(),
    )
    assert (too_long.code, too_long.message) == ("INVALID_INPUT", wire(MSG_REMINDER_WINDOW, days=31))
    assert surface.call("SearchAppointments", {"START_DATE": ddmmyyyy(day)}, authorization=creds.basic()).code == (
        "INVALID_INPUT"
    )
    mine = surface.call("SearchAppointments", {"USER_LID": a.patient.lid}, authorization=creds.basic())
    assert [r["APP_LID"] for r in mine.payload] == [a.lid]


def test_tid_clients_name_patients_by_user_tid_and_the_wrong_key_is_refused(surface, clinic, make_client):
    tid_client = make_client(name="tid-client", pattern="tid")
    lid_client = make_client(name="lid-client", pattern="lid")
    slot = search(surface, tid_client, future_day()).payload[0]
    booked = surface.call(
        "addAppointment",
        {"AVAILABILITY_LID": slot["AVAILABILITY_LID"], "USER_TID": "TT-77", **PATIENT},
        authorization=tid_client.basic(),
    )
    assert booked.ok and Patient.objects.get(links__tid="TT-77").lid == booked.payload["USER_LID"]
    listed = surface.call("getAppointments", {"USER_TID": "TT-77"}, authorization=tid_client.basic())
    assert [a["APP_LID"] for a in listed.payload] == [booked.payload["APP_LID"]]
    wrong = surface.call("getAppointments", {"USER_LID": booked.payload["USER_LID"]}, authorization=tid_client.basic())
    assert (wrong.code, wrong.message) == (
        "INVALID_INPUT",
        wire(MSG_WRONG_PATTERN, expected="USER_TID", given="USER_LID"),
    )
    wrong = surface.call("getAppointments", {"USER_TID": "TT-77"}, authorization=lid_client.basic())
    assert wrong.code == "INVALID_INPUT"
    unknown = surface.call("getAppointments", {"USER_TID": "TT-00"}, authorization=tid_client.basic())
    assert unknown.code == "NOT_FOUND"

    # Both ids may be sent; they must name the same patient.
    both = {"USER_TID": "TT-77", "USER_LID": booked.payload["USER_LID"]}
    assert surface.call("getAppointments", both, authorization=tid_client.basic()).ok
    other = PatientFactory(lid="P-OTHER")
    AppointmentFactory(patient=other, resource=Resource.objects.get(lid="D1"))
    mixed = surface.call("getAppointments", {**both, "USER_LID": "P-OTHER"}, authorization=tid_client.basic())
    assert mixed.code == "INVALID_INPUT" and "name two different patients" in mixed.message


def test_the_reminder_methods_name_the_patient_by_user_lid_under_the_tid_pattern_too(surface, clinic, make_client):
    """Guide A.4: SearchAppointments and CancelAppointment (tuOtempO MEMO) name the patient by USER_LID."""
    tid_client = make_client(name="tid-client", pattern="tid")
    slot = search(surface, tid_client, future_day()).payload[0]
    booked = surface.call(
        "addAppointment",
        {"AVAILABILITY_LID": slot["AVAILABILITY_LID"], "USER_TID": "TT-88", **PATIENT},
        authorization=tid_client.basic(),
    )
    user_lid, app_lid = booked.payload["USER_LID"], booked.payload["APP_LID"]

    reminded = surface.call("SearchAppointments", {"USER_LID": user_lid}, authorization=tid_client.basic())
    assert [a["APP_LID"] for a in reminded.payload] == [app_lid]
    cancelled = surface.call(
        "CancelAppointment", {"APP_LID": app_lid, "USER_LID": user_lid}, authorization=tid_client.basic()
    )
    assert cancelled.payload == {"DELETE_RESULT": "OK", "RESULT": "OK", "APP_LID": app_lid}
    assert Appointment.objects.get(lid=app_lid).status == AppointmentStatus.CANCELLED_BY_USER


def test_a_merged_patient_is_followed(surface, clinic, creds):
    survivor = PatientFactory()
    merged = PatientFactory(merged_into=survivor)
    old = AppointmentFactory(resource=clinic["doctor"], activity=clinic["visit"], patient=merged)
    slot = search(surface, creds, future_day()).payload[0]
    booked = surface.call(
        "addAppointment",
        {"AVAILABILITY_LID": slot["AVAILABILITY_LID"], "USER_LID": merged.lid},
        authorization=creds.basic(),
    )
    assert booked.payload["USER_LID"] == survivor.lid
    listed = surface.call("getAppointments", {"USER_LID": survivor.lid}, authorization=creds.basic())
    assert sorted(a["APP_LID"] for a in listed.payload) == sorted([old.lid, booked.payload["APP_LID"]])


def test_unreadable_input_to_a_write_method_is_answered_in_its_result_field(surface, clinic, creds, make_client):
    bad_date = surface.call(
        "addAppointment",
        {"RESOURCE_LID": "D1", "ACTIVITY_LID": "V1", "APP_DATE": "32/13/2027", "APP_START_TIME": "10:00", **PATIENT},
        authorization=creds.basic(),
    )
    assert bad_date.payload == {"ADD_RESULT": "ERROR", "ERROR_MESSAGE": MSG_BAD_DATE.format(name="APP_DATE",
                                value="32/13/2027"), "APP_LID": None, "USER_LID": None}  # fmt: skip
    tid_client = make_client(name="tid-client", pattern="tid")
    unknown = surface.call("CancelAppointment", {"APP_LID": "A1", "USER_LID": "P1"}, authorization=tid_client.basic())
    assert unknown.payload == {"DELETE_RESULT": "ERROR", "RESULT": "ERROR", "APP_LID": "USER_LID 'P1' does not exist."}
    canarias = make_client(name="canarias", centers=["LPA"])
    out_of_scope = surface.call(
        "deleteAppointment", {"APP_LID": "A1", "CENTER_LID": "MAD"}, authorization=canarias.basic()
    )
    assert out_of_scope.payload["DELETE_RESULT"] == "ERROR" and "MAD" in out_of_scope.payload["ERROR_MESSAGE"]
    if surface.name == "rest":
        assert (bad_date.status, bad_date.code) == (400, "INVALID_INPUT")
        assert (out_of_scope.status, out_of_scope.code) == (403, "FORBIDDEN")


def test_a_slot_taken_earlier_is_refused_as_taken(surface, clinic, creds):
    slot = search(surface, creds, future_day()).payload[0]
    assert surface.call(
        "addAppointment", {"AVAILABILITY_LID": slot["AVAILABILITY_LID"], **PATIENT}, authorization=creds.basic()
    ).ok
    later = surface.call(
        "addAppointment", {"AVAILABILITY_LID": slot["AVAILABILITY_LID"], **OTHER_PATIENT}, authorization=creds.basic()
    )
    assert "is no longer available: another appointment holds it" in later.payload["ERROR_MESSAGE"]


def test_check_appointment_names_the_patient_a_merge_kept(surface, clinic, creds):
    appointment = AppointmentFactory(resource=clinic["doctor"], activity=clinic["visit"])
    survivor = PatientFactory()
    appointment.patient.merged_into = survivor
    appointment.patient.save()
    checked = surface.call("checkAppointment", {"APP_LID": appointment.lid}, authorization=creds.basic())
    assert checked.payload["USER_LID"] == survivor.lid


def test_a_patient_without_history_in_the_clients_centers_does_not_exist_for_it(surface, clinic, make_client):
    madrid_patient = AppointmentFactory(resource=clinic["doctor"], activity=clinic["visit"]).patient
    canarias = make_client(name="canarias", centers=["LPA"])
    madrid = make_client(name="madrid", centers=["MAD"])
    hidden = surface.call("getAppointments", {"USER_LID": madrid_patient.lid}, authorization=canarias.basic())
    unknown = surface.call("getAppointments", {"USER_LID": "P-NOBODY"}, authorization=canarias.basic())
    assert (hidden.code, unknown.code) == ("NOT_FOUND", "NOT_FOUND")
    seen = surface.call("getAppointments", {"USER_LID": madrid_patient.lid}, authorization=madrid.basic())
    assert seen.ok and len(seen.payload) == 1


@pytest.mark.parametrize(
    ("known", "sent", "same"),
    [
        ({"id_number": "12345678Z"}, {"USER_ID_NUMBER": "12345678-z", "USER_FIRST_NAME": "Other"}, True),
        (
            {"first_name": "Lucía", "second_name": "Martín", "third_name": "Ruiz", "mobile_phone": "600111222"},
            {
                "USER_FIRST_NAME": "LUCIA",
                "USER_SECOND_NAME": "martin",
                "USER_THIRD_NAME": "Ruíz",
                "USER_MOBILE_PHONE": "+34 600 111 222",
            },
            True,
        ),
        (
            {"first_name": "Lucía", "second_name": "Martín", "third_name": "Ruiz", "mobile_phone": "699999999"},
            {
                "USER_FIRST_NAME": "Lucía",
                "USER_SECOND_NAME": "Martín",
                "USER_THIRD_NAME": "Ruiz",
                "USER_MOBILE_PHONE": "600111222",
            },
            False,
        ),
    ],
    ids=["id number", "name, birth date and phone", "same name, other phone"],
)
def test_a_patient_without_a_known_user_lid_is_matched_or_registered(surface, clinic, creds, known, sent, same):
    existing = PatientFactory(**{"first_name": "X", "second_name": "Y", "third_name": "", "id_number": "",
                                 "date_of_birth": dt.date(1985, 3, 12), "email": "", **known})  # fmt: skip
    slot = search(surface, creds, future_day()).payload[0]
    params = {"AVAILABILITY_LID": slot["AVAILABILITY_LID"], "USER_LID": "P-DELETED-LONG-AGO",
              "USER_DATE_OF_BIRTH": "12/03/1985", **sent}  # fmt: skip
    booked = surface.call("addAppointment", params, authorization=creds.basic())
    assert booked.ok
    assert (booked.payload["USER_LID"] == existing.lid) is same
    assert Patient.objects.count() == (1 if same else 2)


def test_two_candidates_mean_a_new_patient(surface, clinic, creds):
    twins = [PatientFactory(first_name="Ana", second_name="Gil", third_name="", id_number="", email="",
                            date_of_birth=dt.date(1990, 1, 1), mobile_phone="600000000") for _ in range(2)]  # fmt: skip
    slot = search(surface, creds, future_day()).payload[0]
    booked = surface.call(
        "addAppointment",
        {
            "AVAILABILITY_LID": slot["AVAILABILITY_LID"],
            "USER_FIRST_NAME": "Ana",
            "USER_SECOND_NAME": "Gil",
            "USER_DATE_OF_BIRTH": "01/01/1990",
            "USER_MOBILE_PHONE": "600000000",
        },
        authorization=creds.basic(),
    )
    assert booked.ok and booked.payload["USER_LID"] not in {t.lid for t in twins}
    assert Patient.objects.count() == 3


def test_a_patient_of_other_centers_is_booked_as_new_by_a_limited_client(surface, clinic, make_client):
    madrid_patient = AppointmentFactory(resource=clinic["doctor"], activity=clinic["visit"]).patient
    canarias = make_client(name="canarias", centers=["LPA"])
    day = future_day()
    day += dt.timedelta(days=(1 - day.isoweekday() % 7) % 7)  # D2 works on Mondays (weekday 1)
    slot = search(surface, canarias, day).payload[0]
    booked = surface.call(
        "addAppointment",
        {"AVAILABILITY_LID": slot["AVAILABILITY_LID"], "USER_LID": madrid_patient.lid, **OTHER_PATIENT},
        authorization=canarias.basic(),
    )
    assert booked.ok and booked.payload["USER_LID"] != madrid_patient.lid
