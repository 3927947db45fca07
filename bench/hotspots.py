"""Where the time of one request goes: calls a case in-process (Django's test client, the whole
stack from the URL to the rendered answer) against a bench database, prints the median time per
call, the SQL queries of one call and cProfile's heaviest functions.

    python bench/hotspots.py --case search_any_31d --surface REST -n 40
    python bench/hotspots.py --case KeyEntities --surface SOAP --database his_bench_10k
    python bench/hotspots.py --case addAppointment   # books 2n + 6 free slots found with searches first

Used to explain a missed target; it measures one process on an otherwise idle CPU only if the
machine is idle, so read its numbers next to the load average it prints.
"""

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import build  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="his_bench")
    parser.add_argument("--case", default="search_any_31d")
    parser.add_argument("--surface", default="REST", choices=["REST", "SOAP"])
    parser.add_argument("-n", type=int, default=40)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = f"{build.server_url()}/{args.database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "his.settings")
    os.environ.setdefault("HIS_ALLOWED_HOSTS", "testserver,127.0.0.1")
    import django

    django.setup()
    import psycopg
    import run
    from django.db import connection
    from django.test import Client

    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        meta = conn.execute("SELECT value FROM bench_meta WHERE key = 'meta'").fetchone()[0]
    plan = run.Plan(args.database, meta)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {meta['secret']}")

    if args.case == "addAppointment":  # each call books another free slot: as many as the calls below
        slots = run.Slots(lambda query: client.get(f"/api/searchavailabilities?{query}").json()["return"], plan, 400)
        bookings = slots.lines(args.surface, 2 * args.n + 6)
        lines = lambda n: bookings.pop()  # noqa: E731
    else:
        lines = lambda n: run.line(args.surface, run.case_method(args.case), plan.params(args.case, n))  # noqa: E731

    def call(n: int):
        fields = lines(n).split("\t")
        verb, path, content_type, action, body = fields
        if verb == "GET":
            response = client.get(path)
        else:
            response = client.post(path, body, content_type=content_type, HTTP_SOAPACTION=action)
        assert response.status_code == 200, response.content[:300]  # noqa: S101
        return response

    for n in range(5):
        call(n)
    times = []
    for n in range(args.n):
        started = time.perf_counter()
        call(n)
        times.append((time.perf_counter() - started) * 1000)
    queries = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append(((time.perf_counter() - started) * 1000, sql))

    with connection.execute_wrapper(timed):
        answer = call(0)
    profile = cProfile.Profile()
    profile.enable()
    for n in range(args.n):
        call(n)
    profile.disable()
    print(f"load average {os.getloadavg()[0]:.2f}; {args.case} over {args.surface} on {args.database}")
    print(f"median {statistics.median(times):.1f} ms, min {min(times):.1f} ms over {args.n} calls")
    print(f"answer {len(answer.content)} bytes; {len(queries)} queries:")
    for elapsed, sql in queries:
        print(f"  {elapsed:6.1f} ms  {sql[:200]}")
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(args.top)
    print(out.getvalue())


if __name__ == "__main__":
    main()
