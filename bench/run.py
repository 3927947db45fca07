"""`make bench`: build (or reuse) the two hospitals, serve each with gunicorn, drive it with wrk,
write bench/results.json and the generated part of docs/performance.md.

    python bench/run.py                 # build both databases afresh, then measure
    python bench/run.py --reuse         # keep databases built in the last days (bench/build.py --reuse)
    python bench/run.py --duration 20   # seconds per measured case (default 10)
    python bench/run.py --database his_mine --no-group   # databases of another name; without the 3,000 doctors
    python bench/run.py --reuse --only GetCenters addAppointment   # a quick look at some cases, nothing written

The load comes from wrk (one thread, C connections, a Lua script replaying a file of prepared
requests) in a process of its own: it costs far less CPU per request than a Python client, which
matters on a two-core machine where the client, both gunicorn workers and PostgreSQL share the CPUs.
Every case runs at two concurrencies: 2 connections (one per worker: the latency of a request,
without waiting in gunicorn's queue) and 8 (saturated: the throughput, and latency with queueing).
"""

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from xml.sax.saxutils import escape

import psycopg

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
sys.path.insert(0, str(HERE))

import build  # noqa: E402
import report  # noqa: E402

TNS = "http://tuotempo.his/ws"
# Scale: (database name suffix, appointments, doctors). 1M is the hospital every case runs on; 10k and
# 3M (a hospital group: 3,000 doctors) the growth comparisons.
SCALES = {"1M": ("", 1_000_000, 300), "10k": ("_10k", 10_000, 300), "3M": ("_3k", 3_000_000, 3_000)}
GROUP_CASES = ("GetCenters", "search_any_31d", "addAppointment", "KeyEntities")
SEARCH_CASES = ("search_one_doctor_7d", "search_any_31d", "search_full_31d")
CASES = ("GetCenters", *SEARCH_CASES, "getAppointments", "KeyEntities", "addAppointment")
SURFACES = ("REST", "SOAP")
MIX = {"search_any_31d": 45, "search_one_doctor_7d": 20, "getAppointments": 25, "addAppointment": 10}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def ddmmyyyy(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


# ---------------------------------------------------------------- requests, as lines for wrk.lua


def rest_line(method: str, params: dict, write: bool = False) -> str:
    if write:
        return f"POST\t/api/{method.lower()}\tapplication/json\t\t{json.dumps(params)}"
    query = urllib.parse.urlencode(params)
    return f"GET\t/api/{method.lower()}{'?' + query if query else ''}\t\t\t"


def soap_line(method: str, params: dict) -> str:
    elements = "".join(f"<ws:{k}>{escape(str(v))}</ws:{k}>" for k, v in params.items())
    body = (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns:ws="{TNS}"><soapenv:Body><ws:{method}>{elements}</ws:{method}></soapenv:Body></soapenv:Envelope>'
    )
    return f'POST\t/soap/\ttext/xml; charset=utf-8\t"{method}"\t{body}'


def line(surface: str, method: str, params: dict, write: bool = False) -> str:
    return rest_line(method, params, write) if surface == "REST" else soap_line(method, params)


class Plan:
    """What the requests of each case name, read from the bench database."""

    def __init__(self, database: str, meta: dict, seed: int = 11):
        self.meta = meta
        self.rng = random.Random(seed)
        with psycopg.connect(f"{build.server_url()}/{database}") as conn:
            self.activities = [
                lid
                for (lid,) in conn.execute(
                    "SELECT lid FROM appointments_activity WHERE lid <> %s ORDER BY lid", [meta["full_activity"]]
                )
            ]
            self.pairs = conn.execute(
                "SELECT r.lid, a.lid FROM appointments_resourceactivity ra JOIN appointments_resource r "
                "ON r.id = ra.resource_id JOIN appointments_activity a ON a.id = ra.activity_id WHERE a.lid <> %s "
                "ORDER BY r.lid, a.lid",
                [meta["full_activity"]],
            ).fetchall()
            # getAppointments asks for the first 200 patients with appointments; bookings are made for 200
            # others, so that the lists keep their length (about five rows) however many runs booked.
            self.patients, self.bookers = (
                [
                    lid
                    for (lid,) in conn.execute(
                        "SELECT p.lid FROM appointments_patient p WHERE EXISTS (SELECT 1 FROM "
                        f"appointments_appointment a WHERE a.patient_id = p.id) ORDER BY p.id {order} LIMIT 200"
                    )
                ]
                for order in ("ASC", "DESC")
            )
        self.rng.shuffle(self.pairs)
        self.first_day = dt.date.today() + dt.timedelta(days=1)

    def params(self, case: str, n: int) -> dict:
        first = ddmmyyyy(self.first_day)
        if case == "search_one_doctor_7d":
            resource, activity = self.pairs[n % 50]
            end = ddmmyyyy(self.first_day + dt.timedelta(days=6))
            return {"ACTIVITY_LID": activity, "RESOURCE_LID": resource, "AVA_START_DAY": first, "AVA_END_DAY": end}
        if case in ("search_any_31d", "search_full_31d"):
            activity = self.meta["full_activity"] if case == "search_full_31d" else self.activities[n % 39]
            end = ddmmyyyy(self.first_day + dt.timedelta(days=30))
            return {"ACTIVITY_LID": activity, "AVA_START_DAY": first, "AVA_END_DAY": end, "AVA_RESULTS_NUMBER": 100}
        if case == "getAppointments":
            return {"USER_LID": self.patients[n % len(self.patients)]}
        return {}

    def lines(self, case: str, surface: str, count: int = 200) -> list[str]:
        return [line(surface, case_method(case), self.params(case, n)) for n in range(count)]


def case_method(case: str) -> str:
    return "searchAvailabilities" if case.startswith("search_") else case


class Slots:
    """Free slots found with searchAvailabilities, no two of a doctor overlapping, handed out once each.
    `search(query)` answers one search's rows (over HTTP here, in-process in bench/hotspots.py)."""

    def __init__(self, search, plan: Plan, wanted: int):
        taken: dict[str, list[tuple[str, str, str]]] = {}
        found = []
        start = plan.first_day + dt.timedelta(days=1)
        for activity in plan.activities:
            query = urllib.parse.urlencode(
                {
                    "ACTIVITY_LID": activity,
                    "AVA_START_DAY": ddmmyyyy(start),
                    "AVA_END_DAY": ddmmyyyy(start + dt.timedelta(days=27)),
                    "AVA_RESULTS_NUMBER": 1000,
                }
            )
            for row in search(query):
                # Same day, same doctor: keep it only if it overlaps none kept (times are hh:mm, comparable).
                day = taken.setdefault(f"{row['RESOURCE_LID']} {row['AVA_DATE']}", [])
                if all(row["AVA_END_TIME"] <= s or row["AVA_START_TIME"] >= e for s, e, _ in day):
                    day.append((row["AVA_START_TIME"], row["AVA_END_TIME"], row["AVAILABILITY_LID"]))
                    found.append(row["AVAILABILITY_LID"])
            if len(found) >= wanted:
                break
        random.Random(5).shuffle(found)
        self.free = found
        self.patients = plan.bookers
        log(f"{len(found)} free slots found for the bookings")

    @staticmethod
    def over_http(base: str, authorization: str):
        def search(query: str) -> list[dict]:
            request = urllib.request.Request(f"{base}/api/searchavailabilities?{query}")
            request.add_header("Authorization", authorization)
            with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 (our own local server)
                return json.load(answer)["return"]

        return search

    def take(self, count: int) -> list[str]:
        taken, self.free = self.free[:count], self.free[count:]
        return taken

    def lines(self, surface: str, count: int) -> list[str]:
        return [
            line(surface, "addAppointment", {"AVAILABILITY_LID": lid, "USER_LID": self.patients[n % 200]}, write=True)
            for n, lid in enumerate(self.take(count))
        ]


# ---------------------------------------------------------------- server and load


class Server:
    def __init__(self, database: str, port: int, workers: int):
        self.database, self.port, self.workers = database, port, workers
        self.base = f"http://127.0.0.1:{port}"

    def __enter__(self):
        env = dict(
            os.environ,
            DATABASE_URL=f"{build.server_url()}/{self.database}",
            HIS_DEBUG="0",
            HIS_ALLOWED_HOSTS="127.0.0.1",
        )
        self.log_file = open(OUT / f"server-{self.database}.log", "w")  # noqa: SIM115 (closed in __exit__)
        self.process = subprocess.Popen(  # noqa: S603
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "his.wsgi:application",
                "--workers",
                str(self.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "120",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.base}/soap/?wsdl", timeout=5).read()  # noqa: S310
                return self
            except OSError:
                time.sleep(0.3)
        self.__exit__()
        raise SystemExit(f"gunicorn did not answer on {self.base}: see {self.log_file.name}")

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log_file.close()


def cpu_ticks(server: Server) -> tuple[int, int]:
    """CPU time used so far by the server (gunicorn's processes) and by PostgreSQL (every postgres process,
    and the backends that exited, counted in their parent's), in clock ticks; and the machine's steal
    ticks (time the hypervisor gave to other machines). Read from /proc (Linux)."""
    used = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        command, fields = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :].split()
        parent = int(fields[1])
        if command == "postgres" or parent == server.process.pid or int(stat.parent.name) == server.process.pid:
            used += sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
    steal = int(Path("/proc/stat").read_text().split("\n", 1)[0].split()[8])
    return used, steal


def drive(server: Server, authorization: str, lines: list[str], *, name: str, connections: int, seconds: float) -> dict:
    """One wrk run replaying `lines`; the counts and latencies in milliseconds, and the CPU time the server
    and PostgreSQL spent per request (milliseconds): unlike latency, it does not grow when other machines
    take the CPUs (steal) or other processes of this one do, so ratios of it hold on a noisy machine."""
    path = OUT / f"{name}.tsv"
    path.write_text("\n".join(lines) + "\n")
    env = dict(os.environ, BENCH_AUTHORIZATION=authorization, BENCH_THREADS="1")
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "30s"]
    command += ["-s", str(HERE / "wrk.lua"), server.base, "--", str(path)]
    (used_before, steal_before), wall_before = cpu_ticks(server), time.monotonic()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=True)  # noqa: S603
    (used_after, steal_after), wall = cpu_ticks(server), time.monotonic() - wall_before
    tick = os.sysconf("SC_CLK_TCK")
    data = next(json.loads(x[len("BENCH_JSON ") :]) for x in result.stdout.splitlines() if x.startswith("BENCH_JSON"))
    latency = {k: round(v / 1000, 2) for k, v in data["latency_us"].items()}
    seconds_run = data["duration_us"] / 1e6
    errors = sum(data["errors"].values())
    return {
        "requests": data["requests"],
        "seconds": round(seconds_run, 2),
        "rps": round(data["requests"] / seconds_run, 1),
        "p50_ms": latency["p50"],
        "p90_ms": latency["p90"],
        "p95_ms": latency["p95"],
        "p99_ms": latency["p99"],
        "mean_ms": latency["mean"],
        "max_ms": latency["max"],
        "errors": errors,
        "error_detail": data["errors"],
        "replayed_twice": data["wrapped"],
        "cpu_ms_per_request": round((used_after - used_before) / tick * 1000 / max(1, data["requests"]), 3),
        "steal_percent": round((steal_after - steal_before) / tick / (wall * (os.cpu_count() or 1)) * 100, 1),
    }


