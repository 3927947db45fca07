"""GET /metrics: who may read it, and what each webservice call adds to it (counted from its audit entry)."""

import pytest
from django.db.utils import OperationalError

import core.operations
from clients.models import AuditEntry
from core.operations import Figure
from tests.ops.conftest import PATIENT, Counted, call_rest, call_soap, ddmmyyyy, future_day
from tuotempo.words import METHOD_NAMES
from webservices.registry import methods

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-" + "x" * 40


# ------------------------------------------------------------------ who may read /metrics


def test_metrics_answer_this_machine_by_default(client):
    answer = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/plain; version=")
    assert b"# TYPE his_webservice_requests_total counter" in answer.content
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200


@pytest.mark.parametrize("address", ["203.0.113.5", "10.0.0.7", "::ffff:192.0.2.1", "2001:db8::1"])
def test_metrics_are_refused_to_any_other_caller_with_no_data(client, address):
    answer = client.get("/metrics", REMOTE_ADDR=address)
    assert answer.status_code == 403
    assert b"his_" not in answer.content and len(answer.content) < 20


def test_an_allowed_network_and_the_token_open_metrics(client, settings):
    import ipaddress

    settings.HIS_METRICS_ALLOWED = [ipaddress.ip_network("10.0.0.0/8")]
    settings.HIS_METRICS_TOKEN = TOKEN
    assert client.get("/metrics", REMOTE_ADDR="10.20.30.40").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403  # the list replaces the default
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.5", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    wrong = client.get("/metrics", REMOTE_ADDR="203.0.113.5", HTTP_AUTHORIZATION=f"Bearer {TOKEN}x")
    assert wrong.status_code == 403


def test_an_integration_clients_secret_does_not_open_metrics(client, creds):
    answer = client.get("/metrics", REMOTE_ADDR="203.0.113.5", HTTP_AUTHORIZATION=creds.bearer())
    assert answer.status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.5", HTTP_AUTHORIZATION=creds.basic()).status_code == 403


