"""The support-table rows in the admin: filtered by outcome and date, failed rows applied again."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from sincro.models import ReservationRow

pytestmark = pytest.mark.django_db


def row(status_trigger, **fields):
    return ReservationRow.objects.create(
        app_tid="T", app_action="ADD", app_date="01/01/2030", app_start_time="09:00", resource_lid="D1",
        status_trigger=status_trigger, **fields,
    )  # fmt: skip


def listed(admin_client, **query) -> set[int]:
    response = admin_client.get(reverse("admin:sincro_reservationrow_changelist"), query)
    assert response.status_code == 200
    return {r.pk for r in response.context["cl"].result_list}


def test_rows_are_filtered_by_outcome_and_by_date(admin_client):
    pending, ok, failed = row(None), row("OK"), row("ERROR: RESOURCE_LID 'X' does not exist.")
    old = row("ERROR: APP_DATE='x' is not a date.", insert_time=timezone.now() - dt.timedelta(days=40))

    assert listed(admin_client, outcome="pending") == {pending.pk}
    assert listed(admin_client, outcome="OK") == {ok.pk}
    assert listed(admin_client, outcome="ERROR") == {failed.pk, old.pk}
    today = timezone.localdate()
    since = {"insert_time__gte": f"{today:%Y-%m-%d}", "insert_time__lt": f"{today + dt.timedelta(days=1):%Y-%m-%d}"}
    assert listed(admin_client, outcome="ERROR", **since) == {failed.pk}
    page = admin_client.get(reverse("admin:sincro_reservationrow_changelist"), {"outcome": "ERROR"}).content.decode()
    assert "RESOURCE_LID &#x27;X&#x27; does not exist." in page


def test_failed_rows_can_be_applied_again(admin_client):
    ok, failed = row("OK"), row("ERROR: slot taken")
    response = admin_client.post(
        reverse("admin:sincro_reservationrow_changelist"),
        {"action": "apply_again", "_selected_action": [ok.pk, failed.pk]},
    )
    assert response.status_code == 302
    failed.refresh_from_db()
    ok.refresh_from_db()
    assert (failed.status_trigger, ok.status_trigger) == (None, "OK")
