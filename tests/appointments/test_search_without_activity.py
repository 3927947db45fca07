"""The slot engine's entry points other than find_slots, in-process: search_slots with and without an
activity (guide B.2.2: allowed when every activity left by the other filters lasts the same),
slots_starting_at, and within_opening_hours (the desk's warning). Every date is in 2027 and `now` is
passed explicitly, so the answers do not depend on today."""

import datetime as dt
import time
from decimal import Decimal

import pytest

from appointments.models import Weekday
from appointments.slots import MSG_DURATIONS_DIFFER, find_slot, search_slots, slots_starting_at, within_opening_hours
from core.errors import INVALID_INPUT, DomainError
from demo.factories import (
    ActivityFactory,
    AppointmentFactory,
    AvailabilityRuleFactory,
    CenterFactory,
    LocationFactory,
    ResourceActivityFactory,
    ResourceFactory,
)
from tests.messages import said

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2027, 3, 1)
NOW = dt.datetime(2027, 2, 1, 8, 0, tzinfo=dt.UTC)
WINDOW = {"start_day": MONDAY, "end_day": MONDAY + dt.timedelta(days=6), "now": NOW}


def doctor(lid: str, activities, *, center="MAD", zone="Europe/Madrid", hours=("09:00", "13:00"), **kwargs):
    """A doctor offering the activities every Monday during `hours`, in a center of its own."""
    location = LocationFactory(lid=f"{center}-{lid}", center=CenterFactory(lid=f"{center}{lid}", time_zone=zone))
    resource = ResourceFactory(lid=lid, location=location, **kwargs)
    for activity in activities:
        ResourceActivityFactory(resource=resource, activity=activity)
    AvailabilityRuleFactory(
        resource=resource, weekday=Weekday.MONDAY,
        start_time=dt.time.fromisoformat(hours[0]), end_time=dt.time.fromisoformat(hours[1]),
    )  # fmt: skip
    return resource


def visit(lid: str, minutes: int = 15, **kwargs):
    return ActivityFactory(lid=lid, duration=minutes, price=Decimal("40.00"), **kwargs)


def times(slots) -> list[tuple[str, str, str]]:
    return [(slot.resource.lid, slot.activity.lid, f"{slot.start:%d/%m %H:%M}") for slot in slots]


def test_with_an_activity_the_limit_is_the_callers():
    first = visit("V1")
    doctor("D1", [first])
    assert len(search_slots(activity=first, limit=3, **WINDOW)) == 3
    assert len(search_slots(activity=first, limit=16, **WINDOW)) == 16  # every slot of 09:00-13:00
    assert len(search_slots(activity=first, limit=200, **WINDOW)) == 16


def test_without_an_activity_each_doctors_time_is_offered_once_for_its_first_activity():
    first, second = visit("V1"), visit("V2")  # the same length; V1's id comes first
    doctor("D1", [second, first])
    doctor("D2", [second], hours=("09:30", "10:00"))

    slots = search_slots(activity=None, limit=4, **WINDOW)

    assert times(slots) == [
        ("D1", "V1", "01/03 09:00"),
        ("D1", "V1", "01/03 09:15"),
        ("D1", "V1", "01/03 09:30"),
        ("D2", "V2", "01/03 09:30"),
    ]


def test_without_an_activity_the_limit_counts_doctors_times_not_activities():
    first, second = visit("V1"), visit("V2")
    doctor("D1", [first, second], hours=("07:00", "21:00"))  # 56 times, each for two activities

    slots = search_slots(activity=None, limit=40, **WINDOW)

    assert len(slots) == 40
    assert len({slot.start for slot in slots}) == 40
    assert {slot.activity.lid for slot in slots} == {"V1"}
    assert len(search_slots(activity=None, limit=60, **WINDOW)) == 56


def test_without_an_activity_activities_that_last_differently_are_named_with_their_durations():
    doctor("D1", [visit("V1"), visit("V2"), visit("LONG", minutes=45)])

    with pytest.raises(DomainError) as refused:
        search_slots(activity=None, limit=5, **WINDOW)

    assert refused.value.code == INVALID_INPUT
    assert refused.value.message == said(MSG_DURATIONS_DIFFER, durations="15 minutes: V1, V2; 45 minutes: LONG")


