"""Reads of the scheduling domain: key entities, appointments. The slot search is in slots.py."""

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal

from appointments.models import Activity, Insurance, InsuranceActivity, InsuranceResource, Resource, ResourceActivity
from centers.models import Center


@dataclass(frozen=True)
class KeyEntity:
    resource: Resource
    activity: Activity
    insurance: Insurance | None  # None: self-pay
    price: Decimal | None
    duration: int


def offered_pairs(*, centers: Collection[Center] | None):
    """The web-enabled (resource, activity) pairs of web-enabled centers, resource and location loaded."""
    queryset = ResourceActivity.objects.filter(
        resource__web_enabled=True, activity__web_enabled=True, resource__location__center__web_enabled=True
    ).select_related("resource__location__center", "activity__group")
    if centers is not None:
        queryset = queryset.filter(resource__location__center__in=list(centers))
    return queryset.order_by("resource__lid", "activity__lid")


def key_entities(*, centers: Collection[Center] | None) -> list[KeyEntity]:
    """Everything tuOtempO needs to configure booking: each offered (resource, activity) pair once
    as self-pay and once per web-enabled insurance accepted by the resource and covering the
    activity. Price: insurance's, else the resource's, else the activity's. Duration: the
    resource's, else the activity's."""
    pairs = list(offered_pairs(centers=centers))
    resource_ids = {p.resource_id for p in pairs}
    activity_ids = {p.activity_id for p in pairs}
    insurances_of_resource = defaultdict(set)
    for resource_id, insurance_id in InsuranceResource.objects.filter(
        resource_id__in=resource_ids, insurance__web_enabled=True
    ).values_list("resource_id", "insurance_id"):
        insurances_of_resource[resource_id].add(insurance_id)
    cover = {
        (row.activity_id, row.insurance_id): row
        for row in InsuranceActivity.objects.filter(activity_id__in=activity_ids, insurance__web_enabled=True)
    }
    wanted = {i for ids in insurances_of_resource.values() for i in ids}
    insurances = {i.pk: i for i in Insurance.objects.filter(pk__in=wanted).order_by("lid")}

    rows = []
    for pair in pairs:
        duration = pair.duration or pair.activity.duration
        own_price = pair.price if pair.price is not None else pair.activity.price
        rows.append(KeyEntity(pair.resource, pair.activity, None, own_price, duration))
        accepted = [insurances[i] for i in insurances_of_resource[pair.resource_id] if (pair.activity_id, i) in cover]
        for insurance in sorted(accepted, key=lambda i: i.lid):
            price = cover[(pair.activity_id, insurance.pk)].price
            rows.append(
                KeyEntity(pair.resource, pair.activity, insurance, price if price is not None else own_price, duration)
            )
    return rows
