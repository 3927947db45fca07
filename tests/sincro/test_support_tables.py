"""Rows the agent writes into the support tables, applied by the worker through the domain services:
outcomes in STATUS_TRIGGER, ids written back, the result seen in the views and over the webservices."""

import datetime as dt

import pytest
from django.core.files.base import ContentFile

from appointments.models import Appointment, AppointmentStatus
from appointments.services import MSG_SLOT_TAKEN
from clients.models import AuditEntry, Surface
from clients.services import create_integration_client
from demo.factories import AppointmentFactory, MedicalResultFactory, PatientFactory
from patients.models import PatientLink
from sincro.worker import Worker
from tests.sincro.conftest import ddmmyyyy, future_day

PATIENT = {
    "USER_FIRST_NAME": "Lucía",
    "USER_SECOND_NAME": "Martín",
    "USER_DATE_OF_BIRTH": "12/03/1985",
    "USER_MOBILE_PHONE": "+34 600 111 222",
    "USER_EMAIL": "lucia@example.org",
    "USER_ID_NUMBER": "12345678Z",
}


def apply() -> int:
    return Worker().run(once=True)


def add(agent, day, start="09:30", resource="D1", action="ADD", **extra) -> int:
    values = {
        "APP_TID": "T-1",
        "APP_ACTION": action,
        "APP_DATE": ddmmyyyy(day),
        "APP_START_TIME": start,
        "RESOURCE_LID": resource,
        "ACTIVITY_LID": "V1",
        **PATIENT,
    }
    values.update(extra)
    return agent.add(**values)


def reservation(agent, row_id) -> dict:
    return agent.row("TT_RESERVATIONS_TMP", "APP_TMP_ID", row_id)


def shown(agent, app_lid) -> dict | None:
    rows = agent.rows("SELECT * FROM TT_RESERVATIONS WHERE APP_LID = %s", (app_lid,))
    return rows[0] if rows else None


@pytest.fixture
def ready(sincro_client, clinic, agent):
    apply()  # the worker has started once: the views show the client's centers
    return sincro_client


def test_an_add_row_books_writes_the_ids_back_and_shows_in_the_views_and_the_webservices(ready, agent, client):
    day = future_day()
    row_id = add(agent, day, action="add", APP_OWNER_NAME="Web")  # any letter case

    assert apply() == 1
    row = reservation(agent, row_id)
    assert row["STATUS_TRIGGER"] == "OK"
    assert row["INSERT_TIME"] is not None and row["APP_TMP_ID"] == row_id  # defaults the agent left out
    appointment = Appointment.objects.get(lid=row["APP_LID"])
    assert appointment.patient.lid == row["USER_LID"] and appointment.tid == "T-1"
    view = shown(agent, row["APP_LID"])
    assert (view["APP_DATE"], view["APP_START_TIME"], view["APP_END_TIME"]) == (ddmmyyyy(day), "09:30", "10:00")
    assert (view["STATUS"], view["APP_TID"], view["USER_LID"]) == ("APPROVED", "T-1", row["USER_LID"])
    assert view["APP_OWNER_NAME"] == "Web"
    checked = client.get(
        "/api/checkappointment", {"APP_LID": row["APP_LID"]}, HTTP_AUTHORIZATION=f"Bearer {ready.secret}"
    ).json()
    assert checked["return"]["APP_START_TIME"] == "09:30" and checked["return"]["STATUS"] == "Confirmed"
    free = client.get(
        "/api/searchavailabilities",
        {"ACTIVITY_LID": "V1", "RESOURCE_LID": "D1", "AVA_START_DAY": ddmmyyyy(day), "AVA_END_DAY": ddmmyyyy(day)},
        HTTP_AUTHORIZATION=f"Bearer {ready.secret}",
    ).json()["return"]
    assert "09:30" not in [slot["AVA_START_TIME"] for slot in free]
    audit = AuditEntry.objects.get(surface=Surface.SINCRO)
    assert (audit.method, audit.outcome, audit.client_id) == ("TT_RESERVATIONS_TMP ADD", "OK", ready.pk)