def test_three_different_durations_are_refused_too():
    doctor("D1", [visit("V1", minutes=10), visit("V2", minutes=20), visit("V3", minutes=30)])

    with pytest.raises(DomainError) as refused:
        search_slots(activity=None, limit=5, **WINDOW)

    assert refused.value.message == said(
        MSG_DURATIONS_DIFFER, durations="10 minutes: V1; 20 minutes: V2; 30 minutes: V3"
    )


def test_durations_are_judged_among_what_the_other_filters_and_the_web_flags_leave():
    short = visit("V1")
    hidden = visit("HIDDEN", minutes=60, web_enabled=False)  # not offered online: its length does not count
    one = doctor("D1", [short, hidden])
    doctor("D2", [visit("LONG", minutes=45)])

    assert times(search_slots(activity=None, limit=1, resource=one, **WINDOW)) == [("D1", "V1", "01/03 09:00")]
    with pytest.raises(DomainError):
        search_slots(activity=None, limit=1, **WINDOW)  # D2's 45-minute visit is left in


def test_without_an_activity_nothing_offered_is_an_empty_answer():
    assert search_slots(activity=None, limit=5, **WINDOW) == []


def test_slots_starting_at_gives_one_slot_per_activity_free_then():
    first, second = visit("V1"), visit("V2", minutes=30)
    resource = doctor("D1", [first, second])
    nine = dt.datetime(2027, 3, 1, 8, 0, tzinfo=dt.UTC)  # 09:00 in Madrid

    assert times(slots_starting_at(resource=resource, start=nine, now=NOW)) == [
        ("D1", "V1", "01/03 09:00"),
        ("D1", "V2", "01/03 09:00"),
    ]
    assert times(slots_starting_at(resource=resource, start=nine, activity=second, now=NOW)) == [
        ("D1", "V2", "01/03 09:00")
    ]
    off_the_grid = nine + dt.timedelta(minutes=5)
    assert slots_starting_at(resource=resource, start=off_the_grid, now=NOW) == []
    assert find_slot(resource=resource, activity=first, start=nine, now=NOW).activity == first


def test_a_doctor_not_offered_online_is_bookable_by_the_desk_only():
    first = visit("V1")
    resource = doctor("D1", [first], web_enabled=False)
    nine = dt.datetime(2027, 3, 1, 8, 0, tzinfo=dt.UTC)

    assert find_slot(resource=resource, activity=first, start=nine, now=NOW) is None  # online by default
    assert slots_starting_at(resource=resource, start=nine, now=NOW) == []
    assert find_slot(resource=resource, activity=first, start=nine, now=NOW, online=False) is not None
    assert len(slots_starting_at(resource=resource, start=nine, now=NOW, online=False)) == 1


