"""Under gunicorn with two workers, as `make serve` runs it: /metrics reports the sum of every worker's
counts (prometheus-client's multiprocess mode, ops/gunicorn_config.py), whichever worker answers the
scrape and after a worker died; and every line the server writes is JSON."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from django.db import connection

from tests.system.helpers import children_of

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def database_url() -> str:
    """The test database, as a URL the server's settings read."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(settings['NAME']).resolve()}"
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    where = f"{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}"
    return f"postgres://{settings['USER']}{password}@{where}/{settings['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gunicorn(tmp_path):
    """`make serve`'s gunicorn command with two workers, on a port of its own; stopped afterwards."""
    port = free_port()
    metrics_dir = tmp_path / "metrics"
    log_path = tmp_path / "server.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "HIS_SECRET_KEY": "gunicorn-test-" + "k" * 50,
        "HIS_ALLOWED_HOSTS": "127.0.0.1",
        "HIS_MEDIA_ROOT": str(tmp_path / "media"),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "HIS_LOG_FORMAT": "json",
    }
    env.pop("HIS_LOG_LEVEL", None)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(GUNICORN), "his.wsgi:application", "--config", "python:ops.gunicorn_config",
             "--workers", "2", "--bind", f"127.0.0.1:{port}", "--timeout", "30", "--graceful-timeout", "5"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/health/live", timeout=10).status_code == 200 and len(children_of(process.pid)) == 2:
                break
        except requests.RequestException:  # not listening yet, or a worker still loading
            pass
        assert process.poll() is None, log_path.read_text()
        time.sleep(0.2)
    else:
        pytest.fail(f"gunicorn did not start: {log_path.read_text()}")

    class Server:
        def workers(self) -> set[int]:
            return children_of(self.process.pid)

        @contextmanager
        def only(self, worker: int) -> Iterator[None]:
            """Every call made inside is answered by `worker`: the other workers are stopped
            (SIGSTOP) meanwhile, so they cannot accept a connection. Which worker takes a connection
            is otherwise the kernel's choice, and one worker may take every call of a test."""
            others = self.workers() - {worker}
            assert worker not in others and len(others) == 1, (worker, others)
            for pid in others:
                os.kill(pid, signal.SIGSTOP)
            try:
                yield
            finally:
                for pid in others:
                    os.kill(pid, signal.SIGCONT)

    server = Server()
    server.url, server.process, server.metrics_dir, server.log_path = url, process, metrics_dir, log_path
    try:
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def scraped(url: str, name: str, **labels) -> float:
    text = requests.get(f"{url}/metrics", timeout=10, headers={"Connection": "close"}).text
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    match = re.search(rf"^{re.escape(name)}{{{re.escape(wanted)}}} (\S+)$", text, re.MULTILINE)
    return float(match[1]) if match else 0.0


def counting_workers(metrics_dir: Path) -> set[int]:
    return {int(p.stem.rsplit("_", 1)[1]) for p in metrics_dir.glob("counter_*.db")}


def send_calls(url: str, creds, count: int) -> None:
    def one(_):
        answer = requests.get(
            f"{url}/api/getcenters", headers={"Authorization": creds.basic(), "Connection": "close"}, timeout=30
        )
        assert answer.status_code == 200, answer.text

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(one, range(count)))


def test_metrics_add_up_every_workers_calls_and_keep_a_dead_workers(gunicorn, creds):
    labels = {"surface": "REST", "method": "GetCenters", "outcome": "OK", "client": creds.name}
    workers = gunicorn.workers()
    assert len(workers) == 2
    sent = 0
    for worker in sorted(workers):  # each worker answers calls of its own
        with gunicorn.only(worker):
            send_calls(gunicorn.url, creds, 12 + sent)
        sent += 12 + sent
    assert counting_workers(gunicorn.metrics_dir) & workers == workers

    # Whichever worker answers a scrape, it reports every worker's calls.
    for worker in sorted(workers):
        with gunicorn.only(worker):
            assert scraped(gunicorn.url, "his_webservice_requests_total", **labels) == sent
            assert (
                scraped(
                    gunicorn.url, "his_webservice_request_duration_seconds_count", surface="REST", method="GetCenters"
                )
                == sent
            )

    # A worker dies; the master replaces it; its calls stay counted and new calls add up.
    victim = sorted(workers)[0]
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        now = children_of(gunicorn.process.pid)
        if victim not in now and len(now) == 2:
            break
        time.sleep(0.2)
    assert victim not in children_of(gunicorn.process.pid)
    send_calls(gunicorn.url, creds, 10)
    for _ in range(4):
        assert scraped(gunicorn.url, "his_webservice_requests_total", **labels) == sent + 10


def test_every_line_the_server_writes_is_json_and_each_request_line_has_its_id(gunicorn, creds):
    ids = []
    for n in range(6):
        answer = requests.get(
            f"{gunicorn.url}/api/getcenters",
            headers={"Authorization": creds.basic() if n % 2 else "Basic bm9ib2R5Om5vcGU=", "Connection": "close"},
            timeout=30,
        )
        ids.append(answer.headers["X-Request-ID"])
    os.killpg(gunicorn.process.pid, signal.SIGTERM)  # gunicorn's own lines of shutting down, too
    gunicorn.process.wait(timeout=15)
    lines = [line for line in gunicorn.log_path.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # fails on any line that is not JSON
    assert any(r["logger"].startswith("gunicorn") for r in records)  # gunicorn's own lines are JSON too
    request_lines = [r for r in records if r["logger"] == "his.requests"]
    assert sorted(r["request_id"] for r in request_lines) == sorted(ids)
    assert {(r["method"], r["outcome"]) for r in request_lines} == {
        ("GetCenters", "OK"),
        ("getcenters", "UNAUTHORIZED"),
    }
