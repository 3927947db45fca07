"""The request log: one JSON line per request with its id, the id from the proxy or made, returned and
audited; and never a patient's name, contact data or ID number in any line, whatever the call."""

import json
import logging

import pytest
import requests
from django.db import IntegrityError

from clients.models import AuditEntry
from ops.logs import TextFormatter, scrub
from tests.ops.conftest import PATIENT, SECRETS, call_rest, call_soap, ddmmyyyy, future_day

pytestmark = pytest.mark.django_db


@pytest.fixture
def urls_loaded():
    """The URLs (and spyne's application, which logs when it is built) loaded before the log is read."""
    from django.urls import get_resolver

    assert get_resolver().url_patterns


def test_every_line_is_json_with_the_request_id_and_one_request_line_per_request(
    urls_loaded, client, clinic, creds, server_log
):
    answers = [
        call_rest(client, "GetCenters", creds.basic()),
        call_soap(client, "GetCenters", creds.basic()),
        call_rest(client, "KeyEntities", creds.basic(), CENTER_LID="NOPE"),  # 404
        call_soap(client, "KeyEntities", creds.basic(), CENTER_LID="NOPE"),  # a SOAP fault, HTTP 500
        call_rest(client, "GetCenters"),  # no credentials
        client.get("/admin/"),  # not a webservice
    ]
    ids = [answer["X-Request-ID"] for answer in answers]
    assert len(set(ids)) == len(ids) and all(len(i) == 32 for i in ids)

    records = server_log.records()  # every line parses as JSON (json.loads raised otherwise)
    # Every line a server writes (INFO and above; libraries' DEBUG lines of their first import aside)
    # names the request it was written for.
    served = [r for r in records if r["level"] != "DEBUG"]
    assert served and [r for r in served if r["request_id"] not in ids] == []
    lines = server_log.requests()
    assert [line["request_id"] for line in lines] == ids
    assert [(line["surface"], line["method"], line["outcome"], line["client"], line["status"]) for line in lines] == [
        ("REST", "GetCenters", "OK", creds.name, 200),
        ("SOAP", "GetCenters", "OK", creds.name, 200),
        ("REST", "KeyEntities", "NOT_FOUND", creds.name, 404),
        ("SOAP", "KeyEntities", "NOT_FOUND", creds.name, 500),
        ("REST", "getcenters", "CHALLENGED", "", 401),
        ("", "", "", "", 302),
    ]
    assert all(set(line) >= {"time", "level", "duration_ms", "http_method", "path"} for line in lines)
    assert all(line["level"] == "INFO" for line in lines)  # a client's fault is no server error
    # The audit entry of each call carries the id of its request.
    audited = dict(AuditEntry.objects.values_list("request_id", "outcome"))
    assert audited == {ids[0]: "OK", ids[1]: "OK", ids[2]: "NOT_FOUND", ids[3]: "NOT_FOUND", ids[4]: "CHALLENGED"}


@pytest.mark.parametrize(
    "given",
    [
        "3f2b8c1e-6d7a-4e8b-9c0d-1a2b3c4d5e6f",
        "0123456789abcdef0123456789abcdef",
        "Root=1-5759e988-bd862e3fe1be46a9942727",
    ],
)
def test_a_proxys_request_id_is_kept_returned_and_audited(client, creds, given, server_log):
    answer = call_rest(client, "GetCenters", creds.basic(), headers={"X-Request-ID": given})
    assert answer["X-Request-ID"] == given
    assert AuditEntry.objects.get().request_id == given
    assert server_log.requests()[0]["request_id"] == given


@pytest.mark.parametrize(
    "given",
    [
        "short",
        "x" * 65,
        "id with spaces inside",
        'abc"},"injected":"yes',
        "abc\\ndef-ghi-jkl",
        "Eulalia.Quintanilla@example.org",
        "-starts-with-a-dash",
    ],
)
def test_a_request_id_that_does_not_look_like_one_is_replaced(client, creds, given):
    answer = call_rest(client, "GetCenters", creds.basic(), headers={"X-Request-ID": given})
    made = answer["X-Request-ID"]
    assert made != given and len(made) == 32 and made.isalnum()
    assert AuditEntry.objects.get().request_id == made


def test_probes_are_not_logged_unless_they_fail(client, server_log, settings, tmp_path):
    assert client.get("/health/live").status_code == 200
    assert client.get("/metrics").status_code == 200
    assert server_log.requests() == []
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    settings.MEDIA_ROOT = blocker / "media"
    assert client.get("/health/ready").status_code == 503
    assert [(r["path"], r["status"], r["level"]) for r in server_log.requests()] == [("/health/ready", 503, "ERROR")]


# ------------------------------------------------------------------ no patient data in any line


