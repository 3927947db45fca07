"""Both clock changes of Madrid and of the Canaries, on both surfaces: slots, bookings and their
answers stay in the center's wall-clock time. The dates are the next changes after today, found from
the time-zone database, so the test never expires."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from appointments.models import Appointment
from demo.factories import (
    ActivityFactory,
    AvailabilityRuleFactory,
    CenterFactory,
    LocationFactory,
    ResourceActivityFactory,
    ResourceFactory,
)

pytestmark = pytest.mark.live

ZONES = {"MAD": "Europe/Madrid", "LPA": "Atlantic/Canary"}


def next_change(zone: str, *, forward: bool) -> dt.date:
    """The next day (from the day after tomorrow) on which the zone's clocks go forward (or back)."""
    tz = ZoneInfo(zone)
    day = timezone.localdate() + dt.timedelta(days=2)
    for _ in range(400):
        before = dt.datetime.combine(day, dt.time(0), tz).utcoffset()
        after = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tz).utcoffset()
        if before != after and (after > before) is forward:
            return day
        day += dt.timedelta(days=1)
    raise AssertionError(f"{zone} changes its clocks no more")


def utc(day: dt.date, clock: str, *, days: int = 0) -> dt.datetime:
    hour, minute = map(int, clock.split(":"))
    return dt.datetime.combine(day + dt.timedelta(days=days), dt.time(hour, minute), dt.UTC)


@pytest.fixture
def night_clinics(db):
    """In each center a doctor offering a 60-minute visit 00:00-04:00 every day, across the change."""
    visit = ActivityFactory(lid="N60", duration=60, price=Decimal("30"))
    for lid, zone in ZONES.items():
        center = CenterFactory(lid=lid, time_zone=zone)
        doctor = ResourceFactory(lid=f"N-{lid}", location=LocationFactory(lid=f"{lid}-N", center=center))
        ResourceActivityFactory(resource=doctor, activity=visit)
        for weekday in range(7):
            AvailabilityRuleFactory(resource=doctor, weekday=weekday, start_time=dt.time(0), end_time=dt.time(4))


# (center, clocks go forward?) -> wall-clock (start, end) of each slot that night, and the UTC instant of
# each start relative to the day of the change. Madrid changes at 02:00 (forward) or 03:00 (back); the
# Canaries one hour earlier in their own clock, at the same instant (01:00 UTC).
CASES = {
    ("MAD", True): [
        ("00:00", "01:00", "23:00", -1),
        ("01:00", "03:00", "00:00", 0),  # 02:00 does not exist that night
        ("03:00", "04:00", "01:00", 0),
    ],
    ("MAD", False): [
        ("00:00", "01:00", "22:00", -1),
        ("01:00", "02:00", "23:00", -1),
        ("02:00", "02:00", "00:00", 0),  # the first 02:00 (summer time), an hour long: 02:00 again
        ("03:00", "04:00", "02:00", 0),
    ],
    ("LPA", True): [
        ("00:00", "02:00", "00:00", 0),  # 01:00 does not exist that night
        ("02:00", "03:00", "01:00", 0),
        ("03:00", "04:00", "02:00", 0),
    ],
    ("LPA", False): [
        ("00:00", "01:00", "23:00", -1),
        ("01:00", "01:00", "00:00", 0),  # the first 01:00 (summer time)
        ("02:00", "03:00", "02:00", 0),
        ("03:00", "04:00", "03:00", 0),
    ],
}


@pytest.mark.parametrize(("center", "forward"), list(CASES), ids=lambda v: {True: "forward", False: "back"}.get(v, v))
def test_a_night_of_clock_change_is_offered_and_booked_in_wall_clock_time(
    surface, night_clinics, creds, center, forward
):
    day = next_change(ZONES[center], forward=forward)
    ddmmyyyy = f"{day:%d/%m/%Y}"
    found = surface.call(
        "searchAvailabilities",
        {"ACTIVITY_LID": "N60", "CENTER_LID": center, "AVA_START_DAY": ddmmyyyy, "AVA_END_DAY": ddmmyyyy},
        authorization=creds.basic(),
    )
    assert found.ok, found
    expected = CASES[center, forward]
    assert [(s["AVA_DATE"], s["AVA_START_TIME"], s["AVA_END_TIME"]) for s in found.payload] == [
        (ddmmyyyy, start, end) for start, end, _, _ in expected
    ]

    for slot, (start, _, utc_start, days) in zip(found.payload, expected, strict=True):
        booked = surface.call(
            "addAppointment",
            {"AVAILABILITY_LID": slot["AVAILABILITY_LID"], "USER_LID": "", "USER_FIRST_NAME": "Noche",
             "USER_SECOND_NAME": start.replace(":", "h"), "USER_MOBILE_PHONE": "600000000"},
            authorization=creds.basic(),
        )  # fmt: skip
        assert booked.ok, booked
        appointment = Appointment.objects.get(lid=booked.payload["APP_LID"])
        assert appointment.start == utc(day, utc_start, days=days)
        checked = surface.call("checkAppointment", {"APP_LID": appointment.lid}, authorization=creds.basic())
        assert (checked.payload["APP_DATE"], checked.payload["APP_START_TIME"]) == (ddmmyyyy, start)

    # Every slot of that night is taken now; the hour that does not exist was never a slot.
    if forward:
        missing = {"MAD": "02:00", "LPA": "01:00"}[center]
        refused = surface.call(
            "addAppointment",
            {"RESOURCE_LID": f"N-{center}", "ACTIVITY_LID": "N60", "APP_DATE": ddmmyyyy, "APP_START_TIME": missing,
             "USER_FIRST_NAME": "Nadie", "USER_SECOND_NAME": "Nunca", "USER_MOBILE_PHONE": "600000001"},
            authorization=creds.basic(),
        )  # fmt: skip
        assert refused.payload["ADD_RESULT"] == "ERROR" and "not offered" in refused.payload["ERROR_MESSAGE"]
    again = surface.call(
        "searchAvailabilities",
        {"ACTIVITY_LID": "N60", "CENTER_LID": center, "AVA_START_DAY": ddmmyyyy, "AVA_END_DAY": ddmmyyyy},
        authorization=creds.basic(),
    )
    assert again.ok and again.payload == []
