"""The integration dashboard in the admin: per client, its calls of 24 hours and 7 days by method and
outcome, its latest failures with their messages, its last successful call, refused authentications by
address; every count links to its audit entries; a bounded number of queries whatever the data."""

import datetime as dt
import re
from html import unescape

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients.models import AuditEntry, IntegrationClient
from clients.services import create_integration_client

pytestmark = pytest.mark.django_db

URL = "/admin/integration-dashboard/"


@pytest.fixture
def admin_client(client):
    user = User.objects.create_superuser("boss", "boss@example.org", "a-long-password-1")
    client.force_login(user)
    return client


def entry(client, *, method="GetCenters", outcome="OK", hours=1, surface="REST", address="192.0.2.10", message=""):
    return AuditEntry.objects.create(
        time=timezone.now() - dt.timedelta(hours=hours),
        client=client,
        client_name=client.name if client else "intruder",
        surface=surface,
        method=method,
        outcome=outcome,
        duration_ms=12,
        remote_addr=address,
        message=message,
        request_id=f"req-{method}-{outcome}-{hours}".lower(),
    )


def traffic(clients: int, calls: int, prefix: str) -> list[IntegrationClient]:
    made = []
    for n in range(clients):
        client, _ = create_integration_client(name=f"{prefix}-{n}")
        made.append(client)
        for k in range(calls):
            entry(client, method="searchAvailabilities", hours=k % 100)
            entry(client, method="addAppointment", outcome="CONFLICT", hours=k % 150, message=f"slot {k} is taken")
        entry(None, method="GetCenters", outcome="UNAUTHORIZED", address=f"198.51.100.{n}")
    return made


def test_it_shows_each_clients_calls_failures_and_last_success(admin_client):
    prod, _ = create_integration_client(name="tuotempo-prod")
    quiet, _ = create_integration_client(name="tuotempo-quiet")
    entry(prod, method="searchAvailabilities", hours=2)
    entry(prod, method="searchAvailabilities", hours=30)  # in 7 days, not in 24 hours
    entry(prod, method="addAppointment", hours=3)
    taken = "14/12/2026 09:30 with RESOURCE_LID D12 is no longer available: another appointment holds it."
    entry(prod, method="addAppointment", outcome="CONFLICT", hours=1, message=taken)
    entry(prod, method="GetCenters", hours=24 * 8)  # older than 7 days: not counted
    entry(quiet, method="KeyEntities", hours=24 * 30)  # its last success, a month ago: linked, not read
    entry(None, method="GetCenters", outcome="UNAUTHORIZED", address="203.0.113.9", hours=1)
    entry(None, method="GetCenters", outcome="UNAUTHORIZED", address="203.0.113.9", hours=40)
    entry(None, method="admin login", outcome="THROTTLED", surface="ADMIN", address="203.0.113.77", hours=2)

    page = admin_client.get(URL)
    assert page.status_code == 200
    html = unescape(page.content.decode())
    figures = page.context["figures"]
    by_name = {(t.client.name if t.client else None): t for t in figures.clients}
    assert set(by_name) == {"tuotempo-prod", "tuotempo-quiet", None}
    assert by_name["tuotempo-prod"].counts == [
        ("addAppointment", "CONFLICT", 1, 1),
        ("addAppointment", "OK", 1, 1),
        ("searchAvailabilities", "OK", 1, 2),
    ]
    assert by_name["tuotempo-prod"].last_ok_method == "searchAvailabilities"
    assert by_name["tuotempo-quiet"].counts == [] and by_name["tuotempo-quiet"].last_ok_time is None
    assert "none in 7 days" in html
    assert [e.outcome for e in by_name["tuotempo-prod"].errors] == ["CONFLICT"]
    assert "RESOURCE_LID D12 is no longer available" in html
    assert "No call in the last 7 days." in html
    assert [(r.address, r.surface, r.refused_day, r.refused_week) for r in figures.refused] == [
        ("203.0.113.9", "REST", 1, 2),
        ("203.0.113.77", "ADMIN", 1, 1),
    ]


def test_each_count_links_to_exactly_its_audit_entries(admin_client):
    prod, _ = create_integration_client(name="tuotempo-prod")
    other, _ = create_integration_client(name="tuotempo-other")
    for hours in (1, 2, 30):
        entry(prod, method="searchAvailabilities", hours=hours)
    entry(prod, method="searchAvailabilities", outcome="INVALID_INPUT", hours=1)
    entry(other, method="searchAvailabilities", hours=1)
    entry(None, method="GetCenters", outcome="UNAUTHORIZED", address="203.0.113.9", hours=1)

    page = admin_client.get(URL)
    rows = [c for c in page.context["clients"] if c["traffic"].client == prod][0]["rows"]
    ok_row = [r for r in rows if r["outcome"] == "OK"][0]
    for link, expected in ((ok_row["day_link"], 2), (ok_row["week_link"], 3)):
        listed = admin_client.get(link)
        assert listed.status_code == 200, link
        assert listed.context["cl"].result_count == expected, link
        assert {e.client_id for e in listed.context["cl"].result_list} == {prod.pk}
    refused = page.context["refused"][0]["link"]
    listed = admin_client.get(refused)
    assert [e.remote_addr for e in listed.context["cl"].result_list] == ["203.0.113.9"]


def test_it_runs_the_same_few_queries_however_many_clients_and_calls(admin_client):
    traffic(clients=2, calls=3, prefix="small")
    with CaptureQueriesContext(connection) as small:
        assert admin_client.get(URL).status_code == 200
    traffic(clients=12, calls=40, prefix="large")
    with CaptureQueriesContext(connection) as large:
        page = admin_client.get(URL)
    assert page.status_code == 200 and len(page.context["clients"]) == 15  # 14 clients and the refused callers
    assert len(large.captured_queries) == len(small.captured_queries) == 6, [q["sql"] for q in large.captured_queries]


def test_only_staff_who_may_read_the_audit_log_see_it(client):
    assert client.get(URL).status_code == 302  # to the admin's login
    staff = User.objects.create_user("clerk", password="a-long-password-1", is_staff=True)
    client.force_login(staff)
    assert client.get(URL).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_auditentry"))
    staff = User.objects.get(pk=staff.pk)
    client.force_login(staff)
    assert client.get(URL).status_code == 200


def test_the_admin_index_links_the_dashboard(admin_client):
    index = admin_client.get("/admin/").content.decode()
    assert re.search(r'<a href="/admin/integration-dashboard/">Integration dashboard</a>', index)