def measure(
    server, authorization, lines, *, scale, case, surface, connections, seconds, warmup=None, floor=None
) -> dict:
    """One case at one concurrency. With `floor` (GetCenters's requests over REST), the floor is measured
    the same way just before, and the row carries it: a ratio of two runs 10 seconds apart stays
    readable on a machine whose load moves by 2x within minutes."""
    adjacent = None
    if floor is not None:
        drive(server, authorization, floor[:50], name="warmup", connections=2, seconds=1)
        measured = drive(
            server, authorization, floor, name=f"{scale}-floor-{case}-{surface}-c{connections}",
            connections=connections, seconds=seconds,
        )  # fmt: skip
        adjacent = {k: measured[k] for k in ("rps", "p50_ms", "p95_ms", "p99_ms", "errors", "cpu_ms_per_request")}
    # Bookings warm up on slots of their own: replaying a booked slot would measure the retry path.
    # Other cases replay their first requests for 3 s, so that each worker has most likely read each
    # activity's catalogue once (at 3,000 doctors a cold read takes about 100 ms: without a warm-up,
    # the p95 of a 10-second run is those first reads, not the steady state of an unchanged catalogue).
    if warmup:
        drive(server, authorization, warmup, name="warmup", connections=2, seconds=1)
    else:
        drive(server, authorization, lines[:150], name="warmup", connections=2, seconds=3)
    load = os.getloadavg()[0]
    row = drive(
        server, authorization, lines, name=f"{scale}-{case}-{surface}-c{connections}", connections=connections,
        seconds=seconds,
    )  # fmt: skip
    row = {"scale": scale, "case": case, "surface": surface, "concurrency": connections, **row}
    if adjacent is not None:
        row["floor"] = adjacent
    row["load_before"], row["load_after"] = round(load, 2), round(os.getloadavg()[0], 2)
    log(
        f"{scale:>3} {case:22} {surface:4} c={connections}: {row['rps']:7.1f} req/s  p50 {row['p50_ms']:7.1f}  "
        f"p95 {row['p95_ms']:7.1f}  p99 {row['p99_ms']:7.1f} ms  errors {row['errors']}  cpu/request "
        f"{row['cpu_ms_per_request']:6.2f} ms  steal {row['steal_percent']:4.1f} %"
        + (
            f"  in floors: p95 {row['p95_ms'] / adjacent['p95_ms']:.2f}, "
            f"cpu {row['cpu_ms_per_request'] / adjacent['cpu_ms_per_request']:.2f}"
            if adjacent
            else ""
        )
    )
    return row


