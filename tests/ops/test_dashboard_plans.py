"""The dashboard's queries read the audit log through its indexes, on SQLite and on PostgreSQL.

90 days of calls of 20 clients (36,000 entries, 6 % of them failures, 2 % refused authentications),
inserted in time order as calls arrive, and ANALYZE for PostgreSQL's planner (sequential scans are
not switched off: the plans asserted are the ones the database chooses). The SQL is the very SQL the
selector sends, recorded as it runs and explained with its parameters. (The fourth query lists the
integration clients, a table of a few rows.)
"""

import datetime as dt
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients.models import AuditEntry, IntegrationClient
from clients.selectors import integration_traffic

pytestmark = pytest.mark.django_db

CLIENTS, DAYS, PER_DAY = 20, 90, 400
METHODS = ("searchAvailabilities", "addAppointment", "GetCenters", "getAppointments")


@pytest.fixture
def audit_log():
    rng = random.Random(15)
    clients = IntegrationClient.objects.bulk_create(
        [IntegrationClient(name=f"client-{n}", secret_hash=f"{n:064d}") for n in range(CLIENTS)]
    )
    start = timezone.now() - dt.timedelta(days=DAYS)
    entries = []
    for k in range(DAYS * PER_DAY):
        when = start + dt.timedelta(seconds=k * 86400 / PER_DAY)
        roll = rng.random()
        if roll < 0.02:
            address = f"198.51.100.{k % 50}"
            entries.append(AuditEntry(time=when, client=None, client_name="intruder", surface="REST",
                                      method="GetCenters", outcome="UNAUTHORIZED", remote_addr=address))  # fmt: skip
            continue
        outcome = "CONFLICT" if roll < 0.08 else "OK"
        client = clients[k % CLIENTS]
        entries.append(AuditEntry(time=when, client=client, client_name=client.name, surface="REST",
                                  method=METHODS[k % 4], outcome=outcome, remote_addr="192.0.2.1"))  # fmt: skip
    AuditEntry.objects.bulk_create(entries, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def plans() -> dict[str, str]:
    with CaptureQueriesContext(connection) as captured:
        integration_traffic()
    queries = [q["sql"] for q in captured.captured_queries]
    assert len(queries) == 4
    named = dict(zip(("clients", "counts", "errors", "refused"), queries, strict=True))
    explained = {}
    with connection.cursor() as cursor:
        for name, sql in named.items():
            prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
            cursor.execute(prefix + sql)
            explained[name] = "\n".join(str(row[-1]) for row in cursor.fetchall())
    return explained


def test_the_counts_failures_and_refusals_of_the_week_are_read_through_an_index(audit_log):
    for name, plan in plans().items():
        if name == "clients":
            continue
        if connection.vendor == "postgresql":
            assert "Seq Scan on his_auditentry" not in plan, (name, plan)
        else:
            assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, (name, plan)