def _exercise_both_surfaces(surface, creds, day_offset):
    """Books with known patient data, reads it back, fails in three ways; every call through a real client."""
    day = future_day(day_offset)
    found = surface.call(
        "searchAvailabilities", {"ACTIVITY_LID": "V1", "AVA_START_DAY": ddmmyyyy(day)}, authorization=creds.basic()
    )
    slot = found.payload[0]["AVAILABILITY_LID"]
    booked = surface.call("addAppointment", {"AVAILABILITY_LID": slot, **PATIENT}, authorization=creds.basic())
    assert booked.ok, booked
    app_lid, user_lid = booked.payload["APP_LID"], booked.payload["USER_LID"]
    checked = surface.call("checkAppointment", {"APP_LID": app_lid}, authorization=creds.basic())
    assert checked.payload["USER_EMAIL"] == PATIENT["USER_EMAIL"]  # the answer does carry it
    surface.call("getAppointments", {"USER_LID": user_lid}, authorization=creds.basic())
    # Failing calls: the slot taken, a date of birth that is a name, a phone where a number goes.
    taken = surface.call("addAppointment", {"AVAILABILITY_LID": slot, **PATIENT}, authorization=creds.basic())
    assert taken.ok  # the same patient again: the retry answers the same appointment
    other = {**PATIENT, "USER_ID_NUMBER": "99999999R", "USER_DATE_OF_BIRTH": PATIENT["USER_FIRST_NAME"]}
    bad = surface.call("addAppointment", {"AVAILABILITY_LID": slot, **other}, authorization=creds.basic())
    assert not bad.ok
    surface.call(
        "searchAvailabilities",
        {"ACTIVITY_LID": "V1", "AVA_RESULTS_NUMBER": PATIENT["USER_MOBILE_PHONE"]},
        authorization=creds.basic(),
    )
    return app_lid


def test_no_log_line_and_no_audit_entry_holds_patient_data(surface, clinic, creds, server_log, monkeypatch):
    app_lid = _exercise_both_surfaces(surface, creds, day_offset=14 if surface.name == "rest" else 15)

    # A failure deep in the database, whose message quotes the row (as PostgreSQL's DETAIL does):
    # the call answers 503 and the log keeps the error without the row.
    def failing(**kwargs):
        raise IntegrityError(
            'duplicate key value violates unique constraint "patients_patient_id_number"\n'
            f"DETAIL:  Key (id_number)=({PATIENT['USER_ID_NUMBER']}) already exists.\n"
            f"DETAIL:  Failing row contains (7, {PATIENT['USER_FIRST_NAME']}, {PATIENT['USER_EMAIL']})."
        )

    monkeypatch.setattr("webservices.methods.appointments.appointment_for", failing)
    crashed = surface.call("checkAppointment", {"APP_LID": app_lid}, authorization=creds.basic())
    assert crashed.code == "SERVICE_UNAVAILABLE"

    text = server_log.text()
    records = server_log.records()
    assert any(r["logger"] == "webservices.dispatch" and "unique constraint" in json.dumps(r) for r in records)
    assert len(server_log.requests()) >= 8
    for secret in SECRETS:
        assert secret.lower() not in text.lower(), secret
    # Nor the audit log: ids, codes and messages without the values typed.
    audit = json.dumps(list(AuditEntry.objects.values("ids", "message", "client_name", "method")))
    for secret in SECRETS:
        assert secret.lower() not in audit.lower(), secret
    messages = set(AuditEntry.objects.exclude(message="").values_list("message", flat=True))
    assert (
        "USER_DATE_OF_BIRTH='(not kept)' is not a date between 1850 and 2200: use dd/mm/yyyy or yyyy-mm-dd." in messages
    )


def test_scrub_removes_what_a_database_error_quotes_of_a_row():
    text = (
        "IntegrityError: duplicate key value violates unique constraint\n"
        "DETAIL:  Key (id_number)=(48151623Y) already exists.\nnext line"
    )
    assert scrub(text) == (
        "IntegrityError: duplicate key value violates unique constraint\n"
        "DETAIL: (not logged: it may quote a row)\nnext line"
    )
    assert "Eulalia" not in scrub('new row violates check constraint "x"\nDETAIL:  Failing row contains (1, Eulalia).')
    assert scrub("connection refused") == "connection refused"


def test_text_format_is_readable_with_the_request_id(client, creds):
    record = logging.LogRecord("his.requests", logging.INFO, __file__, 1, "POST /api/getcenters 200 3.1ms", (), None)
    record.request_id = "0123456789abcdef"
    line = TextFormatter().format(record)
    assert line.endswith(" INFO [0123456789abcdef] his.requests: POST /api/getcenters 200 3.1ms")


def test_the_live_server_answers_with_the_request_id(live_server, creds):
    answer = requests.get(
        f"{live_server.url}/api/getcenters",
        headers={"Authorization": creds.basic(), "X-Request-ID": "lb-0123456789"},
        timeout=30,
    )
    assert answer.headers["X-Request-ID"] == "lb-0123456789"
    assert AuditEntry.objects.get().request_id == "lb-0123456789"