def ensure_database(database: str, appointments: int, doctors: int, reuse: bool) -> dict:
    meta = build.existing_build(database, appointments, doctors) if reuse else None
    if meta is None:
        command = [sys.executable, str(HERE / "build.py"), "--database", database, "--appointments", str(appointments)]
        command += ["--doctors", str(doctors)]
        for attempt in (1, 2, 3):
            # A restart of the PostgreSQL server during the build (another job on the machine) ends it: start again.
            if subprocess.run(command, cwd=ROOT).returncode == 0:  # noqa: S603
                break
            if attempt == 3:
                raise SystemExit(f"building {database} failed three times")
            log(f"building {database} failed; again in 10 s")
            time.sleep(10)
        meta = build.existing_build(database, appointments, doctors)
        meta["reused"] = False
    else:
        log(f"reusing {database} built on {meta['built_on']}; bringing its schema up to date")
        env = {**os.environ, "DATABASE_URL": f"{build.server_url()}/{database}"}
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        meta["reused"] = True
    with psycopg.connect(f"{build.server_url()}/{database}", autocommit=True) as conn:
        # The load is far beyond a client's default rate: the bench measures the server, not its throttle.
        conn.execute("UPDATE his_integrationclient SET rate_limit = 0 WHERE name = 'bench'")
    return meta