def test_a_row_is_applied_once_and_a_repeated_add_gives_the_same_appointment(ready, agent):
    day = future_day()
    first = add(agent, day)
    assert apply() == 1
    assert apply() == 0  # nothing applied twice
    again = add(agent, day)
    apply()
    assert reservation(agent, again)["STATUS_TRIGGER"] == "OK"
    assert reservation(agent, again)["APP_LID"] == reservation(agent, first)["APP_LID"]
    assert Appointment.objects.count() == 1


def test_a_slot_taken_by_a_webservice_booking_a_moment_earlier_is_an_error(ready, agent, client):
    day = future_day()
    booked = client.post(
        "/api/addappointment",
        {"RESOURCE_LID": "D1", "ACTIVITY_LID": "V1", "APP_DATE": ddmmyyyy(day), "APP_START_TIME": "10:00",
         "USER_FIRST_NAME": "Pedro", "USER_SECOND_NAME": "López"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {ready.secret}",
    ).json()  # fmt: skip
    assert booked["return"]["ADD_RESULT"] == "OK"
    row_id = add(agent, day, "10:00")
    apply()
    row = reservation(agent, row_id)
    assert (
        row["STATUS_TRIGGER"]
        == f"ERROR: slot {ddmmyyyy(day)} 10:00 with RESOURCE_LID D1 is no longer available: "
        + (MSG_SLOT_TAKEN.split(": ", 1)[1])
    )
    assert row["APP_LID"] is None
    assert Appointment.objects.count() == 1


def test_update_moves_the_appointment_and_delete_cancels_it(ready, agent):
    day = future_day()
    row_id = add(agent, day, "09:00")
    apply()
    app_lid = reservation(agent, row_id)["APP_LID"]

    moved = add(agent, day + dt.timedelta(days=1), "11:30", action="Update", APP_LID=app_lid)
    apply()
    assert reservation(agent, moved)["STATUS_TRIGGER"] == "OK"
    view = shown(agent, app_lid)
    assert (view["APP_DATE"], view["APP_START_TIME"]) == (ddmmyyyy(day + dt.timedelta(days=1)), "11:30")

    deleted = add(agent, day, "09:00", action="DELETE", APP_LID=app_lid)
    apply()
    assert reservation(agent, deleted)["STATUS_TRIGGER"] == "OK"
    assert shown(agent, app_lid)["STATUS"] == "CANCELLED by USER"
    assert Appointment.objects.get(lid=app_lid).status == AppointmentStatus.CANCELLED_BY_USER


def test_a_cancellation_from_a_reminder_cancels_and_says_so_in_app_status(ready, agent, clinic):
    appointment = AppointmentFactory(resource=clinic["D1"], activity=clinic["visit"])
    row_id = agent.insert("TT_DELETE_RESERVATION", "APP_TMP_ID", APP_LID=appointment.lid, USER_MOBILE_PHONE="600111222")
    apply()
    row = agent.row("TT_DELETE_RESERVATION", "APP_TMP_ID", row_id)
    assert (row["STATUS_TRIGGER"], row["APP_STATUS"]) == ("OK", "CANCELLED by USER")
    assert shown(agent, appointment.lid)["STATUS"] == "CANCELLED by USER"


@pytest.mark.parametrize(
    ("values", "sentence"),
    [
        ({"RESOURCE_LID": "NOPE"}, "ERROR: RESOURCE_LID 'NOPE' does not exist."),
        ({"APP_START_TIME": "15:00"}, "is not offered for ACTIVITY_LID V1"),
        ({"APP_DATE": "32/13/2026"}, "ERROR: APP_DATE='32/13/2026' is not a date"),
        ({"APP_ACTION": "UPDATE", "APP_LID": "A999999"}, "ERROR: APP_LID 'A999999' does not exist."),
        ({"APP_ACTION": "DELETE"}, "ERROR: APP_LID is required to DELETE an appointment"),
        ({"APP_ACTION": "MOVE"}, "ERROR: APP_ACTION 'MOVE' is not one of ADD, UPDATE or DELETE."),
        ({"USER_GENDER": "X"}, "ERROR: USER_GENDER must be M, F or empty"),
    ],
)
def test_a_bad_row_gets_an_error_sentence_and_the_worker_goes_on(ready, agent, values, sentence):
    day = future_day()
    bad = add(agent, day, **values)
    good = add(agent, day, "12:00")
    assert apply() == 2
    assert sentence in reservation(agent, bad)["STATUS_TRIGGER"]
    assert reservation(agent, bad)["STATUS_TRIGGER"].startswith("ERROR: ")
    assert reservation(agent, good)["STATUS_TRIGGER"] == "OK"
    assert Appointment.objects.count() == 1


def test_a_tid_client_links_its_own_patient_id(clinic, agent, settings, transactional_db):
    create_integration_client(name="sincro-tid", pattern="tid")
    settings.HIS_SINCRO_CLIENT = "sincro-tid"
    row_id = add(agent, future_day(), USER_TID="TT-42")
    apply()
    row = reservation(agent, row_id)
    assert row["STATUS_TRIGGER"] == "OK"
    assert PatientLink.objects.get(tid="TT-42").patient.lid == row["USER_LID"]
    assert shown(agent, row["APP_LID"])["USER_TID"] == "TT-42"


def test_a_requested_result_fills_tt_downloads_and_empty_removes_the_content(ready, agent):
    patient = PatientFactory()
    content = b"%PDF-1.4\n% the patient's result\n%%EOF\n"
    result = MedicalResultFactory(patient=patient, file=ContentFile(content, name="r.pdf"))
    listed = agent.rows("SELECT * FROM TT_DOWNLOADS WHERE DOWNLOAD_LID = %s", (result.lid,))[0]
    assert listed["DOWNLOAD_CONTENT"] is None and listed["USER_ID_NUMBER"] == patient.id_number

    values = {"DOWNLOAD_LID": result.lid, "DOWNLOAD_TID": "X1", "REQ_DATE": ddmmyyyy(future_day(0)),
              "REQ_TIME": "10:00", "USER_LID": patient.lid}  # fmt: skip
    asked = agent.insert("TT_DOWNLOADS_TMP", "DOWNLOAD_TMP_ID", DOWNLOAD_ACTION="update", **values)
    apply()
    assert agent.row("TT_DOWNLOADS_TMP", "DOWNLOAD_TMP_ID", asked)["STATUS_TRIGGER"] == "OK"
    listed = agent.rows("SELECT * FROM TT_DOWNLOADS WHERE DOWNLOAD_LID = %s", (result.lid,))[0]
    assert bytes(listed["DOWNLOAD_CONTENT"]) == content
    assert listed["REQUESTED"] == ddmmyyyy(future_day(0))

    emptied = agent.insert("TT_DOWNLOADS_TMP", "DOWNLOAD_TMP_ID", DOWNLOAD_ACTION="EMPTY", **values)
    apply()
    assert agent.row("TT_DOWNLOADS_TMP", "DOWNLOAD_TMP_ID", emptied)["STATUS_TRIGGER"] == "OK"
    assert (
        agent.rows("SELECT DOWNLOAD_CONTENT FROM TT_DOWNLOADS WHERE DOWNLOAD_LID = %s", (result.lid,))[0][
            "DOWNLOAD_CONTENT"
        ]
        is None
    )

    stranger = agent.insert(
        "TT_DOWNLOADS_TMP", "DOWNLOAD_TMP_ID", DOWNLOAD_ACTION="UPDATE", **{**values, "USER_LID": "P0"}
    )
    apply()
    assert agent.row("TT_DOWNLOADS_TMP", "DOWNLOAD_TMP_ID", stranger)["STATUS_TRIGGER"].startswith("ERROR: No result")


@pytest.mark.parametrize(("name", "message"), [("", "HIS_SINCRO_CLIENT is empty"), ("nobody", "names no active")])
def test_the_worker_refuses_to_start_without_its_client(transactional_db, settings, name, message):
    from django.core.management import CommandError, call_command

    settings.HIS_SINCRO_CLIENT = name
    with pytest.raises(CommandError, match=message):
        call_command("sincro_worker", "--once")
