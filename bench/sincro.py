"""Sincro's measurements on PostgreSQL: rows applied per second with one and two workers, the latency
from an INSERT into TT_RESERVATIONS_TMP to its STATUS_TRIGGER (p50/p95), and the time to read each
TT_* view.

    python bench/sincro.py                       # a fresh demo hospital in its own database
    python bench/sincro.py --appointments 1000000  # first add appointments up to that many (a minute or two)
    python bench/sincro.py --appointments 1000000 --spread even  # half of them ahead, up to a year
    python bench/sincro.py --rows 300 --latency-rows 100

Writes bench/sincro.json (bench/sincro-even.json with --spread even) and prints it. Rows are written
as the agent writes them (psycopg, plain SQL); workers are real `manage.py sincro_worker` processes.
"""

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DATABASE = "his_bench_sincro"
CLIENT = "sincro-demo"
VIEWS = (
    "TT_RESOURCES", "TT_ACTIVITIES", "TT_INSURANCES", "TT_RESOURCES_ACTIVITIES", "TT_INSURANCES_ACTIVITIES",
    "TT_INSURANCES_RESOURCES", "TT_AVAILABILITIES", "TT_ACTIVITIES_AVAILABILITIES", "TT_RESERVATIONS", "TT_DOWNLOADS",
)  # fmt: skip


def log(message: str) -> None:
    print(f"[sincro bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def manage(*args: str, env: dict) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


# How the added appointments lie in time (start, in days from now; length of the span, in days). A
# hospital: three years of history and bookings up to 90 days ahead, at one rate all along (more
# ahead than a real diary holds, which thins out after a few weeks). Even: a year each side of today.
SPREADS = {"hospital": (-1095, 1185), "even": (-365, 730)}


def build(env: dict, appointments: int, spread: str) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DATABASE}")
    manage("migrate", "--noinput", env=env)
    manage("seed_demo", env=env)
    if appointments:
        add_appointments(env["DATABASE_URL"], appointments, spread)
    manage("sincro_worker", "--once", env=env)  # the agent, the intervals


def add_appointments(url: str, total: int, spread: str) -> None:
    """Cancelled appointments (no overlap to respect) spread in time as SPREADS says, up to `total`."""
    first, span = SPREADS[spread]
    with psycopg.connect(url, autocommit=True) as db:
        have = db.execute("SELECT COUNT(*) FROM appointments_appointment").fetchone()[0]
        missing = max(0, total - have)
        log(f"adding {missing} appointments")
        db.execute(
            """INSERT INTO appointments_appointment (lid, tid, resource_id, activity_id, insurance_id, location_id,
                 patient_id, start, "end", status, origin, owner_lid, owner_tid, owner_name, notes, created, modified)
               SELECT 'BENCH-' || n, '', r.id, ra.activity_id, NULL, r.location_id, p.id,
                 now() + %(first)s * interval '1 day' + n * %(span)s * interval '1 day' / %(missing)s,
                 now() + %(first)s * interval '1 day' + n * %(span)s * interval '1 day' / %(missing)s
                   + interval '15 minutes',
                 'CANCELLED_BY_ADMIN', 'DESK', '', '', '', '', now(), now()
               FROM generate_series(1, %(missing)s) AS n
               JOIN LATERAL (SELECT id, location_id FROM appointments_resource ORDER BY id
                             OFFSET (n %% 30) LIMIT 1) r ON true
               JOIN LATERAL (SELECT activity_id FROM appointments_resourceactivity WHERE resource_id = r.id
                             ORDER BY id LIMIT 1) ra ON true
               JOIN LATERAL (SELECT id FROM appointments_patient ORDER BY id OFFSET (n %% 200) LIMIT 1) p ON true""",
            {"first": first, "span": span, "missing": missing},
        )
        db.execute("ANALYZE")