def machine() -> dict:
    cpu = next(
        (
            x.split(":", 1)[1].strip()
            for x in Path("/proc/cpuinfo").read_text().splitlines()
            if x.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kb = next(
        int(x.split()[1]) for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")
    )
    with psycopg.connect(f"{build.server_url()}/postgres") as conn:
        postgres = conn.execute("SHOW server_version").fetchone()[0]
        shared_buffers = conn.execute("SHOW shared_buffers").fetchone()[0]
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.splitlines()  # noqa: S607
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "postgresql": postgres,
        "shared_buffers": shared_buffers,
        "wrk": (wrk or ["wrk"])[0].split(" [")[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reuse", action="store_true", help="reuse databases built recently (see bench/build.py)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measured case")
    parser.add_argument("--port", type=int, default=8390)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[2, 8])
    parser.add_argument("--database", default="his_bench", help="name of the 1M database; the others add _10k, _3k")
    parser.add_argument("--no-group", action="store_true", help="leave out the 3,000-doctor, 3 M appointment group")
    parser.add_argument(
        "--only", nargs="+", choices=(*CASES, "mixed"), metavar="CASE",
        help="measure only these cases on the 1 M hospital and print them (nothing is written): a quick comparison",
    )  # fmt: skip
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: install it (Debian: apt-get install wrk).")
    OUT.mkdir(exist_ok=True)
    started = time.monotonic()
    run_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    scales = [scale for scale in SCALES if not ((args.no_group or args.only) and scale == "3M")]
    if args.only:
        scales = ["1M"]
    databases = {scale: args.database + SCALES[scale][0] for scale in scales}
    builds = {scale: ensure_database(databases[scale], *SCALES[scale][1:], args.reuse) for scale in scales}
    rows, mixed = [], []
    seconds = args.duration
    for scale in scales:
        database = databases[scale]
        meta = builds[scale]
        authorization = f"Bearer {meta['secret']}"
        plan = Plan(database, meta)
        cases = {"1M": CASES, "10k": SEARCH_CASES, "3M": GROUP_CASES}[scale]
        if args.only:
            cases = [case for case in cases if case in args.only]
        surfaces = SURFACES if scale != "3M" else SURFACES[:1]
        floor = plan.lines("GetCenters", "REST")
        low = min(args.concurrency)
        with Server(database, args.port, args.workers) as server:
            for case in cases:
                for surface in surfaces:
                    for connections in args.concurrency:
                        warmup = None
                        if case == "addAppointment":
                            if surface == SURFACES[0] and connections == args.concurrency[0]:
                                slots = Slots(Slots.over_http(server.base, authorization), plan, wanted=20_000)
                            warmup, lines = slots.lines(surface, 60), slots.lines(surface, int(200 * seconds) + 500)
                        else:
                            lines = plan.lines(case, surface)
                        rows.append(
                            measure(
                                server,
                                authorization,
                                lines,
                                scale=scale,
                                case=case,
                                surface=surface,
                                connections=connections,
                                seconds=seconds,
                                warmup=warmup,
                                floor=floor if case != "GetCenters" and connections == low else None,
                            )  # fmt: skip
                        )
            if scale == "1M" and (not args.only or "mixed" in args.only):
                if "addAppointment" not in cases:
                    slots = Slots(Slots.over_http(server.base, authorization), plan, wanted=2_000)
                for surface in SURFACES:
                    weighted = [case for case, weight in MIX.items() for _ in range(weight)]
                    random.Random(3).shuffle(weighted)
                    booking = iter(slots.lines(surface, 600))
                    counters = dict.fromkeys(MIX, 0)
                    lines = []
                    for n in range(4000):
                        case = weighted[n % len(weighted)]
                        booked = next(booking, None) if case == "addAppointment" else None
                        if booked:
                            lines.append(booked)
                        else:  # a search, a list, or a list instead of a booking once the free slots run out
                            case = "getAppointments" if case == "addAppointment" else case
                            lines.append(line(surface, case_method(case), plan.params(case, counters[case])))
                        counters[case] += 1
                    connections = max(args.concurrency)
                    row = measure(
                        server, authorization, lines, scale=scale, case="mixed", surface=surface,
                        connections=connections, seconds=seconds, warmup=[x for x in lines if "/api/add" not in x
                        and "addAppointment" not in x][:50], floor=floor,
                    )  # fmt: skip
                    mixed.append(row | {"mix_percent": MIX})
    if args.only:
        log(f"done in {time.monotonic() - started:.0f} s; nothing written (--only)")
        return
    results = {
        "run_at": run_at,
        "run_seconds": round(time.monotonic() - started, 1),
        "machine": machine(),
        "setup": {
            "server": f"gunicorn, {args.workers} sync workers",
            "driver": "wrk, 1 thread, Lua script bench/wrk.lua",
            "seconds_per_case": seconds,
            "concurrency": args.concurrency,
            "mix_percent": MIX,
        },
        "builds": builds,
        "cases": rows,
        "mixed": mixed,
    }
    for meta in builds.values():
        meta.pop("secret", None)
    results["targets"] = report.targets(results)
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    report.write(results, ROOT / "docs")
    log(f"done in {results['run_seconds']} s: bench/results.json and docs/performance.md written")
    for name, target in results["targets"].items():
        log(f"target {name}: {target['value']} (limit {target['limit']}) {'met' if target['met'] else 'MISSED'}")


if __name__ == "__main__":
    main()
