"""A small demo-like hospital for the probe to play against, and what the tests read back from the
database. Every use of this project's domain by the probe's tests is in this module, so the
domain can move (patients, clients, scope) with one file to follow."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from appointments.models import ACTIVE_STATUSES, Appointment
from clients.services import create_integration_client
from demo.factories import (
    ActivityFactory,
    ActivityGroupFactory,
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
from patients.models import Patient
from results.models import ResultStatus

TIME_ZONE = "Europe/Madrid"  # both centers: the probe runs with --time-zone, so its clock is exact
RESULTS_PATIENT = "PR-RES"


def build_hospital() -> dict:
    """Two centers, three doctors, three activities in two groups, two insurances with their relations,
    weekly rules every day, a few appointments already booked, and a patient with results."""
    madrid = CenterFactory(lid="MAD", name="Hospital Probe Madrid", time_zone=TIME_ZONE)
    norte = CenterFactory(lid="NOR", name="Centro Probe Norte", time_zone=TIME_ZONE)
    consultas = LocationFactory(lid="MAD-CE", name="Consultas externas", center=madrid)
    norte_1 = LocationFactory(lid="NOR-1", name="Planta 1", center=norte)
    cardio = ActivityGroupFactory(lid="CAR", name="Cardiología")
    derma = ActivityGroupFactory(lid="DER", name="Dermatología")
    first_visit = ActivityFactory(lid="CAR-1V", name="Primera visita", group=cardio, duration=30, price=Decimal("80"))
    review = ActivityFactory(lid="CAR-REV", name="Revisión", group=cardio, duration=15, price=Decimal("50"))
    skin = ActivityFactory(lid="DER-1V", name="Consulta", group=derma, duration=20, price=Decimal("60"))
    d1 = ResourceFactory(lid="D1", first_name="Ana", second_name="García", location=consultas)
    d2 = ResourceFactory(lid="D2", first_name="Luis", second_name="Pérez", location=consultas, availabilities_step=15)
    d3 = ResourceFactory(lid="D3", first_name="Marta", second_name="Ruiz", location=norte_1)
    ResourceActivityFactory(resource=d1, activity=first_visit)
    ResourceActivityFactory(resource=d1, activity=review)
    ResourceActivityFactory(resource=d2, activity=first_visit, price=Decimal("95"))
    ResourceActivityFactory(resource=d3, activity=skin)
    sanitas = InsuranceFactory(lid="SAN", name="Sanitas")
    adeslas = InsuranceFactory(lid="ADE", name="Adeslas")
    InsuranceResourceFactory(insurance=sanitas, resource=d1)
    InsuranceResourceFactory(insurance=adeslas, resource=d3)
    InsuranceActivityFactory(insurance=sanitas, activity=first_visit, price=Decimal("20"))
    InsuranceActivityFactory(insurance=adeslas, activity=skin)
    for weekday in range(7):
        AvailabilityRuleFactory(
            lid=f"R1-{weekday}", resource=d1, weekday=weekday, start_time=dt.time(8), end_time=dt.time(14)
        )
        AvailabilityRuleFactory(
            lid=f"R2-{weekday}", resource=d2, weekday=weekday, start_time=dt.time(9), end_time=dt.time(13)
        )
        AvailabilityRuleFactory(
            lid=f"R3-{weekday}", resource=d3, weekday=weekday, start_time=dt.time(15), end_time=dt.time(19)
        )
    zone = madrid.zone
    for days, hour in ((2, 9), (3, 10), (5, 11)):
        day = timezone.localdate() + dt.timedelta(days=days)
        start = dt.datetime.combine(day, dt.time(hour), tzinfo=zone)
        AppointmentFactory(resource=d1, activity=first_visit, start=start, end=start + dt.timedelta(minutes=30))
    patient = PatientFactory(lid=RESULTS_PATIENT, mobile_phone="600000001", id_number="11111111H")
    for lid, status in (
        ("RES-1", ResultStatus.VALID),
        ("RES-2", ResultStatus.VALID),
        ("RES-3", ResultStatus.WITHDRAWN),
    ):
        MedicalResultFactory(lid=lid, patient=patient, center=madrid, status=status)
    return {"centers": ["MAD", "NOR"]}


def new_client(name: str = "tuotempo-probe", centers: tuple[str, ...] = (), pattern: str = "lid") -> tuple[str, str]:
    """A client of those centers, or of every center when none is named."""
    client, secret = create_integration_client(name=name, center_lids=list(centers) or None, pattern=pattern)
    return client.name, secret


def probe_appointments() -> list[tuple[str, bool, str]]:
    """(APP_LID, still active, CENTER_LID) of every appointment booked for the probe's patients."""
    rows = Appointment.objects.filter(patient__first_name="Probe").select_related("location__center")
    return [(a.lid, a.status in ACTIVE_STATUSES, a.location.center.lid) for a in rows]


def counts() -> dict[str, int]:
    return {
        "appointments": Appointment.objects.count(),
        "active": Appointment.objects.filter(status__in=ACTIVE_STATUSES).count(),
        "patients": Patient.objects.count(),
    }


def active_overlaps() -> int:
    """Active appointments of one doctor that overlap another: must be none, whatever was sent."""
    active = list(Appointment.objects.filter(status__in=ACTIVE_STATUSES).order_by("resource_id", "start"))
    return sum(
        1 for a, b in zip(active, active[1:], strict=False) if a.resource_id == b.resource_id and b.start < a.end
    )
