"""The worker as its own process, as it runs in production: concurrent with the webservices, killed
between rows, woken by PostgreSQL's NOTIFY, and seen by /health/ready."""

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from django.apps import apps
from django.db import connection

import core.operations
from appointments.models import ACTIVE_STATUSES, Appointment
from clients.models import AuditEntry, Surface
from demo.hospital import seed_demo_hospital
from sincro.models import WorkerBeat
from sincro.worker import Worker
from tests.sincro.agent import SincroAgent
from tests.sincro.conftest import SINCRO_CLIENT, ddmmyyyy, future_day

pytestmark = pytest.mark.live
ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    return f"postgres://{settings['USER']}{password}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"


def start_workers(count: int = 1, *, poll: int = 1, started: list | None = None) -> list[subprocess.Popen]:
    """`count` worker processes started at once, as two systemd units may start them (also added to
    `started`, so that they are stopped whatever happens)."""
    env = {**os.environ, "DATABASE_URL": database_url(), "HIS_SINCRO_CLIENT": SINCRO_CLIENT}
    env["HIS_SINCRO_POLL_SECONDS"] = str(poll)
    before = set(WorkerBeat.objects.values_list("name", flat=True))
    processes = [
        subprocess.Popen([sys.executable, "manage.py", "sincro_worker"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        for _ in range(count)
    ]
    if started is not None:
        started.extend(processes)
    deadline = time.monotonic() + 60
    while len(set(WorkerBeat.objects.values_list("name", flat=True)) - before) < count:
        assert all(process.poll() is None for process in processes), "a worker stopped"
        assert time.monotonic() < deadline, "the workers did not start"
        time.sleep(0.1)
    return processes


def stop(process: subprocess.Popen, sig=signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        process.wait(timeout=30)


@pytest.fixture
def workers():
    started = []

    def start(count: int = 1, **options):
        return start_workers(count, started=started, **options)[-1]

    yield start
    for process in started:
        stop(process, signal.SIGKILL)


def booking(n: int, day: dt.date, start: str) -> dict:
    return {"APP_TID": f"T{n}", "APP_ACTION": "ADD", "APP_DATE": ddmmyyyy(day), "APP_START_TIME": start,
            "RESOURCE_LID": "D1", "ACTIVITY_LID": "V1", "USER_FIRST_NAME": f"Row{n}", "USER_SECOND_NAME": "Sincro",
            "USER_ID_NUMBER": f"S{n}"}  # fmt: skip


def wait_all(agent, ids, timeout=120) -> list[dict]:
    return [agent.wait("TT_RESERVATIONS_TMP", "APP_TMP_ID", row_id, timeout=timeout) for row_id in ids]


def test_twenty_rows_and_twenty_webservice_bookings_of_one_slot_give_one_appointment(
    sincro_client, clinic, agent, live_server, workers
):
    workers(2)
    day = future_day()
    barrier = threading.Barrier(40, timeout=60)
    row_ids, answers = [], []

    def by_sincro(n):
        own = SincroAgent()
        barrier.wait()
        row_ids.append(own.add(**booking(n, day, "10:00")))
        own.close()

    def by_webservice(n):
        barrier.wait()
        response = requests.post(
            f"{live_server.url}/api/addappointment",
            json={"RESOURCE_LID": "D1", "ACTIVITY_LID": "V1", "APP_DATE": ddmmyyyy(day), "APP_START_TIME": "10:00",
                  "USER_FIRST_NAME": f"Web{n}", "USER_SECOND_NAME": "Test", "USER_ID_NUMBER": f"W{n}"},
            headers={"Authorization": f"Bearer {sincro_client.secret}"},
            timeout=120,
        )  # fmt: skip
        answers.append(response.json())

    threads = [threading.Thread(target=by_sincro, args=(n,)) for n in range(20)]
    threads += [threading.Thread(target=by_webservice, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    rows = wait_all(agent, row_ids)

    assert len(rows) == 20 and len(answers) == 20
    assert all(row["STATUS_TRIGGER"] for row in rows), "every row has its outcome"
    won = [row for row in rows if row["STATUS_TRIGGER"] == "OK"]
    won += [answer for answer in answers if answer["return"]["ADD_RESULT"] == "OK"]
    assert len(won) == 1
    lost = [row["STATUS_TRIGGER"] for row in rows if row["STATUS_TRIGGER"] != "OK"]
    assert all(text.startswith("ERROR: slot ") and "is no longer available" in text for text in lost), lost
    assert Appointment.objects.filter(status__in=ACTIVE_STATUSES).count() == 1
    applied = AuditEntry.objects.filter(surface=Surface.SINCRO).values_list("ids", flat=True)
    assert sorted(ids["TT_RESERVATIONS_TMP"] for ids in applied) == sorted(row_ids), "each row applied once"


def test_a_worker_killed_between_rows_loses_nothing_and_applies_nothing_twice(sincro_client, clinic, agent, workers):
    first = workers()
    starts = [f"{h:02d}:{m:02d}" for h in range(9, 13) for m in (0, 30)]
    ids = [agent.add(**booking(n, future_day(3 + n // 8), starts[n % 8])) for n in range(32)]
    while not agent.rows("SELECT APP_TMP_ID FROM TT_RESERVATIONS_TMP WHERE STATUS_TRIGGER = 'OK'"):
        time.sleep(0.01)
    stop(first, signal.SIGKILL)
    assert first.returncode == -signal.SIGKILL
    left = agent.rows("SELECT COUNT(*) AS N FROM TT_RESERVATIONS_TMP WHERE STATUS_TRIGGER IS NULL")[0]["N"]

    workers()  # rows written while no worker ran are applied when one starts
    rows = wait_all(agent, ids)

    assert left > 0, "the worker was killed before the last row"
    assert [row["STATUS_TRIGGER"] for row in rows] == ["OK"] * 32
    assert len({row["APP_LID"] for row in rows}) == 32
    assert Appointment.objects.count() == 32


def test_postgresql_wakes_the_worker_on_insert_without_waiting_for_a_poll(sincro_client, clinic, agent, workers):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no NOTIFY: its worker polls")
    workers(poll=60)
    time.sleep(0.5)  # the worker is waiting on LISTEN now
    began = time.monotonic()
    row_id = agent.add(**booking(1, future_day(), "09:00"))
    row = agent.wait("TT_RESERVATIONS_TMP", "APP_TMP_ID", row_id, timeout=30)
    assert row["STATUS_TRIGGER"] == "OK"
    assert time.monotonic() - began < 2


def test_ready_reports_sincro_down_until_a_worker_beats(sincro_client, client, monkeypatch):
    monkeypatch.setattr(core.operations, "_readiness_checks", {})
    apps.get_app_config("sincro").ready()  # registers its check: HIS_SINCRO_CLIENT is set
    answer = client.get("/health/ready")
    assert answer.status_code == 503 and answer.json()["checks"]["sincro"].startswith("down: no Sincro worker")
    Worker().run(once=True)
    assert client.get("/health/ready").json()["checks"]["sincro"] == "ok"
    metrics = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert 'his_sincro_rows_pending{table="TT_RESERVATIONS_TMP"} 0.0' in metrics


def test_workers_started_at_the_same_moment_all_run(sincro_client, workers):
    seed_demo_hospital()  # enough rules that their first rebuilds of TT_AVAILABILITIES overlap
    Worker().run(once=True)  # each of them rewrites these
    workers(3)  # fails if one of them stops while starting
