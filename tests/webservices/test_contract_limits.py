"""The defaults and limits the contract sets for searchAvailabilities (section 5), on both surfaces,
with the contract's own numbers: a 7-day window from the start day, 100 slots unless asked, never
more than 1000, and no window longer than 366 days."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from demo.factories import (
    ActivityFactory,
    AvailabilityRuleFactory,
    CenterFactory,
    LocationFactory,
    ResourceActivityFactory,
    ResourceFactory,
)

pytestmark = pytest.mark.live

MADRID = ZoneInfo("Europe/Madrid")


@pytest.fixture
def busy_doctor(db):
    """A Madrid doctor offering a 5-minute test 08:00-20:00 every day: 144 slots a day."""
    center = CenterFactory(lid="MAD", time_zone="Europe/Madrid")
    doctor = ResourceFactory(lid="D5", location=LocationFactory(lid="MAD-5", center=center))
    ResourceActivityFactory(resource=doctor, activity=ActivityFactory(lid="T5", duration=5, price=Decimal("5")))
    for weekday in range(7):
        AvailabilityRuleFactory(resource=doctor, weekday=weekday, start_time=dt.time(8), end_time=dt.time(20))


def madrid_today() -> dt.date:
    return timezone.localtime(timezone.now(), MADRID).date()


def ddmmyyyy(day: dt.date) -> str:
    return f"{day:%d/%m/%Y}"


def search(surface, creds, **params):
    outcome = surface.call("searchAvailabilities", {"ACTIVITY_LID": "T5", **params}, authorization=creds.basic())
    return outcome


def test_without_an_end_day_the_window_is_the_start_day_and_the_7_days_after_it(surface, busy_doctor, creds):
    start = madrid_today() + dt.timedelta(days=3)
    found = search(
        surface, creds, AVA_START_DAY=ddmmyyyy(start), AVA_MIN_TIME="09:00", AVA_MAX_TIME="09:05",
        AVA_RESULTS_NUMBER="1000",
    )  # fmt: skip
    assert found.ok, found
    assert [s["AVA_DATE"] for s in found.payload] == [ddmmyyyy(start + dt.timedelta(days=n)) for n in range(8)]


def test_without_a_start_day_the_window_starts_today(surface, busy_doctor, creds):
    now = timezone.localtime(timezone.now(), MADRID)
    found = search(surface, creds, AVA_MIN_TIME="19:50", AVA_MAX_TIME="19:55", AVA_RESULTS_NUMBER="1000")
    assert found.ok, found
    first = 0 if now.time() < dt.time(19, 50) else 1  # never a slot that starts in the past
    assert [s["AVA_DATE"] for s in found.payload] == [
        ddmmyyyy(now.date() + dt.timedelta(days=n)) for n in range(first, 8)
    ]


def test_without_a_number_at_most_100_slots_the_earliest_first(surface, busy_doctor, creds):
    day = ddmmyyyy(madrid_today() + dt.timedelta(days=2))
    found = search(surface, creds, AVA_START_DAY=day, AVA_END_DAY=day)
    assert found.ok and len(found.payload) == 100
    assert (found.payload[0]["AVA_START_TIME"], found.payload[-1]["AVA_START_TIME"]) == ("08:00", "16:15")
    assert search(surface, creds, AVA_START_DAY=day, AVA_END_DAY=day, AVA_RESULTS_NUMBER="").payload == found.payload


@pytest.mark.parametrize("asked", ["1000", "1001", "5000"])
def test_no_more_than_1000_slots_however_many_are_asked(surface, busy_doctor, creds, asked):
    start = madrid_today() + dt.timedelta(days=1)
    found = search(
        surface, creds, AVA_START_DAY=ddmmyyyy(start), AVA_END_DAY=ddmmyyyy(start + dt.timedelta(days=9)),
        AVA_RESULTS_NUMBER=asked,
    )  # fmt: skip
    assert found.ok and len(found.payload) == 1000
    # 144 a day: the 1000th is the 136th slot of the seventh day, 08:00 + 135 x 5 minutes.
    assert (found.payload[-1]["AVA_DATE"], found.payload[-1]["AVA_START_TIME"]) == (
        ddmmyyyy(start + dt.timedelta(days=6)),
        "19:15",
    )


def test_a_window_of_366_days_is_searched_and_a_longer_one_is_an_input_error(surface, busy_doctor, creds):
    start = madrid_today() + dt.timedelta(days=1)
    longest = search(
        surface, creds, AVA_START_DAY=ddmmyyyy(start), AVA_END_DAY=ddmmyyyy(start + dt.timedelta(days=366)),
        AVA_MIN_TIME="19:55", AVA_RESULTS_NUMBER="1000",
    )  # fmt: skip
    assert longest.ok and len(longest.payload) == 367
    assert longest.payload[-1]["AVA_DATE"] == ddmmyyyy(start + dt.timedelta(days=366))
    too_long = search(
        surface, creds, AVA_START_DAY=ddmmyyyy(start), AVA_END_DAY=ddmmyyyy(start + dt.timedelta(days=367)),
        AVA_RESULTS_NUMBER="1",
    )  # fmt: skip
    assert (too_long.ok, too_long.code) == (False, "INVALID_INPUT")
    assert too_long.message == "The search window spans 367 days: search at most 366 days at a time."
    if surface.name == "rest":
        assert too_long.status == 400