@pytest.mark.parametrize("server_zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])  # UTC+14, UTC-11
def test_a_booked_time_is_not_offered_whatever_the_servers_own_time_zone(monkeypatch, server_zone):
    """The busy periods are read between two instants: the process's local time zone (TZ) must not
    shift either end."""
    first = visit("V1")
    resource = doctor("D1", [first])
    last = dt.datetime(2027, 3, 1, 11, 45, tzinfo=dt.UTC)  # 12:45 in Madrid, the day's last slot
    AppointmentFactory(resource=resource, activity=first, start=last, end=last + dt.timedelta(minutes=15))

    monkeypatch.setenv("TZ", server_zone)
    time.tzset()
    try:
        assert time.localtime().tm_gmtoff != 0
        assert find_slot(resource=resource, activity=first, start=last, now=NOW) is None
        slots = search_slots(activity=first, limit=20, **WINDOW)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert len(slots) == 15 and f"{slots[-1].start:%H:%M}" == "12:30"


@pytest.mark.parametrize(
    ("day", "start", "end", "inside"),
    [
        (MONDAY, "09:00", "09:30", True),
        (MONDAY, "12:30", "13:00", True),  # ends as the rule ends
        (MONDAY, "12:45", "13:15", False),  # ends after
        (MONDAY, "08:45", "09:15", False),  # starts before
        (MONDAY + dt.timedelta(days=1), "09:00", "09:30", False),  # a Tuesday
    ],
)
def test_within_opening_hours_reads_the_rules_on_the_centers_own_clock(day, start, end, inside):
    first = visit("V1")
    resource = doctor("D1", [first], center="LPA", zone="Atlantic/Canary")
    zone = resource.location.center.zone

    def local(clock: str) -> dt.datetime:
        return dt.datetime.combine(day, dt.time.fromisoformat(clock), zone)

    assert within_opening_hours(resource=resource, activity=first, start=local(start), end=local(end)) is inside


def test_within_opening_hours_is_false_for_an_activity_not_offered_or_a_rule_not_yet_valid():
    offered, other = visit("V1"), visit("V2")
    resource = doctor("D1", [offered])
    start = dt.datetime.combine(MONDAY, dt.time(9), resource.location.center.zone)
    end = start + dt.timedelta(minutes=30)

    assert within_opening_hours(resource=resource, activity=offered, start=start, end=end)
    assert not within_opening_hours(resource=resource, activity=other, start=start, end=end)
    resource.availability_rules.update(valid_from=MONDAY + dt.timedelta(days=7))
    assert not within_opening_hours(resource=resource, activity=offered, start=start, end=end)
    next_monday = start + dt.timedelta(days=7)
    assert within_opening_hours(
        resource=resource, activity=offered, start=next_monday, end=next_monday + dt.timedelta(minutes=30)
    )


def test_within_opening_hours_takes_instants_in_any_zone_and_spans_across_midnight():
    first = visit("V1")
    resource = doctor("D1", [first], center="LPA", zone="Atlantic/Canary")  # UTC+0 in March
    nine = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)

    assert within_opening_hours(resource=resource, activity=first, start=nine, end=nine + dt.timedelta(minutes=30))
    madrid = dt.datetime(2027, 3, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))  # the same instant
    assert within_opening_hours(resource=resource, activity=first, start=madrid, end=madrid + dt.timedelta(hours=1))
    before = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))  # 08:00 in Las Palmas
    assert not within_opening_hours(
        resource=resource, activity=first, start=before, end=before + dt.timedelta(minutes=30)
    )
    late = dt.datetime(2027, 3, 1, 12, 30, tzinfo=dt.UTC)  # 12:30 until 09:15 the next day
    assert not within_opening_hours(resource=resource, activity=first, start=late, end=late + dt.timedelta(hours=20))


def test_within_opening_hours_counts_a_doctor_not_offered_online():
    """The desk books doctors tuOtempO does not see: their hours are their rules all the same."""
    first = visit("V1")
    resource = doctor("D1", [first], web_enabled=False)
    start = dt.datetime.combine(MONDAY, dt.time(9), resource.location.center.zone)
    assert within_opening_hours(resource=resource, activity=first, start=start, end=start + dt.timedelta(minutes=30))


def test_within_opening_hours_reads_that_doctors_rules_only_and_every_weekday():
    first = visit("V1")
    resource = doctor("D1", [first])  # Madrid, Mondays 09:00-13:00
    doctor("D2", [first], hours=("15:00", "18:00"))
    zone = resource.location.center.zone
    afternoon = dt.datetime.combine(MONDAY, dt.time(15), zone)
    assert not within_opening_hours(
        resource=resource, activity=first, start=afternoon, end=afternoon + dt.timedelta(minutes=30)
    )

    late = dt.datetime.combine(MONDAY, dt.time(12, 45), zone)  # ends 13:15 in Madrid, 12:15 in UTC
    assert not within_opening_hours(resource=resource, activity=first, start=late, end=late + dt.timedelta(minutes=30))

    AvailabilityRuleFactory(resource=resource, weekday=Weekday.SUNDAY, start_time=dt.time(10), end_time=dt.time(12))
    sunday = dt.datetime.combine(MONDAY + dt.timedelta(days=6), dt.time(10), zone)
    assert within_opening_hours(resource=resource, activity=first, start=sunday, end=sunday + dt.timedelta(minutes=30))