def free_slots(db, first: dt.date, count: int) -> list[tuple]:
    """Slots far from the demo's appointments, from the views: weekly intervals open to every activity."""
    resources = {
        r: step
        for r, step in db.execute("SELECT RESOURCE_LID, AVAILABILITIES_STEP FROM TT_RESOURCES WHERE WEB_ENABLED = 1")
    }
    restricted = {lid for (lid,) in db.execute("SELECT DISTINCT AVAILABILITY_LID FROM TT_ACTIVITIES_AVAILABILITIES")}
    activity = {}
    for resource, lid, duration in db.execute(
        "SELECT ra.RESOURCE_LID, ra.ACTIVITY_LID, ra.ACTIVITY_DURATION FROM TT_RESOURCES_ACTIVITIES ra "
        "JOIN TT_ACTIVITIES a ON a.ACTIVITY_LID = ra.ACTIVITY_LID WHERE a.WEB_ENABLED = 1"
    ):
        activity.setdefault(resource, (lid, duration))
    intervals = [
        row
        for row in db.execute(
            "SELECT AVAILABILITY_LID, R_WORKING_DAY, R_START_TIME, R_END_TIME, RESOURCE_LID "
            "FROM TT_AVAILABILITIES WHERE R_END_DAY IS NULL"
        )  # fmt: skip
        if row[0] not in restricted and row[4] in resources and row[4] in activity
    ]
    slots, day = [], first
    while len(slots) < count:
        weekday = str((day.weekday() + 1) % 7)
        for _lid, working_day, start, end, resource in intervals:
            if working_day != weekday:
                continue
            act, duration = activity[resource]
            grid = resources[resource] or duration
            step = -(-duration // grid) * grid  # the next start on the doctor's grid that does not overlap
            hour, minute = map(int, start.split(":"))
            at, stop = hour * 60 + minute, sum(x * y for x, y in zip(map(int, end.split(":")), (60, 1), strict=True))
            while at + duration <= stop and len(slots) < count:
                slots.append((resource, act, f"{day:%d/%m/%Y}", f"{at // 60:02d}:{at % 60:02d}"))
                at += step
        day += dt.timedelta(days=1)
    return slots


def insert_rows(db, slots: list[tuple]) -> list[int]:
    ids = []
    with db.transaction():
        for n, (resource, act, day, start) in enumerate(slots):
            ids.append(
                db.execute(
                    "INSERT INTO TT_RESERVATIONS_TMP (APP_TID, APP_ACTION, APP_DATE, APP_START_TIME, RESOURCE_LID, "
                    "ACTIVITY_LID, USER_FIRST_NAME, USER_SECOND_NAME, USER_ID_NUMBER) "
                    "VALUES (%s, 'ADD', %s, %s, %s, %s, 'Bench', %s, %s) RETURNING APP_TMP_ID",
                    (f"B{n}", day, start, resource, act, f"Row{n}", f"BENCH{time.time_ns()}{n}"),
                ).fetchone()[0]
            )
    return ids


def pending(db, ids: list[int]) -> int:
    return db.execute(
        "SELECT COUNT(*) FROM TT_RESERVATIONS_TMP WHERE APP_TMP_ID = ANY(%s) AND STATUS_TRIGGER IS NULL", (ids,)
    ).fetchone()[0]


def start_workers(n: int, env: dict, db) -> list[subprocess.Popen]:
    before = {name for (name,) in db.execute("SELECT name FROM sincro_workerbeat")}
    workers = [
        subprocess.Popen([sys.executable, "manage.py", "sincro_worker"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        for _ in range(n)
    ]
    while len({name for (name,) in db.execute("SELECT name FROM sincro_workerbeat")} - before) < n:
        if any(worker.poll() is not None for worker in workers):
            raise SystemExit("a worker stopped while starting")
        time.sleep(0.1)
    time.sleep(1)  # each is waiting on LISTEN now
    return workers


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.wait(timeout=60)


def throughput(db, env: dict, workers: int, slots: list[tuple]) -> dict:
    running = start_workers(workers, env, db)
    try:
        began = time.monotonic()
        ids = insert_rows(db, slots)
        while pending(db, ids):
            time.sleep(0.02)
        seconds = time.monotonic() - began
    finally:
        stop_workers(running)
    ok = db.execute(
        "SELECT COUNT(*) FROM TT_RESERVATIONS_TMP WHERE APP_TMP_ID = ANY(%s) AND STATUS_TRIGGER = 'OK'", (ids,)
    ).fetchone()[0]
    return {"workers": workers, "rows": len(ids), "ok": ok, "seconds": round(seconds, 2),
            "rows_per_second": round(len(ids) / seconds, 1)}  # fmt: skip


def latency(db, env: dict, slots: list[tuple]) -> dict:
    running = start_workers(1, env, db)
    times = []
    try:
        for slot in slots:
            began = time.monotonic()
            (row_id,) = insert_rows(db, [slot])
            while pending(db, [row_id]):
                time.sleep(0.002)
            times.append((time.monotonic() - began) * 1000)
            time.sleep(0.05)
    finally:
        stop_workers(running)
    times.sort()
    return {"rows": len(times), "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[int(len(times) * 0.95) - 1], 1), "max_ms": round(times[-1], 1)}  # fmt: skip


def read_time(db, query: str) -> tuple[int, float, float]:
    """Rows, and the best of three reads in seconds: fetched into Python objects (psycopg), and sent
    by the database (COPY, the rows received as text and not converted: the database's own cost,
    close to what a compiled agent pays)."""
    fetched = sent = None
    rows = 0
    for _ in range(3):
        began = time.monotonic()
        rows = len(db.execute(query).fetchall())
        elapsed = time.monotonic() - began
        fetched = elapsed if fetched is None else min(fetched, elapsed)
        began = time.monotonic()
        with db.cursor().copy(f"COPY ({query}) TO STDOUT") as copy:
            for _block in copy:
                pass
        elapsed = time.monotonic() - began
        sent = elapsed if sent is None else min(sent, elapsed)
    return rows, round(fetched, 3), round(sent, 3)


def view_times(db) -> dict:
    found = {}
    for view in VIEWS:
        rows, fetched, sent = read_time(db, f"SELECT * FROM {view}")
        found[view] = {"rows": rows, "seconds": fetched, "sent_seconds": sent}
    return found


def horizon_times(db, days: tuple[int, ...]) -> dict:
    """TT_RESERVATIONS and TT_AVAILABILITIES with HIS_SINCRO_DAYS_AHEAD set to each of `days` (the
    setting the worker writes into sincro_agent when it starts), then unset again."""
    found = {}
    try:
        for ahead in days:
            db.execute("UPDATE sincro_agent SET days_ahead = %s", (ahead,))
            for view in ("TT_RESERVATIONS", "TT_AVAILABILITIES"):
                rows, fetched, sent = read_time(db, f"SELECT * FROM {view}")
                found[f"{view} {ahead} days ahead"] = {"rows": rows, "seconds": fetched, "sent_seconds": sent}
    finally:
        db.execute("UPDATE sincro_agent SET days_ahead = NULL")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200, help="rows per throughput run (default 200)")
    parser.add_argument("--latency-rows", type=int, default=100, help="rows for the latency (default 100)")
    parser.add_argument("--appointments", type=int, default=0, help="fill appointments up to this many first")
    parser.add_argument(
        "--spread",
        choices=sorted(SPREADS),
        default="hospital",
        help="how the added appointments lie in time (default hospital: 3 years back, 90 days ahead)",
    )
    parser.add_argument("--reuse", action="store_true", help="keep the database of the last run")
    args = parser.parse_args()

    url = f"{SERVER}/{DATABASE}"
    env = {**os.environ, "DATABASE_URL": url, "HIS_SINCRO_CLIENT": CLIENT, "HIS_LOG_LEVEL": "ERROR"}
    if not args.reuse:
        log("building the demo hospital")
        build(env, args.appointments, args.spread)
    results = {
        "machine": {"cpus": os.cpu_count(), "load_average": os.getloadavg(), "python": platform.python_version()}
    }
    with psycopg.connect(url, autocommit=True) as db:
        results["appointments"] = db.execute("SELECT COUNT(*) FROM appointments_appointment").fetchone()[0]
        log(f"{results['appointments']} appointments; reading the views")
        results["spread"] = None if args.reuse or not args.appointments else args.spread
        results["views"] = view_times(db)
        results["horizons"] = horizon_times(db, (90, 60))
        # Days no appointment has reached yet (a reused database keeps the last run's bookings).
        last = db.execute("SELECT MAX(start) FROM appointments_appointment").fetchone()[0]
        first = max(dt.date.today() + dt.timedelta(days=120), last.date() + dt.timedelta(days=2))
        slots = free_slots(db, first, 2 * args.rows + args.latency_rows)
        log("rows per second, one worker")
        results["one_worker"] = throughput(db, env, 1, slots[: args.rows])
        log("rows per second, two workers")
        results["two_workers"] = throughput(db, env, 2, slots[args.rows : 2 * args.rows])
        log("INSERT to STATUS_TRIGGER, one idle worker")
        results["latency"] = latency(db, env, slots[2 * args.rows :])
    name = "sincro-even.json" if results["spread"] == "even" else "sincro.json"
    (HERE / name).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
