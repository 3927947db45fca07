"""Issue 15: under gunicorn on PostgreSQL, GET /health/ready answers 503 naming the database while
PostgreSQL is down, and 200 again once it is back, without a restart; GET /health/live answers
throughout. It stops and starts the local PostgreSQL (as test_faults.py does): run it with
`make reliability`, on a machine of its own, never beside other test runs."""

import time

import pytest
import requests

from tests.system.helpers import report
from tests.system.test_faults import pg_ctl, postgres_cluster, postgres_ready, wait_for

RECOVERY_LIMIT = 20  # seconds after PostgreSQL is back within which the probe says ready again


def probe(url: str, path: str) -> tuple[int | None, dict]:
    try:
        answer = requests.get(f"{url}{path}", timeout=10)
    except requests.RequestException:
        return None, {}
    return answer.status_code, answer.json()


@pytest.mark.skipif(postgres_cluster() is None, reason="restarting PostgreSQL needs root and a local pg_ctlcluster")
def test_ready_answers_503_naming_the_database_while_postgresql_is_down_and_live_answers_throughout(
    start_server, system_db
):
    cluster = postgres_cluster()
    server = start_server(workers=2)
    workers = server.workers_pids()
    assert probe(server.url, "/health/ready") == (
        200,
        {"status": "ok", "checks": {"database": "ok", "migrations": "ok", "storage": "ok"}},
    )
    try:
        pg_ctl(cluster, "stop")
        down_at = time.monotonic()
        # Every worker, whichever answers, sees the database gone (persistent connections included).
        answers = [probe(server.url, "/health/ready") for _ in range(6)]
        assert {status for status, _ in answers} == {503}, answers
        for _, body in answers:
            assert body["status"] == "down" and "database" in body["down"]
            assert body["checks"]["database"].startswith("down: the database does not answer")
            assert body["checks"]["storage"] == "ok"
        assert probe(server.url, "/health/live") == (200, {"status": "ok"})
        pg_ctl(cluster, "start")
        assert wait_for(postgres_ready, timeout=30)
        up_at = time.monotonic()
        assert wait_for(lambda: probe(server.url, "/health/ready")[0] == 200, timeout=RECOVERY_LIMIT)
        ready_after = time.monotonic() - up_at
        # Ready on every worker: a few probes in a row.
        assert [probe(server.url, "/health/ready")[0] for _ in range(6)] == [200] * 6
    finally:
        if not postgres_ready():
            pg_ctl(cluster, "start")
            wait_for(postgres_ready, timeout=30)
    assert server.process.poll() is None and server.workers_pids() == workers  # no restart needed
    report(
        f"issue 15: PostgreSQL stopped for {up_at - down_at:.1f}s under gunicorn (2 workers): /health/ready "
        f"answered 503 naming the database, /health/live 200; ready again {ready_after:.1f}s after PostgreSQL "
        "accepted connections, without a restart"
    )
