"""Under gunicorn with two workers, each keeping KeyEntities per catalogue version: after a price
changes (a write of another process, committed), every answer of either worker carries the new price,
though both had the old answer kept. Which worker answered is read from each worker's own metrics
file (prometheus-client's multiprocess mode, one file per worker process)."""

import json
from decimal import Decimal

import pytest
import requests
from prometheus_client.mmap_dict import MmapedDict

from appointments.models import InsuranceActivity, ResourceActivity
from demo.factories import (
    ActivityFactory,
    CenterFactory,
    InsuranceActivityFactory,
    InsuranceFactory,
    InsuranceResourceFactory,
    LocationFactory,
    ResourceActivityFactory,
    ResourceFactory,
)
from tests.ops.test_gunicorn import gunicorn  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def key_entities_by_worker(metrics_dir) -> dict[int, float]:
    """How many KeyEntities calls each worker process has answered."""
    served = {}
    for path in metrics_dir.glob("counter_*.db"):
        counted = MmapedDict(str(path), read_mode=True)
        try:
            total = 0.0
            for key, value, _timestamp in counted.read_all_values():
                metric, name, labels, *_ = json.loads(key)
                if name == "his_webservice_requests_total" and labels.get("method") == "KeyEntities":
                    total += value
        finally:
            counted.close()
        served[int(path.stem.rsplit("_", 1)[1])] = total
    return served


def prices(url: str, creds) -> dict[str | None, set[str]]:
    answer = requests.get(
        f"{url}/api/keyentities", headers={"Authorization": creds.basic(), "Connection": "close"}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    found: dict[str | None, set[str]] = {}
    for row in answer.json()["return"]:
        found.setdefault(row["INSURANCE_LID"], set()).add(row["ACTIVITY_PRICE"])
    return found


def calls_answered_by_each_worker(server, creds, expected) -> None:
    """Each of the two workers answers 3 KeyEntities calls (the other one stopped meanwhile); every
    answer must be `expected`."""
    workers = server.workers()
    assert len(workers) == 2
    for worker in sorted(workers):
        before = key_entities_by_worker(server.metrics_dir).get(worker, 0)
        with server.only(worker):
            for _ in range(3):
                assert prices(server.url, creds) == expected
        assert key_entities_by_worker(server.metrics_dir).get(worker, 0) - before == 3, worker


def test_every_worker_answers_a_changed_price_at_once(gunicorn, creds):  # noqa: F811
    center = CenterFactory(lid="MAD", time_zone="Europe/Madrid")
    resource = ResourceFactory(lid="D1", location=LocationFactory(lid="MAD-1", center=center))
    activity = ActivityFactory(lid="ACT1", duration=30, price=Decimal("50.00"))
    insurance = InsuranceFactory(lid="INS1")
    ResourceActivityFactory(resource=resource, activity=activity)
    InsuranceActivityFactory(insurance=insurance, activity=activity, price=Decimal("30.00"))
    InsuranceResourceFactory(insurance=insurance, resource=resource)

    calls_answered_by_each_worker(gunicorn, creds, {None: {"50.00"}, "INS1": {"30.00"}})
    ResourceActivity.objects.filter(resource=resource).update(price=Decimal("65.00"))  # a queryset update
    calls_answered_by_each_worker(gunicorn, creds, {None: {"65.00"}, "INS1": {"30.00"}})
    cover = InsuranceActivity.objects.get(insurance=insurance)
    cover.price = Decimal("12.50")
    cover.save()  # a save()
    calls_answered_by_each_worker(gunicorn, creds, {None: {"65.00"}, "INS1": {"12.50"}})
