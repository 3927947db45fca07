"""A small hospital for the desk: Madrid with two doctors, Las Palmas with one, and the clerks who use it."""

import datetime as dt
from decimal import Decimal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from appointments.slots import find_slots, slots_starting_at
from demo.factories import (
    ActivityFactory,
    AvailabilityRuleFactory,
    CenterFactory,
    InsuranceActivityFactory,
    InsuranceFactory,
    InsuranceResourceFactory,
    LocationFactory,
    ResourceActivityFactory,
    ResourceFactory,
)

MADRID = ZoneInfo("Europe/Madrid")
CANARY = ZoneInfo("Atlantic/Canary")
PASSWORD = "a-long-desk-password"
CLERK_PERMS = (
    "appointments.view_appointment",
    "appointments.add_appointment",
    "appointments.change_appointment",
    "appointments.add_absence",
    "patients.add_patient",
)


def future_monday(weeks: int = 2) -> dt.date:
    """A Monday at least `weeks` weeks ahead of today in Madrid: every slot on it is in the future."""
    day = timezone.localdate(timezone=MADRID) + dt.timedelta(weeks=weeks)
    return day + dt.timedelta(days=-day.weekday() % 7)


def at(day: dt.date, hh_mm: str, zone: ZoneInfo = MADRID) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hh_mm), zone)


def ddmmyyyy(day: dt.date) -> str:
    return f"{day:%d/%m/%Y}"


def desk_slots_at(resource, start: dt.datetime, activity=None) -> list:
    """The slots the desk may book then: the hospital's rules, not only what is offered online."""
    return slots_starting_at(resource=resource, start=start, activity=activity, online=False)


def desk_slots(resources, day: dt.date) -> list:
    """Every slot the desk may book on that day with these doctors."""
    return find_slots(activity=None, resources=resources, start_day=day, end_day=day, limit=None, online=False)


def desk_url(name: str, *args, **params) -> str:
    url = reverse(f"desk:{name}", args=args)
    return f"{url}?{urlencode(params)}" if params else url


@pytest.fixture
def clinic(db):
    """Madrid: D1 Ana García (visit 30 min, ECG 15 min; accepts Sanitas) and D2 Luis Pérez (visit), both
    09:00-11:00 every day; Las Palmas: D3 (visit) 09:00-10:00 every day."""
    madrid = CenterFactory(lid="MAD", name="Hospital Madrid", time_zone="Europe/Madrid")
    canary = CenterFactory(lid="LPA", name="Clínica Las Palmas", time_zone="Atlantic/Canary")
    room = LocationFactory(lid="MAD-1", center=madrid)
    visit = ActivityFactory(lid="VIS", name="Visita", duration=30, price=Decimal("50"))
    ecg = ActivityFactory(lid="ECG", name="Electrocardiograma", duration=15, price=Decimal("30"))
    d1 = ResourceFactory(lid="D1", first_name="Ana", second_name="García", location=room)
    d2 = ResourceFactory(lid="D2", first_name="Luis", second_name="Pérez", location=room)
    d3 = ResourceFactory(
        lid="D3", first_name="Nira", second_name="Santana", location=LocationFactory(lid="LPA-1", center=canary)
    )
    for doctor in (d1, d2, d3):
        ResourceActivityFactory(resource=doctor, activity=visit)
        for weekday in range(7):
            AvailabilityRuleFactory(
                lid=f"R-{doctor.lid}-{weekday}",
                resource=doctor,
                weekday=weekday,
                start_time=dt.time(9),
                end_time=dt.time(10) if doctor is d3 else dt.time(11),
            )
    ResourceActivityFactory(resource=d1, activity=ecg)
    sanitas = InsuranceFactory(lid="SAN", name="Sanitas")
    InsuranceResourceFactory(insurance=sanitas, resource=d1)
    InsuranceActivityFactory(insurance=sanitas, activity=visit, price=Decimal("20"))
    day = future_monday()
    return {
        "madrid": madrid,
        "canary": canary,
        "visit": visit,
        "ecg": ecg,
        "d1": d1,
        "d2": d2,
        "d3": d3,
        "san": sanitas,
        "day": day,
    }


def make_user(username: str, *, staff: bool = True, perms=CLERK_PERMS, superuser: bool = False):
    user = get_user_model().objects.create_user(
        username=username, password=PASSWORD, is_staff=staff, is_superuser=superuser
    )
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return user


@pytest.fixture
def clerk(db):
    return make_user("clerk")


@pytest.fixture
def viewer(db):
    """A clerk who may look at appointments but not change them."""
    return make_user("viewer", perms=("appointments.view_appointment",))


@pytest.fixture
def desk(client, clerk):
    client.force_login(clerk)
    return client
