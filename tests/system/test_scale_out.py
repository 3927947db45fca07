"""Issue 6, item 6: two server instances sharing one PostgreSQL behave as one server."""

import base64
import datetime as dt
import time

import pytest
import requests

from tests.system.helpers import (
    REQUEST_TIMEOUT,
    THROTTLE_CLIENT_NAME,
    Api,
    query,
    race,
    report,
    today,
)
from tests.system.test_concurrency import CONTENDERS, ROUNDS, check_race

FAILURE_LIMIT = 3


@pytest.fixture
def pair(start_server):
    """Two instances on their own ports, 2 workers each, with a low failed-authentication limit. They
    believe X-Forwarded-For from 127.0.0.1 (as behind a load balancer), so the throttling test can
    fail from addresses of its own without locking out the load of the other tests."""
    env = {"HIS_AUTH_FAILURE_LIMIT": str(FAILURE_LIMIT), "HIS_TRUSTED_PROXIES": "127.0.0.1"}
    return start_server(workers=2, env=env), start_server(workers=2, env=env)


def test_two_instances_on_one_database_book_each_contested_slot_exactly_once(pair, system_db):
    a, b = pair
    assert a.port != b.port
    api = Api(a.url, system_db.secret)
    slots = api.slots(day=today() + dt.timedelta(days=3), count=ROUNDS)

    started = time.monotonic()
    tally, rounds = race(api=api, urls=[a.url, b.url], slots=slots, contenders=CONTENDERS, prefix="PAIR")
    elapsed = time.monotonic() - started

    check_race(system_db, api, tally, rounds, slots)
    report(
        f"item 6 race over 2 instances x 2 workers (requests alternated between the ports): {ROUNDS} rounds x "
        f"{CONTENDERS} simultaneous requests = {tally.total()} requests in {elapsed:.1f}s -> {dict(tally.kinds())}; "
        f"bookings: {ROUNDS}"
    )


def call(server, authorization: str, address: str | None = None) -> requests.Response:
    headers = {"Authorization": authorization}
    if address:
        headers["X-Forwarded-For"] = address
    return requests.get(
        f"{server.url}/api/searchavailabilities",
        params={"activity_lid": "SYS-CON", "ava_results_number": 1},
        headers=headers,
        timeout=REQUEST_TIMEOUT,
    )


def basic(name: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{name}:{secret}".encode()).decode()


def test_failed_logins_counted_on_one_instance_throttle_the_caller_on_the_other(pair, system_db):
    a, b = pair
    attacker = "198.51.100.7"
    for _ in range(FAILURE_LIMIT):
        assert call(a, "Bearer not-a-secret", attacker).status_code == 401

    # Instance B never saw a failure from that address, yet refuses it, even with a valid secret.
    refused = call(b, f"Bearer {system_db.secret}", attacker)
    assert refused.status_code == 429
    assert refused.json()["code"] == "THROTTLED" and refused.json()["result"] == "ERROR"
    assert int(refused.headers["Retry-After"]) > 0
    # Per address: the same client from its own address still gets in, on both instances.
    assert call(b, f"Bearer {system_db.secret}").status_code == 200
    assert call(a, f"Bearer {system_db.secret}").status_code == 200

    # Per (address, client name): failures for one name from one address, sent to A, lock that pair out
    # on B, even with the right secret; the same name from any other address still gets in.
    name_attacker = "198.51.100.20"
    for _ in range(FAILURE_LIMIT):
        assert call(a, basic(THROTTLE_CLIENT_NAME, "wrong"), name_attacker).status_code == 401
    locked = call(b, basic(THROTTLE_CLIENT_NAME, system_db.throttle_secret), name_attacker)
    assert locked.status_code == 429 and locked.json()["code"] == "THROTTLED"
    assert call(b, basic(THROTTLE_CLIENT_NAME, system_db.throttle_secret), "198.51.100.30").status_code == 200

    # The count both instances read is the audit log in the shared database.
    failures = query(
        system_db.url,
        "SELECT host(remote_addr), client_name FROM his_auditentry"
        " WHERE outcome = 'UNAUTHORIZED' AND host(remote_addr) LIKE %s",
        ("198.51.100.%",),
    )
    assert sorted(failures) == sorted(
        [(attacker, "")] * FAILURE_LIMIT + [(name_attacker, THROTTLE_CLIENT_NAME)] * FAILURE_LIMIT
    )
    report(
        f"item 6 throttling over 2 instances (limit {FAILURE_LIMIT}): {FAILURE_LIMIT} failures from one address sent "
        f"to A -> 429 THROTTLED on B for that address (valid secret too), other addresses unaffected; "
        f"{FAILURE_LIMIT} failures for one client name from one address on A -> that pair 429 on B, "
        "the name from another address 200"
    )
