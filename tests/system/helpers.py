"""What the system tests share: a real gunicorn server, a REST client that classifies every answer,
a tally of outcomes, and the database checks run after each load.

Everything runs on 127.0.0.1, with bounded loops and timeouts: a hung server fails a test, it never
hangs the run.
"""

import contextlib
import datetime as dt
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import requests
import urllib3

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
HOST = "127.0.0.1"
REQUEST_TIMEOUT = 30
START_TIMEOUT = 30
STOP_TIMEOUT = 10

# The small hospital the tests book in: three doctors open every day, 07:00-21:00, 15-minute visits.
CENTER_LID = "SYS"
ACTIVITY_LID = "SYS-CON"
DOCTOR_LIDS = ("SYS-D1", "SYS-D2", "SYS-D3")
CLIENT_NAME = "sys-load"
THROTTLE_CLIENT_NAME = "sys-throttle"
ACTIVE = ("PENDING", "APPROVED")

# Kinds of outcome. Only OK and the contract's error codes are clean answers.
OK = "OK"
CONFLICT = "CONFLICT"
UNAVAILABLE = "SERVICE_UNAVAILABLE"
CONNECTION_LOST = "CONNECTION_LOST"  # sent, but no answer came: reset or timed out (may have committed)
REFUSED = "REFUSED"  # no server listening: the request was never sent
NOT_ENVELOPE = "NOT_ENVELOPE"  # an HTML page, a traceback, anything but the JSON envelope

# The figures each test measured, printed at the end of the run (docs/reliability.md quotes them).
FIGURES: list[str] = []


def report(line: str) -> None:
    FIGURES.append(line)


def seed_small_hospital() -> None:
    """Run inside Django (manage.py shell): the center, doctors, activity and weekly rules."""
    import datetime as _dt

    from appointments.models import Weekday
    from demo.factories import (
        ActivityFactory,
        AvailabilityRuleFactory,
        CenterFactory,
        LocationFactory,
        ResourceActivityFactory,
        ResourceFactory,
    )

    center = CenterFactory(lid=CENTER_LID, name="Hospital de pruebas de sistema", time_zone="Europe/Madrid")
    location = LocationFactory(lid="SYS-CE", name="Consultas", center=center)
    activity = ActivityFactory(lid=ACTIVITY_LID, name="Consulta", duration=15, price="50.00")
    for lid in DOCTOR_LIDS:
        doctor = ResourceFactory(lid=lid, location=location)
        ResourceActivityFactory(resource=doctor, activity=activity)
        for weekday in Weekday.values:
            AvailabilityRuleFactory(
                lid=f"{lid}-R{weekday}",
                resource=doctor,
                weekday=weekday,
                start_time=_dt.time(7, 0),
                end_time=_dt.time(21, 0),
            )


def manage(database_url: str, *args: str) -> str:
    """Runs a management command against the test database; its stdout."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, "HIS_SECRET_KEY": secret_key()},
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def create_client(database_url: str, name: str, *options: str) -> str:
    """A new integration client's secret."""
    output = manage(database_url, "create_integration_client", name, *options)
    return json.loads(output.strip().splitlines()[-1])["secret"]


_KEY = "system-tests-" + secrets.token_urlsafe(48)