def test_a_forwarded_address_cannot_pass_for_this_machine(client, settings):
    import ipaddress

    # From an untrusted peer, X-Forwarded-For is not believed.
    spoofed = client.get("/metrics", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert spoofed.status_code == 403
    # Behind a trusted proxy on this machine, the caller is the forwarded address, not the proxy.
    settings.HIS_TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.1/32")]
    proxied = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert proxied.status_code == 403


def test_metrics_carry_no_patient_data_and_no_secret(client, clinic, creds):
    day = future_day()
    found = call_rest(client, "searchAvailabilities", creds.basic(), ACTIVITY_LID="V1", AVA_START_DAY=ddmmyyyy(day))
    slot = found.json()["return"][0]["AVAILABILITY_LID"]
    assert call_rest(client, "addAppointment", creds.basic(), AVAILABILITY_LID=slot, **PATIENT).status_code == 200
    text = client.get("/metrics").content.decode()
    for value in [*PATIENT.values(), creds.secret]:
        if value != "F":
            assert value not in text


# ------------------------------------------------------------------ what is counted


def test_each_call_is_counted_by_surface_method_outcome_and_client(client, clinic, creds):
    counted = Counted()
    me = creds.name
    labels = [
        ("his_webservice_requests_total", dict(surface="REST", method="GetCenters", outcome="OK", client=me)),
        ("his_webservice_requests_total", dict(surface="SOAP", method="GetCenters", outcome="OK", client=me)),
        ("his_webservice_requests_total", dict(surface="REST", method="KeyEntities", outcome="NOT_FOUND", client=me)),
        ("his_webservice_request_duration_seconds_count", dict(surface="REST", method="GetCenters")),
        ("his_webservice_request_duration_seconds_count", dict(surface="SOAP", method="GetCenters")),
    ]  # fmt: skip
    for name, label in labels:
        counted.watch(name, **label)

    assert call_rest(client, "GetCenters", creds.basic()).status_code == 200
    assert call_rest(client, "GetCenters", creds.bearer()).status_code == 200
    assert call_soap(client, "GetCenters", creds.basic()).status_code == 200
    assert call_rest(client, "KeyEntities", creds.basic(), CENTER_LID="NOPE").status_code == 404

    assert [counted.delta(name, **label) for name, label in labels] == [2, 1, 1, 2, 1]
    # The audit log and the metrics agree: both come from the same entries.
    assert AuditEntry.objects.filter(method="GetCenters", outcome="OK").count() == 3
    # Scraped, the same figures.
    text = client.get("/metrics").content.decode()
    assert (
        f'his_webservice_requests_total{{client="{creds.name}",method="KeyEntities",outcome="NOT_FOUND",surface="REST"}}'
        in text
    )


def test_bookings_conflicts_and_cancellations_are_counted(client, clinic, creds):
    counted = Counted()
    counted.watch("his_bookings_total", client=creds.name)
    counted.watch("his_booking_conflicts_total", method="addAppointment", client=creds.name)
    counted.watch("his_cancellations_total", method="deleteAppointment", client=creds.name)
    day = future_day()
    found = call_rest(client, "searchAvailabilities", creds.basic(), ACTIVITY_LID="V1", AVA_START_DAY=ddmmyyyy(day))
    slot = found.json()["return"][0]["AVAILABILITY_LID"]

    booked = call_rest(client, "addAppointment", creds.basic(), AVAILABILITY_LID=slot, **PATIENT).json()["return"]
    taken = call_soap(client, "addAppointment", creds.basic(), AVAILABILITY_LID=slot, USER_FIRST_NAME="Otra",
                      USER_SECOND_NAME="Persona", USER_MOBILE_PHONE="600000001")  # fmt: skip
    assert b"<tns:ADD_RESULT>ERROR</tns:ADD_RESULT>" in taken.content
    cancelled = call_rest(client, "deleteAppointment", creds.basic(), APP_LID=booked["APP_LID"])
    assert cancelled.json()["return"]["DELETE_RESULT"] == "OK"

    assert counted.delta("his_bookings_total", client=creds.name) == 1
    assert counted.delta("his_booking_conflicts_total", method="addAppointment", client=creds.name) == 1
    assert counted.delta("his_cancellations_total", method="deleteAppointment", client=creds.name) == 1


def test_refused_logins_are_counted_and_a_refused_callers_name_is_no_label(client, creds, settings):
    settings.HIS_AUTH_FAILURE_LIMIT = 2
    counted = Counted()
    counted.watch("his_refused_logins_total", surface="REST", outcome="UNAUTHORIZED")
    counted.watch("his_refused_logins_total", surface="REST", outcome="THROTTLED")
    counted.watch(
        "his_webservice_requests_total", surface="REST", method="GetCenters", outcome="UNAUTHORIZED", client=""
    )
    wrong = f"{creds.name}:wrong"
    import base64

    basic = "Basic " + base64.b64encode(wrong.encode()).decode()
    statuses = [call_rest(client, "GetCenters", basic).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]
    assert counted.delta("his_refused_logins_total", surface="REST", outcome="UNAUTHORIZED") == 2
    assert counted.delta("his_refused_logins_total", surface="REST", outcome="THROTTLED") == 1
    assert counted.delta("his_webservice_requests_total", surface="REST", method="GetCenters",
                         outcome="UNAUTHORIZED", client="") == 2  # fmt: skip


def test_refused_admin_logins_are_counted(client):
    counted = Counted()
    counted.watch("his_refused_logins_total", surface="ADMIN", outcome="UNAUTHORIZED")
    client.post("/admin/login/", {"username": "nobody", "password": "wrong"})
    assert counted.delta("his_refused_logins_total", surface="ADMIN", outcome="UNAUTHORIZED") == 1


def test_a_method_name_the_caller_made_up_is_counted_as_other(client, creds):
    counted = Counted()
    counted.watch(
        "his_webservice_requests_total", surface="REST", method="other", outcome="NOT_FOUND", client=creds.name
    )
    counted.watch(
        "his_webservice_requests_total", surface="SOAP", method="other", outcome="INVALID_INPUT", client=creds.name
    )
    call_rest(client, "EulaliaQuintanilla", creds.basic())
    call_soap(client, "EulaliaQuintanilla", creds.basic())
    assert counted.delta("his_webservice_requests_total", surface="REST", method="other", outcome="NOT_FOUND",
                         client=creds.name) == 1  # fmt: skip
    assert counted.delta("his_webservice_requests_total", surface="SOAP", method="other", outcome="INVALID_INPUT",
                         client=creds.name) == 1  # fmt: skip
    assert "Eulalia" not in client.get("/metrics").content.decode()


def test_the_guides_method_names_are_the_methods_served():
    """The metrics' method labels (tuotempo.words.METHOD_NAMES) and the webservices cannot drift apart."""
    assert {m.name for m in methods()} == METHOD_NAMES


def test_a_database_failure_of_a_call_is_counted_even_when_its_audit_entry_cannot_be_written(
    client, creds, monkeypatch
):
    counted = Counted()
    counted.watch("his_database_errors_total", where="webservices")
    counted.watch("his_webservice_requests_total", surface="REST", method="GetCenters", outcome="SERVICE_UNAVAILABLE",
                  client=creds.name)  # fmt: skip

    def broken(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("webservices.methods.centers.centers_in_scope", broken)
    monkeypatch.setattr(AuditEntry, "save", lambda self, **kw: (_ for _ in ()).throw(OperationalError("gone")))
    assert call_rest(client, "GetCenters", creds.basic()).status_code == 503
    assert counted.delta("his_database_errors_total", where="webservices") == 1
    assert counted.delta("his_webservice_requests_total", surface="REST", method="GetCenters",
                         outcome="SERVICE_UNAVAILABLE", client=creds.name) == 1  # fmt: skip
    assert AuditEntry.objects.count() == 0


# ------------------------------------------------------------------ figures other apps register


def test_figures_another_app_registers_are_read_at_each_scrape(client, monkeypatch):
    """How the exchange app reports its runs from its run log, without the operations app knowing it."""
    runs = {"OK": 3, "FAILED": 1}

    def exchange_runs():
        yield Figure(
            "his_exchange_runs_total",
            "Runs of the exchange commands by outcome.",
            "counter",
            [({"command": "export_appointments", "outcome": k}, v) for k, v in runs.items()],
        )

    def broken():
        raise OperationalError("gone")

    monkeypatch.setattr(core.operations, "_figure_sources", {"exchange": exchange_runs, "broken": broken})
    text = client.get("/metrics").content.decode()
    assert 'his_exchange_runs_total{command="export_appointments",outcome="FAILED"} 1.0' in text
    runs["FAILED"] = 2
    text = client.get("/metrics").content.decode()
    assert 'his_exchange_runs_total{command="export_appointments",outcome="FAILED"} 2.0' in text
    assert "his_webservice_requests_total" in text  # one source failing costs nothing else


def test_a_page_that_fails_on_the_database_is_counted(database_gone):
    from django.test import Client

    counted = Counted()
    counted.watch("his_database_errors_total", where="pages")
    page = Client(raise_request_exception=False).get(
        "/admin/", HTTP_COOKIE="sessionid=abcdefghijklmnopqrstuvwxyz012345"
    )
    assert page.status_code == 500
    assert counted.delta("his_database_errors_total", where="pages") == 1
