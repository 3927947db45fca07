"""The catalogue version moves, in the same transaction, with every kind of change to the catalogue,
whoever makes it (save(), queryset.update(), bulk_create, delete, many-to-many, raw SQL), and never
with a booking; a rolled-back version is never given again; and the answers kept per version
(KeyEntities, the slot engine's offers and rules) follow a change on the very next call."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from appointments import catalogue
from appointments.catalogue import catalogue_rows, current_version
from appointments.models import (
    Absence,
    Activity,
    AvailabilityRule,
    Insurance,
    InsuranceActivity,
    Resource,
    ResourceActivity,
    Weekday,
)
from appointments.selectors import get_by_lid, key_entities
from appointments.slots import find_slots
from centers.models import Center, Location
from core.errors import DomainError
from demo.factories import (
    ActivityFactory,
    AppointmentFactory,
    AvailabilityRuleFactory,
    CenterFactory,
    InsuranceActivityFactory,
    InsuranceFactory,
    InsuranceResourceFactory,
    LocationFactory,
    ResourceActivityFactory,
    ResourceFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cold():
    catalogue.forget()
    yield
    catalogue.forget()


def hospital():
    center = CenterFactory(lid="MAD", time_zone="Europe/Madrid")
    location = LocationFactory(lid="MAD-1", center=center)
    resource = ResourceFactory(lid="D1", location=location)
    activity = ActivityFactory(lid="ACT1", duration=30, price=Decimal("50.00"))
    insurance = InsuranceFactory(lid="INS1")
    ResourceActivityFactory(resource=resource, activity=activity)
    InsuranceActivityFactory(insurance=insurance, activity=activity, price=Decimal("30.00"))
    InsuranceResourceFactory(insurance=insurance, resource=resource)
    for weekday in Weekday.values:
        AvailabilityRuleFactory(
            lid=f"R{weekday}", resource=resource, weekday=weekday, start_time=dt.time(8), end_time=dt.time(20)
        )
    return center, resource, activity, insurance


def moves(change) -> bool:
    before = current_version()
    change()
    return current_version() != before


CHANGES = {
    "center saved": lambda: Center.objects.get(lid="MAD").save(),
    "location renamed by update()": lambda: Location.objects.update(name="Planta 2"),
    "doctor switched off": lambda: Resource.objects.filter(lid="D1").update(web_enabled=False),
    "activity group renamed": lambda: Activity.objects.get(lid="ACT1").group.__class__.objects.update(name="Otro"),
    "activity price": lambda: Activity.objects.filter(lid="ACT1").update(price=Decimal("60.00")),
    "insurance renamed": lambda: Insurance.objects.filter(lid="INS1").update(name="Otra"),
    "resource price": lambda: ResourceActivity.objects.update(price=Decimal("70.00")),
    "insurance price": lambda: InsuranceActivity.objects.update(price=Decimal("10.00")),
    "insurance dropped by a doctor": lambda: Resource.objects.get(lid="D1").insurance_resources.all().delete(),
    "rule bulk_create": lambda: AvailabilityRule.objects.bulk_create(
        [
            AvailabilityRule(
                lid="RX",
                resource=Resource.objects.get(lid="D1"),
                weekday=1,
                start_time=dt.time(21),
                end_time=dt.time(22),
            )
        ]
    ),  # fmt: skip
    "rule names an activity": lambda: AvailabilityRule.objects.get(lid="R1").activities.add(
        Activity.objects.get(lid="ACT1")
    ),
    "absence": lambda: Absence.objects.create(
        resource=Resource.objects.get(lid="D1"), start=timezone.now(), end=timezone.now() + dt.timedelta(hours=1)
    ),
    "holiday of the center": lambda: Absence.objects.create(
        center=Center.objects.get(lid="MAD"), start=timezone.now(), end=timezone.now() + dt.timedelta(days=1)
    ),
    "raw SQL": lambda: connection.cursor().execute("UPDATE appointments_activity SET duration = 45"),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_every_kind_of_catalogue_change_moves_the_version(change):
    hospital()
    assert current_version() is not None
    assert moves(CHANGES[change])


def test_a_booking_leaves_the_version_alone():
    _center, resource, activity, _insurance = hospital()
    assert not moves(lambda: AppointmentFactory(resource=resource, activity=activity))


def test_a_rolled_back_version_is_never_given_again():
    hospital()
    seen = {current_version()}
    for n in range(3):
        with pytest.raises(RuntimeError), transaction.atomic():
            Activity.objects.update(price=Decimal(n))
            inside = current_version()
            assert inside not in seen
            seen.add(inside)
            raise RuntimeError("rolled back")
        assert current_version() in seen
        Activity.objects.update(price=Decimal(n + 100))
        assert current_version() not in seen
        seen.add(current_version())


def prices(insurance_lid=None):
    return [e.price for e in key_entities(centers=None) if (e.insurance and e.insurance.lid) == insurance_lid]


def test_key_entities_follow_every_change_on_the_next_call(django_assert_max_num_queries):
    _center, resource, _activity, _insurance = hospital()
    assert prices() == [Decimal("50.00")] and prices("INS1") == [Decimal("30.00")]
    with django_assert_max_num_queries(1):  # unchanged catalogue: the version only
        assert prices() == [Decimal("50.00")]
    ResourceActivity.objects.update(price=Decimal("65.00"))
    assert prices() == [Decimal("65.00")]
    InsuranceActivity.objects.update(price=None)
    assert prices("INS1") == [Decimal("65.00")]
    Resource.objects.filter(pk=resource.pk).update(web_enabled=False)
    assert key_entities(centers=None) == []


def test_key_entities_are_kept_per_client_scope():
    center, *_ = hospital()
    other = CenterFactory(lid="LPA", time_zone="Atlantic/Canary")
    assert len(key_entities(centers=[center])) == 2
    assert key_entities(centers=[other]) == []
    assert len(key_entities(centers=None)) == 2


def test_slots_follow_rules_absences_and_switches_on_the_next_call(django_assert_max_num_queries):
    center, resource, activity, _insurance = hospital()
    day = timezone.localdate(timezone=center.zone) + dt.timedelta(days=3)

    def first_start():
        found = find_slots(activity=activity, start_day=day, end_day=day, limit=1)
        return found[0].start.time() if found else None

    assert first_start() == dt.time(8)
    with django_assert_max_num_queries(3):  # the version, the appointments, the absences
        assert first_start() == dt.time(8)
    AvailabilityRule.objects.filter(resource=resource).update(start_time=dt.time(9))
    assert first_start() == dt.time(9)
    start = dt.datetime.combine(day, dt.time(9), center.zone)
    Absence.objects.create(resource=resource, start=start, end=start + dt.timedelta(hours=2))
    assert first_start() == dt.time(11)
    AvailabilityRule.objects.filter(resource=resource).update(valid_to=day - dt.timedelta(days=1))
    assert first_start() is None
    AvailabilityRule.objects.filter(resource=resource).update(valid_to=None)
    Activity.objects.filter(pk=activity.pk).update(web_enabled=False)
    activity.refresh_from_db()
    assert first_start() is None


def test_rows_named_by_id_follow_every_change_and_the_callers_centers():
    center, resource, activity, _insurance = hospital()
    madrid = [center]
    assert get_by_lid(Resource, lid=resource.lid, centers=madrid) == resource
    assert catalogue_rows(Activity, None).by_pk[activity.pk].lid == activity.lid
    Activity.objects.filter(pk=activity.pk).update(lid="NEW")
    assert get_by_lid(Activity, lid="NEW") == activity
    with pytest.raises(DomainError):
        get_by_lid(Activity, lid=activity.lid)
    other = LocationFactory(lid="LPA-1", center=CenterFactory(lid="LPA", time_zone="Atlantic/Canary"))
    assert get_by_lid(Resource, lid=resource.lid, centers=None) == resource  # kept for every center, too
    Resource.objects.filter(pk=resource.pk).update(location=other)
    with pytest.raises(DomainError):
        get_by_lid(Resource, lid=resource.lid, centers=madrid)
    moved = get_by_lid(Resource, lid=resource.lid, centers=None)
    assert moved.location.center.lid == "LPA"  # read with its location and center


def test_a_call_reads_the_version_once_and_a_process_outside_calls_each_time(django_assert_num_queries):
    hospital()
    with catalogue.one_version():
        with django_assert_num_queries(1):
            first = current_version()
            assert current_version() == first
        Activity.objects.update(price=Decimal("1.00"))
        with django_assert_num_queries(0):
            assert current_version() == first  # one call, one catalogue
    with django_assert_num_queries(2):
        assert current_version() != first
        current_version()
