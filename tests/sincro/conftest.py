import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from clients.services import create_integration_client
from demo.factories import (
    ActivityFactory,
    AvailabilityRuleFactory,
    CenterFactory,
    LocationFactory,
    ResourceActivityFactory,
    ResourceFactory,
)
from tests.sincro.agent import SincroAgent

SINCRO_CLIENT = "sincro-test"


@pytest.fixture
def sincro_client(transactional_db, settings):
    """The integration client the worker applies rows as (every center, pattern lid)."""
    client, secret = create_integration_client(name=SINCRO_CLIENT)
    settings.HIS_SINCRO_CLIENT = SINCRO_CLIENT
    client.secret = secret  # to ask the webservices the same questions
    return client


@pytest.fixture
def agent(transactional_db):
    agent = SincroAgent()
    yield agent
    agent.close()


@pytest.fixture
def clinic(transactional_db):
    """A Madrid doctor D1 and a Las Palmas doctor D2, each offering a 30-minute visit V1 09:00-13:00
    every day of the week."""
    mad = CenterFactory(lid="MAD", time_zone="Europe/Madrid")
    lpa = CenterFactory(lid="LPA", time_zone="Atlantic/Canary")
    visit = ActivityFactory(lid="V1", name="Visita", duration=30, price=Decimal("50"))
    doctors = {}
    for lid, center in (("D1", mad), ("D2", lpa)):
        doctor = ResourceFactory(lid=lid, location=LocationFactory(lid=f"{center.lid}-1", center=center))
        ResourceActivityFactory(resource=doctor, activity=visit)
        for weekday in range(7):
            AvailabilityRuleFactory(
                lid=f"R{lid}{weekday}", resource=doctor, weekday=weekday, start_time=dt.time(9), end_time=dt.time(13)
            )
        doctors[lid] = doctor
    return {"mad": mad, "lpa": lpa, "visit": visit, **doctors}


def future_day(days: int = 10) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)


def ddmmyyyy(day: dt.date) -> str:
    return f"{day:%d/%m/%Y}"
