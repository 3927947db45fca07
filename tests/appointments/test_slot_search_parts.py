"""The slot search's shortcuts change no answer: the earliest `limit` free slots are the first `limit`
of every free slot, whatever the limit, with many doctors (the candidates checked in parts), busy
and free times mixed, absences, and kept catalogue answers warm or cold."""

import datetime as dt
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments import catalogue
from appointments.models import AppointmentStatus, Weekday
from appointments.slots import find_slots, search_slots
from demo.factories import (
    AbsenceFactory,
    ActivityFactory,
    AppointmentFactory,
    AvailabilityRuleFactory,
    CenterFactory,
    LocationFactory,
    PatientFactory,
    ResourceActivityFactory,
    ResourceFactory,
)

pytestmark = pytest.mark.django_db


def busy_hospital(doctors: int = 12, seed: int = 3):
    rng = random.Random(seed)
    center = CenterFactory(lid="MAD", time_zone="Europe/Madrid")
    location = LocationFactory(lid="MAD-1", center=center)
    activity = ActivityFactory(lid="ACT", duration=20)
    patient = PatientFactory(lid="P1")
    first = timezone.localdate(timezone=center.zone) + dt.timedelta(days=2)
    for n in range(doctors):
        resource = ResourceFactory(lid=f"D{n:02d}", location=location, availabilities_step=rng.choice([None, 10]))
        ResourceActivityFactory(resource=resource, activity=activity)
        for weekday in Weekday.values:
            AvailabilityRuleFactory(
                lid=f"R{n}-{weekday}", resource=resource, weekday=weekday,
                start_time=dt.time(8 + n % 3), end_time=dt.time(13 + n % 2),
            )  # fmt: skip
        for day in range(3):  # back to back or with gaps, never overlapping
            cursor = dt.datetime.combine(first + dt.timedelta(days=day), dt.time(8), center.zone)
            if day == 0:  # the first morning is booked solid: the earliest candidates are all taken
                AppointmentFactory(resource=resource, activity=activity, patient=patient, start=cursor,
                                   end=cursor + dt.timedelta(hours=3))  # fmt: skip
                cursor += dt.timedelta(hours=3)
            cursor += dt.timedelta(minutes=rng.choice([0, 10, 40]))
            while cursor.hour < 14:
                length = dt.timedelta(minutes=rng.choice([20, 30, 50]))
                if rng.random() < 0.6:
                    status = rng.choice([AppointmentStatus.APPROVED, AppointmentStatus.CANCELLED_BY_USER])
                    AppointmentFactory(
                        resource=resource, activity=activity, patient=patient, status=status,
                        start=cursor, end=cursor + length,
                    )  # fmt: skip
                cursor += length + dt.timedelta(minutes=rng.choice([0, 10, 20]))
        if n % 5 == 0:
            start = dt.datetime.combine(first, dt.time(9), center.zone)
            AbsenceFactory(resource=resource, start=start, end=start + dt.timedelta(hours=2))
    return activity, first


def key(slots):
    return [(s.resource.lid, s.start, s.end) for s in slots]


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 25, 60])
def test_the_earliest_free_slots_are_the_first_of_every_free_slot(limit):
    activity, first = busy_hospital()
    window = {"start_day": first, "end_day": first + dt.timedelta(days=2)}
    every = find_slots(activity=activity, limit=None, **window)
    assert len(every) > 60
    catalogue.forget()
    assert key(find_slots(activity=activity, limit=limit, **window)) == key(every[:limit])  # cold
    assert key(find_slots(activity=activity, limit=limit, **window)) == key(every[:limit])  # warm
    assert key(search_slots(activity=None, limit=limit, **window)) == key(every[:limit])


def booked_solid(days: int = 35):
    """Two doctors seeing patients 09:00-14:00 every day (15 places of 20 minutes each), booked solid."""
    center = CenterFactory(lid="MAD", time_zone="Europe/Madrid")
    location = LocationFactory(lid="MAD-1", center=center)
    activity = ActivityFactory(lid="ACT", duration=20)
    patient = PatientFactory(lid="P1")
    first = timezone.localdate(timezone=center.zone) + dt.timedelta(days=1)
    for n in range(2):
        resource = ResourceFactory(lid=f"D{n}", location=location)
        ResourceActivityFactory(resource=resource, activity=activity)
        for weekday in Weekday.values:
            AvailabilityRuleFactory(resource=resource, weekday=weekday, start_time=dt.time(9), end_time=dt.time(14))
        for day in range(days):
            start = dt.datetime.combine(first + dt.timedelta(days=day), dt.time(9), center.zone)
            AppointmentFactory(
                resource=resource, activity=activity, patient=patient, start=start, end=start + dt.timedelta(hours=5)
            )
    return activity, first


def busy_reads(captured) -> int:
    return sum('"appointments_appointment"' in query["sql"] for query in captured)


@pytest.mark.parametrize(("limit", "reads"), [(100, 2), (10, 8), (1, 10)])
def test_a_fully_booked_window_is_read_in_few_queries(limit, reads):
    """31 days with nothing free, 30 candidates a day. A chunk of days takes at least 1, 2, 4 ... days and
    more while it holds at most 8 x limit candidates: 100 slots wanted read busy time twice (26 days,
    then 5), where chunks of 1, 2, 4, 8 and 16 days read it 5 times. Small limits keep the doubling
    chunks, each read in two parts when it holds over 8 x limit candidates (the earliest first): 8
    reads for 10, 10 for 1, as before."""
    activity, first = booked_solid()
    with CaptureQueriesContext(connection) as captured:
        found = find_slots(activity=activity, start_day=first, end_day=first + dt.timedelta(days=30), limit=limit)
    assert found == []
    assert busy_reads(captured) == reads
