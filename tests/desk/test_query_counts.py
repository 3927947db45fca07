"""The desk's pages cost a fixed number of queries: a day of a 30-doctor center with a full agenda costs
what a day of a 3-doctor one does."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments import catalogue
from appointments.models import Appointment, AppointmentStatus, AvailabilityRule, Origin, ResourceActivity
from demo.factories import (
    AbsenceFactory,
    ActivityFactory,
    CenterFactory,
    InsuranceFactory,
    InsuranceResourceFactory,
    LocationFactory,
    PatientFactory,
    ResourceFactory,
)
from tests.desk.conftest import at, ddmmyyyy, desk_url, future_monday

# Everything a page may do besides the agenda (session, user, permissions, the filter's choices) plus
# the agenda's own reads: a bound, not a measurement. What must hold is that it does not grow.
MAX_QUERIES = 22


def hospital(doctors: int):
    """A center whose doctors each offer three activities 08:00-20:00, with the day half booked."""
    day = future_monday()
    center = CenterFactory(lid=f"C{doctors}", time_zone="Europe/Madrid")
    room = LocationFactory(lid=f"L{doctors}", center=center)
    activities = [ActivityFactory(lid=f"A{doctors}-{n}", duration=15 * (n + 1)) for n in range(3)]
    insurance = InsuranceFactory(lid=f"I{doctors}")
    patients = [PatientFactory() for _ in range(10)]
    for n in range(doctors):
        doctor = ResourceFactory(lid=f"D{doctors}-{n:02d}", location=room, availabilities_step=15)
        InsuranceResourceFactory(insurance=insurance, resource=doctor)
        ResourceActivity.objects.bulk_create(ResourceActivity(resource=doctor, activity=a) for a in activities)
        AvailabilityRule.objects.bulk_create(
            AvailabilityRule(lid=f"R{doctor.lid}-{w}", resource=doctor, weekday=w, start_time=dt.time(8),
                             end_time=dt.time(20))
            for w in range(7)
        )  # fmt: skip
        Appointment.objects.bulk_create(
            Appointment(lid=f"AP{doctor.lid}-{h}", resource=doctor, activity=activities[h % 3], location=room,
                        patient=patients[h % 10], start=at(day, f"{h:02d}:00"), end=at(day, f"{h:02d}:30"),
                        origin=Origin.values[h % 3],
                        status=AppointmentStatus.CANCELLED_BY_USER if h % 4 == 0 else AppointmentStatus.APPROVED)
            for h in range(8, 20, 2)
        )  # fmt: skip
        if n % 5 == 0:
            AbsenceFactory(resource=doctor, start=at(day, "12:00"), end=at(day, "14:00"))
    AbsenceFactory(resource=None, center=center, start=at(day, "19:00"), end=at(day, "20:00"))
    return center, day, activities[0], insurance


def queries_for(client, url: str) -> int:
    """The queries of one page with nothing of the catalogue kept (every page counted alike)."""
    catalogue.forget()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "filters",
    [{}, {"activity": "first"}, {"insurance": "yes"}, {"activity": "first", "insurance": "yes"}],
    ids=["plain", "activity", "insurance", "both"],
)
def test_a_day_costs_the_same_queries_for_3_or_30_doctors(desk, filters):
    counts = []
    for doctors in (3, 30):
        center, day, activity, insurance = hospital(doctors)
        params = {"center": center.lid, "date": ddmmyyyy(day)}
        if "activity" in filters:
            params["activity"] = activity.lid
        if "insurance" in filters:
            params["insurance"] = insurance.lid
        counts.append(queries_for(desk, desk_url("day", **params)))

    small, large = counts
    assert small == large <= MAX_QUERIES, counts


def test_a_week_and_a_printed_day_cost_a_fixed_number_of_queries(desk):
    center, day, _activity, _insurance = hospital(30)
    week = queries_for(desk, desk_url("week", doctor="D30-00", date=ddmmyyyy(day)))
    printed = queries_for(desk, desk_url("print", center=center.lid, date=ddmmyyyy(day)))
    other_week = queries_for(desk, desk_url("week", doctor="D30-17", date=ddmmyyyy(day)))

    assert week == other_week <= MAX_QUERIES and printed <= MAX_QUERIES
