"""GET /health/live and GET /health/ready: no credentials, no data; 503 naming what is down."""

import pytest

import core.operations
from clients.models import AuditEntry
from ops import health
from tests.ops.conftest import Counted

pytestmark = pytest.mark.django_db


def test_live_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        answer = client.get("/health/live")
    assert (answer.status_code, answer.json()) == (200, {"status": "ok"})
    assert answer["Cache-Control"] == "no-store"
    assert AuditEntry.objects.count() == 0  # a probe is not a webservice call


def test_ready_answers_ok_naming_each_check(client, settings, tmp_path):
    answer = client.get("/health/ready")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "checks": {"database": "ok", "migrations": "ok", "storage": "ok"}}
    assert answer["Cache-Control"] == "no-store"
    # The storage probe cleaned up after itself and nothing was audited.
    assert [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()] == []
    assert AuditEntry.objects.count() == 0


def test_ready_answers_503_naming_the_database_when_it_is_gone(client, database_gone):
    counted = Counted()
    counted.watch("his_database_errors_total", where="health")
    answer = client.get("/health/ready")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "down" and body["down"] == ["database", "migrations"]
    assert body["checks"]["database"].startswith("down: the database does not answer (OperationalError")
    assert body["checks"]["migrations"] == health.MSG_NOT_CHECKED
    assert body["checks"]["storage"] == "ok"
    assert counted.delta("his_database_errors_total", where="health") == 1
    # Live still answers: restarting the process would not bring the database back.
    assert client.get("/health/live").status_code == 200


def test_ready_names_no_credential_of_the_database(client, database_gone):
    from django.db import connection

    text = client.get("/health/ready").content.decode()
    for secret in filter(None, [connection.settings_dict.get("USER"), connection.settings_dict.get("PASSWORD")]):
        assert secret not in text
    assert "9" not in text.replace("503", "")  # not even the port it tried


def test_ready_answers_503_naming_migrations_not_applied(client, monkeypatch):
    on_disk = health.migrations_on_disk() | {("clients", "9999_a_later_release")}
    monkeypatch.setattr(health, "migrations_on_disk", lambda: on_disk)
    answer = client.get("/health/ready")
    assert answer.status_code == 503
    assert answer.json()["down"] == ["migrations"]
    assert answer.json()["checks"]["migrations"] == "down: 1 migration(s) not applied (clients.9999_a_later_release)"


def test_ready_answers_503_naming_storage_that_cannot_be_written(client, settings, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    settings.MEDIA_ROOT = blocker / "media"
    answer = client.get("/health/ready")
    assert answer.status_code == 503
    assert answer.json()["down"] == ["storage"]
    assert answer.json()["checks"]["storage"].startswith("down: the result files' storage cannot be written (")


def test_a_check_another_app_registers_is_run_and_named(client, monkeypatch):
    """How the Sincro app adds its worker's heartbeat, without the operations app knowing it."""
    checks = {"sincro": lambda: "down: no Sincro worker seen for 180 seconds"}
    monkeypatch.setattr(core.operations, "_readiness_checks", checks)
    answer = client.get("/health/ready")
    assert (answer.status_code, answer.json()["down"]) == (503, ["sincro"])
    assert answer.json()["checks"]["sincro"] == "down: no Sincro worker seen for 180 seconds"

    checks["sincro"] = lambda: None
    assert client.get("/health/ready").json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "storage": "ok", "sincro": "ok"},
    }


def test_a_registered_check_that_raises_counts_as_down_without_its_message(client, monkeypatch):
    def broken():
        raise RuntimeError("password=hunter2 in a message")

    monkeypatch.setattr(core.operations, "_readiness_checks", {"sincro": broken})
    answer = client.get("/health/ready")
    assert answer.status_code == 503
    assert answer.json()["checks"]["sincro"] == "down: the check failed (RuntimeError)"
    assert "hunter2" not in answer.content.decode()


def test_probes_answer_get_only(client):
    assert client.post("/health/ready").status_code == 405
    assert client.post("/health/live").status_code == 405


def test_probes_answer_head_for_balancers_that_use_it(client):
    assert client.head("/health/live").status_code == 200
    assert client.head("/health/ready").status_code == 200
