"""The appointments export at hospital scale: rows, seconds and peak memory of one run.

    python bench/exchange.py                           # on his_bench (built by bench/build.py when missing or stale)
    python bench/exchange.py --database his_bench_x    # on another database of the same PostgreSQL server

Runs `manage.py export_appointments --to file:///<temporary folder>` as its own process on the
benchmark hospital (bench/build.py: 1 M appointments over two years, 300 doctors, two centers)
for the guide's window (24 hours back, 72 ahead: 96 hours), and for a 1-hour and a one-year window
beside it, so that the peak resident memory can be compared across row counts: a streamed export
stays flat while the rows grow a hundredfold. Each process's peak comes from the kernel's account
of that child (wait4's ru_maxrss). Prints a table and writes bench/exchange.json.
"""

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import build  # noqa: E402

WINDOWS = (("1 hour (the process alone)", 0, 1), ("96 hours (the guide's)", 24, 72), ("one year", 0, 24 * 365))


def ensure_database(database: str, appointments: int) -> None:
    """Reuses a usable build of that size (bench/build.py's rule), bringing its schema up to date; else builds."""
    if build.existing_build(database, appointments) is not None:
        env = {**os.environ, "DATABASE_URL": f"{build.server_url()}/{database}"}
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        return
    command = [sys.executable, str(HERE / "build.py"), "--database", database, "--appointments", str(appointments)]
    subprocess.run(command, cwd=ROOT, check=True)


def export(database: str, folder: Path, back: int, ahead: int) -> dict:
    env = {**os.environ, "DATABASE_URL": f"{build.server_url()}/{database}"}
    command = [
        sys.executable, "manage.py", "export_appointments", "--to", f"file://{folder}",
        "--hours-back", str(back), "--hours-ahead", str(ahead),
    ]  # fmt: skip
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    err = process.stderr.read().decode()
    process.stdout.close()
    process.stderr.close()
    if status != 0:
        raise SystemExit(f"export failed: {err.strip()}")
    written = sorted(folder.glob("appointments_*.csv"))[-1]
    rows = sum(1 for _ in written.open("rb")) - 1
    written.unlink()
    return {
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="his_bench")
    parser.add_argument("--appointments", type=int, default=1_000_000)
    args = parser.parse_args()
    ensure_database(args.database, args.appointments)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, back, ahead in WINDOWS:
            measured = export(args.database, Path(tmp), back, ahead)
            results.append({"window": label, "hours_back": back, "hours_ahead": ahead, **measured})
            print(
                f"{label:28} {measured['rows']:>8} rows {measured['seconds']:>7.2f} s "
                f"{measured['rows_per_second']:>7} rows/s  peak RSS {measured['peak_rss_mib']:>6.1f} MiB",
                flush=True,
            )
    (HERE / "exchange.json").write_text(
        json.dumps(
            {
                "measured_on": dt.date.today().isoformat(),
                "database": args.database,
                "appointments": args.appointments,
                "command": f"python bench/exchange.py --database {args.database} --appointments {args.appointments}",
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
