"""Shared by the generated-input tests: a small hospital for generated calls to hit, and a
counter of the requests each test sent (the figures of docs/reliability.md)."""

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from django.utils import timezone

from demo.factories import (
    ActivityFactory,
    AppointmentFactory,
    AvailabilityRuleFactory,
    CenterFactory,
    InsuranceActivityFactory,
    InsuranceFactory,
    InsuranceResourceFactory,
    LocationFactory,
    MedicalResultFactory,
    PatientFactory,
    ResourceActivityFactory,
    ResourceFactory,
)

# The ids of the seeded hospital: generated calls are steered towards them some of the time.
KNOWN_IDS = {
    "CENTER_LID": "FZC",
    "LOCATION_LID": "FZL",
    "RESOURCE_LID": "FZD",
    "ACTIVITY_LID": "FZA",
    "INSURANCE_LID": "FZI",
    "AVAILABILITY_LID": "FZR0",
    "USER_LID": "FZP",
    "APP_LID": "FZAPP",
    "DOWNLOAD_LID": "FZRES",
}

# (what, group, detail) -> how many requests were sent or answers seen; printed at the end of the run.
TALLY: Counter[tuple[str, str, str]] = Counter()


def pytest_terminal_summary(terminalreporter):
    if not TALLY:
        return
    surfaces = sorted({surface for surface, _, _ in TALLY})
    for surface in surfaces:
        total = sum(n for (s, _, _), n in TALLY.items() if s == surface)
        terminalreporter.write_line(f"generated input, {surface}: {total}")
        groups = sorted({group for s, group, _ in TALLY if s == surface})
        for group in groups:
            details = {d: n for (s, g, d), n in TALLY.items() if s == surface and g == group}
            shown = ", ".join(f"{d} {n}" for d, n in sorted(details.items()))
            terminalreporter.write_line(f"  {group}: {sum(details.values())} ({shown})")


@pytest.fixture
def fuzz_hospital(db):
    """One center, a doctor offering one 15-minute activity 09:00-13:00 every day, an insurer, a
    patient with a booked appointment, and one result ready to download."""
    center = CenterFactory(lid=KNOWN_IDS["CENTER_LID"], time_zone="Europe/Madrid")
    doctor = ResourceFactory(
        lid=KNOWN_IDS["RESOURCE_LID"], location=LocationFactory(lid=KNOWN_IDS["LOCATION_LID"], center=center)
    )
    activity = ActivityFactory(lid=KNOWN_IDS["ACTIVITY_LID"], duration=15, price=Decimal("40"))
    ResourceActivityFactory(resource=doctor, activity=activity)
    insurer = InsuranceFactory(lid=KNOWN_IDS["INSURANCE_LID"])
    InsuranceResourceFactory(insurance=insurer, resource=doctor)
    InsuranceActivityFactory(insurance=insurer, activity=activity, price=Decimal("10"))
    for weekday in range(7):
        AvailabilityRuleFactory(
            lid=f"FZR{weekday}",
            resource=doctor,
            weekday=weekday,
            start_time=dt.time(9),
            end_time=dt.time(13),
            activities=[activity],
        )
    patient = PatientFactory(lid=KNOWN_IDS["USER_LID"])
    appointment = AppointmentFactory(
        lid=KNOWN_IDS["APP_LID"],
        resource=doctor,
        activity=activity,
        patient=patient,
        start=(timezone.now() + dt.timedelta(days=2)).replace(hour=8, minute=0, second=0, microsecond=0),
    )
    result = MedicalResultFactory(lid=KNOWN_IDS["DOWNLOAD_LID"], patient=patient, center=center)
    return {"center": center, "doctor": doctor, "patient": patient, "appointment": appointment, "result": result}


@pytest.fixture
def bearer(make_client):
    return make_client(name="fuzzer").bearer()