def secret_key() -> str:
    return _KEY


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def children_of(pid: int) -> set[int]:
    """The processes whose parent is pid (gunicorn's workers, for its master)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces, so split after its closing parenthesis.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@dataclass
class Server:
    """One gunicorn instance of the project, as `make serve` runs it, on a port of its own."""

    database_url: str
    secret: str
    workdir: Path
    workers: int = 2
    port: int = field(default_factory=free_port)
    env: dict = field(default_factory=dict)
    process: subprocess.Popen | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> "Server":
        self.starts += 1
        log = open(self.workdir / f"gunicorn-{self.port}-{self.starts}.log", "wb")  # noqa: SIM115 (kept by Popen)
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "HIS_ALLOWED_HOSTS": HOST,
            "HIS_SECRET_KEY": secret_key(),
            "HIS_MEDIA_ROOT": str(self.workdir / "media"),
            **self.env,
        }
        self.process = subprocess.Popen(
            [
                str(GUNICORN),
                "his.wsgi:application",
                "--workers",
                str(self.workers),
                "--bind",
                f"{HOST}:{self.port}",
                "--timeout",
                "30",
                "--graceful-timeout",
                "5",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill -9 of the whole server reaches every worker
        )
        log.close()
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn on port {self.port} exited with {self.process.returncode}: {self.log()}")
            try:
                answer = requests.get(
                    f"{self.url}/api/searchavailabilities",
                    params={"activity_lid": ACTIVITY_LID, "ava_results_number": 1},
                    headers={"Authorization": f"Bearer {self.secret}"},
                    timeout=5,
                )
                if answer.status_code == 200 and len(self.workers_pids()) == self.workers:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn on port {self.port} did not answer within {START_TIMEOUT}s: {self.log()}")

    @property
    def master(self) -> int:
        return self.process.pid

    def workers_pids(self) -> set[int]:
        return children_of(self.master) if self.process else set()

    def kill_worker(self) -> int:
        """kill -9 of one worker; its pid."""
        victim = min(self.workers_pids())
        os.kill(victim, signal.SIGKILL)
        return victim

    def kill_all(self) -> None:
        """kill -9 of the master and every worker at once, as a crash of the machine's process would."""
        os.killpg(self.master, signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT)
        deadline = time.monotonic() + STOP_TIMEOUT
        while self._group_alive() and time.monotonic() < deadline:
            time.sleep(0.05)

    def _group_alive(self) -> bool:
        try:
            os.killpg(self.master, 0)
        except ProcessLookupError:
            return False
        return True

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=STOP_TIMEOUT)
        if self._group_alive():  # leftover workers of a killed master
            os.killpg(self.master, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait(timeout=STOP_TIMEOUT)

    def log(self) -> str:
        logs = sorted(self.workdir.glob(f"gunicorn-{self.port}-*.log"))
        return logs[-1].read_text(errors="replace")[-3000:] if logs else ""


@dataclass
class Answer:
    kind: str  # OK, a contract error code, CONNECTION_LOST or NOT_ENVELOPE
    status: int | None
    body: dict | None
    retry_after: str | None = None
    at: float = 0.0

    @property
    def payload(self) -> dict:
        return (self.body or {}).get("return") or {}


def classify(response: requests.Response) -> Answer:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not {"result", "return", "msg"} <= body.keys():
        return Answer(NOT_ENVELOPE, response.status_code, {"text": response.text[:300]}, at=time.monotonic())
    kind = OK if body["result"] == "OK" else str(body.get("code"))
    return Answer(kind, response.status_code, body, response.headers.get("Retry-After"), at=time.monotonic())


class Api:
    """The REST calls the load makes, each answered by an Answer, never by an exception."""

    def __init__(self, url: str, secret: str):
        self.url = url
        self.headers = {"Authorization": f"Bearer {secret}"}

    def _send(self, verb: str, method: str, *, url: str | None = None, **kwargs) -> Answer:
        try:
            response = requests.request(
                verb,
                f"{url or self.url}/api/{method}",
                headers=self.headers,
                timeout=REQUEST_TIMEOUT,
                **kwargs,
            )
        except requests.ConnectionError as exc:
            reason = getattr(exc.args[0], "reason", None) if exc.args else None
            kind = REFUSED if isinstance(reason, urllib3.exceptions.NewConnectionError) else CONNECTION_LOST
            return Answer(kind, None, None, at=time.monotonic())
        except requests.RequestException:
            return Answer(CONNECTION_LOST, None, None, at=time.monotonic())
        return classify(response)

    def search(self, *, day: dt.date, days: int = 1, results: int = 100, url: str | None = None) -> Answer:
        params = {
            "activity_lid": ACTIVITY_LID,
            "ava_start_day": f"{day:%d/%m/%Y}",
            "ava_end_day": f"{day + dt.timedelta(days=days - 1):%d/%m/%Y}",
            "ava_results_number": results,
        }
        return self._send("GET", "searchavailabilities", params=params, url=url)

    def book(self, *, slot: str, id_number: str, url: str | None = None) -> Answer:
        body = {
            "availability_lid": slot,
            "user_first_name": "Prueba",
            "user_second_name": f"Sistema {id_number}",
            "user_id_number": id_number,
        }
        return self._send("POST", "addappointment", json=body, url=url)

    def cancel(self, *, app_lid: str, url: str | None = None) -> Answer:
        return self._send("POST", "deleteappointment", json={"app_lid": app_lid}, url=url)

    def slots(self, *, day: dt.date, days: int = 1, count: int = 100) -> list[str]:
        """The AVAILABILITY_LIDs of the first free slots from that day."""
        answer = self.search(day=day, days=days, results=count)
        assert answer.kind == OK, answer
        return [row["AVAILABILITY_LID"] for row in answer.body["return"]]


class Tally:
    """Outcomes counted by (call, kind), thread-safe; each booking kept for the checks afterwards."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts: Counter = Counter()
        self.bookings: list[tuple[str, Answer]] = []  # (id number sent, answer)
        self.cancelled: set[str] = set()

    def add(self, call: str, answer: Answer, *, id_number: str | None = None, app_lid: str | None = None) -> None:
        with self.lock:
            self.counts[(call, answer.kind)] += 1
            if call == "book":
                self.bookings.append((id_number, answer))
            if call == "cancel" and answer.kind == OK:
                self.cancelled.add(app_lid)

    def kinds(self) -> Counter:
        kinds: Counter = Counter()
        for (_, kind), n in self.counts.items():
            kinds[kind] += n
        return kinds

    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        return ", ".join(f"{call} {kind}: {n}" for (call, kind), n in sorted(self.counts.items()))


def today() -> dt.date:
    return dt.date.today()


# ---------------------------------------------------------------- checks on the database


def query(database_url: str, sql: str, params=()) -> list[tuple]:
    with psycopg.connect(database_url, connect_timeout=10) as conn:
        return conn.execute(sql, params).fetchall()


def overlapping_pairs(database_url: str) -> list[tuple]:
    """Pairs of active appointments of one resource whose times overlap (must be none)."""
    return query(
        database_url,
        """
        SELECT a.lid, b.lid FROM appointments_appointment a
        JOIN appointments_appointment b
          ON a.resource_id = b.resource_id AND a.id < b.id AND a.start < b."end" AND b.start < a."end"
        WHERE a.status = ANY(%s) AND b.status = ANY(%s)
        """,
        (list(ACTIVE), list(ACTIVE)),
    )


def appointments_without_patient(database_url: str) -> list[tuple]:
    return query(
        database_url,
        """
        SELECT a.lid FROM appointments_appointment a
        LEFT JOIN appointments_patient p ON p.id = a.patient_id WHERE p.id IS NULL
        """,
    )


def patients_by_id_number(database_url: str, id_numbers) -> dict[str, list[tuple]]:
    """id number -> [(appointment lid or None, status)] for each patient registered with it."""
    rows = query(
        database_url,
        """
        SELECT p.id_key, a.lid, a.status FROM appointments_patient p
        LEFT JOIN appointments_appointment a ON a.patient_id = p.id
        WHERE p.id_key = ANY(%s)
        """,
        (list(id_numbers),),
    )
    found: dict[str, list[tuple]] = {}
    for id_key, lid, status in rows:
        found.setdefault(id_key, []).append((lid, status))
    return found


def patients_without_appointment(database_url: str, prefix: str) -> list[str]:
    """Test patients (id number starting with prefix) that hold no appointment: left by a failed booking."""
    rows = query(
        database_url,
        """
        SELECT p.id_key FROM appointments_patient p
        WHERE p.id_key LIKE %s
          AND NOT EXISTS (SELECT 1 FROM appointments_appointment a WHERE a.patient_id = p.id)
        """,
        (prefix + "%",),
    )
    return [row[0] for row in rows]


def appointment_rows(database_url: str, lids) -> dict[str, tuple]:
    """appointment lid -> (status, patient id number)."""
    rows = query(
        database_url,
        """
        SELECT a.lid, a.status, p.id_key FROM appointments_appointment a
        JOIN appointments_patient p ON p.id = a.patient_id WHERE a.lid = ANY(%s)
        """,
        (list(lids),),
    )
    return {lid: (status, id_key) for lid, status, id_key in rows}


def bookings_consistent(database_url: str, tally: Tally) -> list[str]:
    """Every problem found between the answers the load got and the rows left in the database:
    an OK answer must have its row (active unless the run cancelled it, for the patient sent); a
    refused booking must have left no patient and no appointment. Answers never received
    (CONNECTION_LOST) may have committed or not, but never half: see patients_without_appointment."""
    problems = []
    ok = {answer.payload["APP_LID"]: id_number for id_number, answer in tally.bookings if answer.kind == OK}
    refused = [id_number for id_number, answer in tally.bookings if answer.kind not in (OK, CONNECTION_LOST)]
    rows = appointment_rows(database_url, ok)
    for lid, id_number in ok.items():
        if lid not in rows:
            problems.append(f"OK answer {lid} has no row")
            continue
        status, id_key = rows[lid]
        expected = "CANCELLED_BY_USER" if lid in tally.cancelled else "APPROVED"
        if status != expected or id_key != id_number:
            problems.append(f"{lid}: {status} for {id_key}, expected {expected} for {id_number}")
    for id_number, holdings in patients_by_id_number(database_url, refused).items():
        problems.append(f"refused booking of {id_number} left a patient behind: {holdings}")
    return problems


# ---------------------------------------------------------------- loads


def race(*, api: Api, urls: list[str], slots: list[str], contenders: int, prefix: str) -> tuple[Tally, list[Answer]]:
    """For each slot in turn, `contenders` requests released at the same instant by a barrier, each
    for a new patient (id number prefix + round + contender), spread over the urls in turn. Returns
    the tally and, per round, the answers."""
    from concurrent.futures import ThreadPoolExecutor

    tally = Tally()
    rounds = []
    with ThreadPoolExecutor(max_workers=contenders) as pool:
        for n, slot in enumerate(slots):
            barrier = threading.Barrier(contenders, timeout=REQUEST_TIMEOUT)

            def contend(i: int, slot=slot, n=n, barrier=barrier) -> Answer:
                id_number = f"{prefix}{n:03d}{i:03d}"
                barrier.wait()
                answer = api.book(slot=slot, id_number=id_number, url=urls[(n * contenders + i) % len(urls)])
                tally.add("book", answer, id_number=id_number)
                return answer

            rounds.append(list(pool.map(contend, range(contenders), timeout=REQUEST_TIMEOUT * 4)))
    return tally, rounds
