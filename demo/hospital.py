"""The demo hospital loaded by `python manage.py seed_demo`, and the demo admin account.

Everything here is deterministic: the structure (centers, doctors, activities, insurances, weekly
rules) is fixed, and patients, appointments and results come from `random.Random` streams seeded
with the command's seed. Appointment and absence dates are relative to the day of the first run,
so the same seed on the same day gives the same rows.

Every row is built by the factories the tests use, with every value given here (never a factory's
sequence or Faker), then inserted in bulk. Rows are named by fixed external ids (center MAD, doctor
D001, patient DEMO-P0001, appointment DEMO-A0001, result DEMO-RES0001...) and only missing ones are
created: a second run changes nothing. On a later day, when the demo's future appointments run
short, a new batch is added so the calendar always shows future appointments and future free slots.
"""

import datetime as dt
import os
import random
import secrets
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from appointments.models import (
    ACTIVE_STATUSES,
    CANCELLED_STATUSES,
    Absence,
    Activity,
    ActivityGroup,
    Appointment,
    AppointmentStatus,
    AvailabilityRule,
    Insurance,
    InsuranceActivity,
    InsuranceResource,
    Origin,
    Resource,
    ResourceActivity,
    Weekday,
)
from centers.models import Center, Location
from clients.models import IntegrationClient
from clients.services import create_integration_client
from demo.factories import (
    AbsenceFactory,
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
from patients.models import Patient, normalise_name
from results.models import MedicalResult, ResultStatus, result_upload_to

APPOINTMENT_PREFIX = "DEMO-A"
PATIENT_PREFIX = "DEMO-P"
RESULT_PREFIX = "DEMO-RES"
PATIENT_COUNT = 200
RESULT_COUNT = 60
PAST_DAYS = 42
FUTURE_DAYS = 35
# A later run adds future appointments when the last one starts sooner than this.
TOP_UP_HORIZON_DAYS = 14
# On future days a rule-day keeps at least this share of its minutes free.
MAX_FUTURE_FILL = 0.5

MSG_NOTHING_CHANGED = "demo hospital already loaded: nothing changed"

MON, TUE, WED, THU, FRI, SAT = (
    Weekday.MONDAY,
    Weekday.TUESDAY,
    Weekday.WEDNESDAY,
    Weekday.THURSDAY,
    Weekday.FRIDAY,
    Weekday.SATURDAY,
)
RULES_FROM = dt.date(2024, 1, 1)

CENTERS = [
    # lid, name, description, address, phone, website, time zone
    (
        "MAD",
        "Hospital Demo Madrid",
        "Consultas externas, diagnóstico por imagen y laboratorio",
        "Calle de Alcalá 120, 28009 Madrid",
        "+34 910 000 100",
        "https://madrid.hospital.example.org",
        "Europe/Madrid",
    ),
    (
        "LPA",
        "Clínica Demo Las Palmas",
        "Consultas externas y diagnóstico",
        "Calle León y Castillo 200, 35004 Las Palmas de Gran Canaria",
        "+34 928 000 200",
        "https://laspalmas.hospital.example.org",
        "Atlantic/Canary",
    ),
    (
        "MIL",
        "Centro Medico Demo Milano",
        "Poliambulatorio",
        "Via Vittor Pisani 10, 20124 Milano",
        "+39 02 0000 0300",
        "https://milano.hospital.example.org",
        "Europe/Rome",
    ),
]

LOCATIONS = [
    ("MAD-CE", "Consultas externas, planta 1", "MAD"),
    ("MAD-DX", "Diagnóstico y laboratorio, planta 0", "MAD"),
    ("LPA-CE", "Consultas externas, planta baja", "LPA"),
    ("LPA-DX", "Laboratorio y radiología", "LPA"),
    ("MIL-AMB", "Ambulatorio, primo piano", "MIL"),
]

GROUPS = [
    ("CAR", "Cardiología"),
    ("DER", "Dermatología"),
    ("TRA", "Traumatología"),
    ("LAB", "Análisis clínicos"),
    ("GIN", "Ginecología"),
    ("OFT", "Oftalmología"),
    ("PED", "Pediatría"),
    ("MFA", "Medicina general"),
    ("RAD", "Radiología"),
    ("FIS", "Fisioterapia"),
]

ACTIVITIES = [
    # lid, name, group, minutes, price, web enabled
    ("CAR-1V", "Primera consulta de cardiología", "CAR", 30, "95.00", True),
    ("CAR-REV", "Revisión de cardiología", "CAR", 15, "60.00", True),
    ("CAR-ECG", "Electrocardiograma", "CAR", 15, "45.00", True),
    ("CAR-ECO", "Ecocardiograma", "CAR", 30, "120.00", True),
    ("DER-1V", "Primera consulta de dermatología", "DER", 20, "80.00", True),
    ("DER-REV", "Revisión de dermatología", "DER", 15, "55.00", True),
    ("DER-NEV", "Revisión de lunares (dermatoscopia)", "DER", 30, "95.00", True),
    ("TRA-1V", "Primera consulta de traumatología", "TRA", 20, "85.00", True),
    ("TRA-REV", "Revisión de traumatología", "TRA", 15, "60.00", True),
    ("TRA-INF", "Infiltración articular", "TRA", 30, "110.00", True),
    ("LAB-ANA", "Análisis de sangre", "LAB", 10, "35.00", True),
    ("LAB-ORI", "Análisis de orina", "LAB", 10, "20.00", True),
    ("LAB-COA", "Control de anticoagulación", "LAB", 10, "25.00", True),
    ("GIN-1V", "Consulta de ginecología", "GIN", 30, "90.00", True),
    ("GIN-CIT", "Citología", "GIN", 20, "60.00", True),
    ("GIN-ECO", "Ecografía ginecológica", "GIN", 30, "100.00", True),
    ("OFT-1V", "Consulta de oftalmología", "OFT", 20, "75.00", True),
    ("OFT-FON", "Fondo de ojo", "OFT", 15, "50.00", True),
    ("PED-1V", "Consulta de pediatría", "PED", 20, "60.00", True),
    ("PED-VAC", "Vacunación infantil", "PED", 10, "25.00", True),
    ("MFA-CON", "Consulta de medicina general", "MFA", 15, "45.00", True),
    ("MFA-CER", "Certificado médico", "MFA", 10, "30.00", True),
    ("RAD-RX", "Radiografía simple", "RAD", 10, "40.00", True),
    # Booked by phone only: the desk must check the patient's implants first.
    ("RAD-RM", "Resonancia magnética", "RAD", 45, "250.00", False),
    ("FIS-SES", "Sesión de fisioterapia", "FIS", 45, "45.00", True),
]

DOCTORS = [
    # lid, first name, surnames, location, specialty group, AVAILABILITIES_STEP, web enabled
    ("D001", "Javier", "Martín Ortega", "MAD-CE", "CAR", None, True),
    ("D002", "Lucía", "Fernández Ruiz", "MAD-CE", "CAR", None, True),
    ("D003", "Carmen", "Santana Déniz", "LPA-CE", "CAR", None, True),
    ("D004", "Marco", "Bianchi", "MIL-AMB", "CAR", 30, True),
    ("D005", "Elena", "Navarro Gil", "MAD-CE", "DER", 30, True),
    ("D006", "Pablo", "Romero Castillo", "MAD-CE", "DER", None, True),
    ("D007", "Yaiza", "Suárez Cabrera", "LPA-CE", "DER", None, True),
    ("D008", "Chiara", "Ricci", "MIL-AMB", "DER", None, True),
    ("D009", "Alberto", "Sanz Moreno", "MAD-CE", "TRA", 20, True),
    ("D010", "Marta", "Iglesias Vidal", "MAD-CE", "TRA", None, True),
    ("D011", "Airam", "Rodríguez Hernández", "LPA-CE", "TRA", None, True),
    ("D012", "Luca", "Ferrari", "MIL-AMB", "TRA", None, True),
    ("D013", "Rosa", "Delgado Prieto", "MAD-DX", "LAB", 5, True),
    ("D014", "Sergio", "Molina Vega", "MAD-DX", "LAB", None, True),
    ("D015", "Nayra", "Quintana Medina", "LPA-DX", "LAB", None, True),
    ("D016", "Francesca", "Romano", "MIL-AMB", "LAB", None, True),
    ("D017", "Isabel", "Torres Blanco", "MAD-CE", "GIN", None, True),
    ("D018", "Beatriz", "Ramos Herrera", "MAD-CE", "GIN", None, True),
    ("D019", "Guacimara", "Pérez Afonso", "LPA-CE", "GIN", None, True),
    ("D020", "Giulia", "Esposito", "MIL-AMB", "GIN", None, True),
    ("D021", "Andrés", "Castro Muñoz", "MAD-CE", "OFT", None, True),
    ("D022", "Paula", "Domínguez Serrano", "MAD-CE", "OFT", None, True),
    ("D023", "Jonay", "García Falcón", "LPA-CE", "OFT", None, True),
    ("D024", "Laura", "Jiménez Rubio", "MAD-CE", "PED", 10, True),
    ("D025", "Diego", "Morales Ortiz", "MAD-CE", "PED", None, True),
    ("D026", "Cristina", "Alonso León", "LPA-CE", "PED", None, True),
    ("D027", "Tomás", "Betancor Ojeda", "LPA-CE", "PED", None, True),
    ("D028", "Antonio", "López Marín", "MAD-CE", "MFA", None, True),
    ("D029", "Silvia", "Gutiérrez Peña", "MAD-CE", "MFA", None, True),
    ("D030", "Daniel", "Armas Trujillo", "LPA-CE", "MFA", None, True),
    ("D031", "Alessandro", "Conti", "MIL-AMB", "MFA", None, True),
    ("D032", "Manuel", "Vázquez Rey", "MAD-DX", "RAD", None, True),
    ("D033", "Acerina", "Sosa Monzón", "LPA-DX", "RAD", None, True),
    ("D034", "Raquel", "Cano Pascual", "MAD-CE", "FIS", None, True),
    ("D035", "Valerio", "Greco", "LPA-CE", "FIS", None, True),
    # Sees patients booked at the desk only.
    ("D036", "Francisco", "Herrero Lozano", "MAD-CE", "MFA", None, False),
]

# Activities of their group a doctor does not offer.
NOT_OFFERED = {("D002", "CAR-ECO"), ("D006", "DER-NEV"), ("D012", "TRA-INF"), ("D023", "OFT-FON")}

# (doctor, activity): (own duration, own price)
RESOURCE_ACTIVITY_OVERRIDES = {
    ("D001", "CAR-1V"): (None, "110.00"),
    ("D004", "CAR-1V"): (40, "120.00"),
    ("D005", "DER-1V"): (30, None),
    ("D009", "TRA-1V"): (None, "95.00"),
    ("D011", "TRA-REV"): (20, None),
    ("D016", "LAB-ANA"): (None, "30.00"),
    ("D020", "GIN-1V"): (40, "100.00"),
    ("D024", "PED-1V"): (30, None),
    ("D031", "MFA-CON"): (20, "50.00"),
    ("D035", "FIS-SES"): (30, "40.00"),
}

INSURANCES = [
    # lid, name, web enabled, groups not covered, share of the activity price (None: no own price)
    ("SAN", "Sanitas", True, set(), None),
    ("ADE", "Adeslas", True, {"FIS"}, "0.50"),
    ("MAP", "Mapfre Salud", True, {"RAD"}, None),
    ("DKV", "DKV Seguros", True, set(), "0.70"),
    ("ASI", "Asisa", True, {"OFT"}, "0.60"),
    ("CAS", "Caser Salud", False, set(), None),
    ("GEN", "Generali Italia", True, {"PED"}, "0.80"),
    ("UNI", "UniSalute", True, set(), "0.50"),
    ("ALZ", "Allianz Italia", True, {"FIS"}, None),
    ("RBM", "RBM Salute", True, {"DER", "TRA", "GIN", "OFT", "PED", "RAD", "FIS"}, "0.60"),
]
SPANISH_INSURANCES = ["SAN", "ADE", "MAP", "DKV", "ASI", "CAS"]
ITALIAN_INSURANCES = ["GEN", "UNI", "ALZ", "RBM"]

# Working hours per center: (morning start, morning end), (afternoon start, afternoon end).
HOURS = {
    "MAD": ((dt.time(9, 0), dt.time(14, 0)), (dt.time(16, 0), dt.time(20, 0))),
    "LPA": ((dt.time(8, 0), dt.time(14, 0)), (dt.time(15, 0), dt.time(18, 0))),
    "MIL": ((dt.time(8, 30), dt.time(13, 0)), (dt.time(14, 0), dt.time(18, 0))),
}
# Two weekly patterns, alternated between doctors so that every weekday is covered.
PATTERN_A = {"morning": [MON, WED, FRI], "afternoon": [TUE, THU]}
PATTERN_B = {"morning": [TUE, THU, FRI], "afternoon": [MON, WED]}
LAB_HOURS = (dt.time(8, 0), dt.time(11, 30))
RADIOLOGY_HOURS = (dt.time(8, 0), dt.time(15, 0))

# Extra rules restricted to some activities, on a half-day the doctor's pattern leaves free.
RESTRICTED_RULES = [
    ("D001", THU, dt.time(9, 0), dt.time(12, 0), ["CAR-ECO", "CAR-ECG"]),
    ("D005", TUE, dt.time(9, 0), dt.time(12, 0), ["DER-NEV"]),
    ("D010", THU, dt.time(16, 0), dt.time(19, 0), ["TRA-INF"]),
    ("D017", TUE, dt.time(9, 0), dt.time(13, 0), ["GIN-CIT", "GIN-ECO"]),
    ("D032", TUE, dt.time(15, 0), dt.time(20, 0), ["RAD-RM"]),
    ("D032", THU, dt.time(15, 0), dt.time(20, 0), ["RAD-RM"]),
]
# Rules with their own validity: one that has ended (kept for history), Saturday mornings in Las Palmas.
EXTRA_RULES = [
    ("D028", SAT, dt.time(9, 0), dt.time(13, 0), dt.date(2024, 1, 1), dt.date(2024, 12, 31)),
    ("D015", SAT, dt.time(8, 30), dt.time(11, 0), RULES_FROM, None),
    ("D030", SAT, dt.time(9, 0), dt.time(13, 0), RULES_FROM, None),
]

# Absences relative to the day of the first run: (doctor or center, first day, days, reason).
ABSENCES = [
    ("D002", 8, 7, "Vacaciones"),
    ("D006", 3, 2, "Congreso de dermatología"),
    ("D026", 1, 1, "Asuntos propios"),
    ("LPA", 10, 1, "Festivo local"),
    ("MIL", 17, 1, "Chiusura per festività"),
]

SPANISH_FEMALE = [
    "María", "Carmen", "Ana", "Laura", "Isabel", "Lucía", "Marta", "Elena", "Paula", "Sara", "Cristina", "Raquel",
    "Pilar", "Rocío", "Nuria", "Alba", "Irene", "Sofía", "Claudia", "Beatriz", "Teresa", "Inmaculada", "Yaiza", "Nayra",
]  # fmt: skip
SPANISH_MALE = [
    "José", "Antonio", "Manuel", "Francisco", "David", "Juan", "Javier", "Daniel", "Carlos", "Miguel", "Alejandro",
    "Pablo", "Sergio", "Jorge", "Alberto", "Rubén", "Álvaro", "Adrián", "Fernando", "Raúl", "Luis", "Hugo", "Yeray",
    "Acorán",
]  # fmt: skip
SPANISH_SURNAMES = [
    "García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Martín",
    "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz", "Álvarez", "Romero", "Alonso", "Gutiérrez", "Navarro",
    "Torres", "Domínguez", "Vázquez", "Ramos", "Gil", "Ramírez", "Serrano", "Blanco", "Molina", "Morales", "Suárez",
    "Ortega", "Delgado", "Castro", "Ortiz", "Rubio", "Marín", "Sanz", "Núñez", "Iglesias", "Medina", "Garrido",
    "Santana", "Cabrera", "Quintana", "Betancor", "Déniz",
]  # fmt: skip
ITALIAN_FEMALE = [
    "Giulia", "Francesca", "Chiara", "Sara", "Martina", "Valentina", "Alessia", "Elisa", "Federica", "Silvia", "Anna",
    "Paola",
]  # fmt: skip
ITALIAN_MALE = [
    "Marco", "Luca", "Alessandro", "Andrea", "Matteo", "Lorenzo", "Davide", "Simone", "Federico", "Giuseppe",
    "Stefano", "Giovanni",
]  # fmt: skip
ITALIAN_SURNAMES = [
    "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno",
    "Gallo", "Conti", "De Luca", "Costa", "Giordano", "Mancini", "Rizzo", "Lombardi", "Moretti",
]  # fmt: skip
DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"

APPOINTMENT_NOTES = ["", "", "", "", "Primera visita", "Trae informes previos", "Prefiere ser atendido por la mañana"]
# Kinds of results: code prefix, file name stem, title printed in the document.
RESULT_KINDS = [
    ("LAB", "analitica", "Informe de análisis clínicos"),
    ("LAB", "orina", "Informe de análisis de orina"),
    ("RAD", "radiografia", "Informe de radiología"),
    ("CAR", "electrocardiograma", "Informe de electrocardiograma"),
    ("CAR", "ecocardiograma", "Informe de ecocardiograma"),
]

SUMMARY_LABELS = [
    ("centers", "centers"),
    ("locations", "locations"),
    ("groups", "activity groups"),
    ("activities", "activities"),
    ("insurances", "insurances"),
    ("resources", "doctors"),
    ("resource_activities", "doctor activities"),
    ("insurance_activities", "insurance activities"),
    ("insurance_resources", "insurance doctors"),
    ("rules", "availability rules"),
    ("absences", "absences"),
    ("patients", "patients"),
    ("appointments", "appointments"),
    ("results", "results"),
]


@dataclass
class _Doctor:
    resource: Resource
    center: Center
    # activity lid -> (activity, duration in minutes)
    offers: dict[str, tuple[Activity, int]] = field(default_factory=dict)
    # (weekday, start, end, valid_from, valid_to, allowed activity lids or None)
    rules: list[tuple] = field(default_factory=list)
    insurances: set[str] = field(default_factory=set)


def summarise(created: dict[str, int], *, seed: int) -> str:
    """One line saying what a seeding run created."""
    if not any(created.values()):
        return MSG_NOTHING_CHANGED
    parts = [f"{created[key]} {label}" for key, label in SUMMARY_LABELS if created.get(key)]
    return f"demo hospital (seed {seed}) created: " + ", ".join(parts)


@transaction.atomic
def seed_demo_hospital(*, seed: int = 1, today: dt.date | None = None) -> dict[str, int]:
    """Loads the demo hospital: three centers in their own time zones, 36 doctors with their
    activities, insurances and weekly rules, absences, 200 patients, past and future appointments
    and medical results. Only missing rows are created; returns how many of each kind."""
    today = today or timezone.localdate()
    created: dict[str, int] = {}
    centers = _seed_centers(created)
    locations = _seed_locations(created, centers)
    activities = _seed_activities(created)
    insurances = _seed_insurances(created, activities)
    resources = _seed_resources(created, locations)
    _seed_relations(created, resources, activities, insurances)
    _seed_rules(created, resources, activities)
    _seed_absences(created, resources, centers, today)
    patients = _seed_patients(created, seed)
    doctors = _load_doctors(resources)
    _seed_appointments(created, seed=seed, today=today, doctors=doctors, patients=patients, insurances=insurances)
    _seed_results(created, seed=seed, today=today, patients=patients, centers=centers)
    return created


def _create_missing(model: type[Model], objects: list[Model], key=lambda o: o.lid) -> int:
    """Inserts the objects whose key is not in the database yet; returns how many."""
    existing = {key(o) for o in model.objects.all()}
    missing = [o for o in objects if key(o) not in existing]
    model.objects.bulk_create(missing)
    return len(missing)


def _by_lid(model: type[Model], lids, *related: str) -> dict[str, Model]:
    return {o.lid: o for o in model.objects.filter(lid__in=list(lids)).select_related(*related)}


def _seed_centers(created) -> dict[str, Center]:
    rows = [
        CenterFactory.build(
            lid=lid, name=name, description=desc, address=address, phone=phone, website=web, time_zone=zone
        )
        for lid, name, desc, address, phone, web, zone in CENTERS
    ]
    created["centers"] = _create_missing(Center, rows)
    return _by_lid(Center, [c[0] for c in CENTERS])


def _seed_locations(created, centers) -> dict[str, Location]:
    rows = [LocationFactory.build(lid=lid, name=name, center=centers[center]) for lid, name, center in LOCATIONS]
    created["locations"] = _create_missing(Location, rows)
    return _by_lid(Location, [loc[0] for loc in LOCATIONS])


def _seed_activities(created) -> dict[str, Activity]:
    groups = [ActivityGroupFactory.build(lid=lid, name=name) for lid, name in GROUPS]
    created["groups"] = _create_missing(ActivityGroup, groups)
    groups = _by_lid(ActivityGroup, [g[0] for g in GROUPS])
    rows = [
        ActivityFactory.build(
            lid=lid, name=name, group=groups[group], duration=minutes, price=Decimal(price), web_enabled=web
        )
        for lid, name, group, minutes, price, web in ACTIVITIES
    ]
    created["activities"] = _create_missing(Activity, rows)
    return _by_lid(Activity, [a[0] for a in ACTIVITIES])


def _seed_insurances(created, activities) -> dict[str, Insurance]:
    rows = [InsuranceFactory.build(lid=lid, name=name, web_enabled=web) for lid, name, web, _, _ in INSURANCES]
    created["insurances"] = _create_missing(Insurance, rows)
    insurances = _by_lid(Insurance, [i[0] for i in INSURANCES])
    covers = []
    for lid, _, _, excluded_groups, share in INSURANCES:
        for act_lid, _, group, _, price, _ in ACTIVITIES:
            if group in excluded_groups:
                continue
            own_price = (Decimal(price) * Decimal(share)).quantize(Decimal("0.01")) if share else None
            covers.append(
                InsuranceActivityFactory.build(insurance=insurances[lid], activity=activities[act_lid], price=own_price)
            )
    created["insurance_activities"] = _create_missing(
        InsuranceActivity, covers, key=lambda o: (o.insurance_id, o.activity_id)
    )
    return insurances


def _seed_resources(created, locations) -> dict[str, Resource]:
    rows = []
    for lid, first, surnames, location, _, step, web in DOCTORS:
        email_name = normalise_name(first, surnames.split()[0]).replace(" ", ".")
        number = int(lid[1:])
        phone = f"+34 600 {number:03d} {number * 7 % 1000:03d}"
        if location.startswith("MIL"):
            phone = f"+39 340 {number:03d} {number * 7 % 10000:04d}"
        rows.append(
            ResourceFactory.build(
                lid=lid,
                first_name=first,
                second_name=surnames,
                mobile_phone=phone,
                email=f"{email_name}@hospital.example.org",
                location=locations[location],
                web_enabled=web,
                availabilities_step=step,
            )
        )
    created["resources"] = _create_missing(Resource, rows)
    return _by_lid(Resource, [d[0] for d in DOCTORS], "location__center")


def _doctor_insurances(lid: str, location: str) -> list[str]:
    number = int(lid[1:])
    if location.startswith("MIL"):
        return [*ITALIAN_INSURANCES, "SAN", "DKV"]
    accepted = [
        ins for ins in SPANISH_INSURANCES if not (ins == "MAP" and number % 5 == 0 or ins == "ASI" and number % 7 == 0)
    ]
    if location.startswith("LPA"):
        accepted.append("GEN")  # many Italian residents in Gran Canaria
    return accepted


def _seed_relations(created, resources, activities, insurances) -> None:
    offers, accepts = [], []
    for lid, _, _, location, group, _, _ in DOCTORS:
        for act_lid, _, act_group, _, _, _ in ACTIVITIES:
            if act_group != group or (lid, act_lid) in NOT_OFFERED:
                continue
            duration, price = RESOURCE_ACTIVITY_OVERRIDES.get((lid, act_lid), (None, None))
            offers.append(
                ResourceActivityFactory.build(
                    resource=resources[lid],
                    activity=activities[act_lid],
                    duration=duration,
                    price=Decimal(price) if price else None,
                )
            )
        accepts += [
            InsuranceResourceFactory.build(insurance=insurances[ins], resource=resources[lid])
            for ins in _doctor_insurances(lid, location)
        ]
    created["resource_activities"] = _create_missing(
        ResourceActivity, offers, key=lambda o: (o.resource_id, o.activity_id)
    )
    created["insurance_resources"] = _create_missing(
        InsuranceResource, accepts, key=lambda o: (o.insurance_id, o.resource_id)
    )


def _rule_specs() -> list[tuple]:
    """(lid, doctor, weekday, start, end, valid_from, valid_to, restricted activity lids)"""
    specs = []
    for index, (lid, _, _, location, group, _, _) in enumerate(DOCTORS):
        center = location.split("-")[0]
        morning, afternoon = HOURS[center]
        doctor_rules = []
        if group == "LAB":
            doctor_rules += [(day, *LAB_HOURS) for day in (MON, TUE, WED, THU, FRI)]
        elif group == "RAD":
            doctor_rules += [(day, *RADIOLOGY_HOURS) for day in (MON, TUE, WED, THU, FRI)]
        else:
            pattern = PATTERN_A if index % 2 == 0 else PATTERN_B
            doctor_rules += [(day, *morning) for day in pattern["morning"]]
            doctor_rules += [(day, *afternoon) for day in pattern["afternoon"]]
        for day, start, end in doctor_rules:
            specs.append((lid, day, start, end, RULES_FROM, None, None))
        specs += [(lid, day, s, e, RULES_FROM, None, acts) for doc, day, s, e, acts in RESTRICTED_RULES if doc == lid]
        specs += [(lid, day, s, e, vf, vt, None) for doc, day, s, e, vf, vt in EXTRA_RULES if doc == lid]
    per_doctor = defaultdict(int)
    numbered = []
    for spec in specs:
        per_doctor[spec[0]] += 1
        numbered.append((f"R-{spec[0]}-{per_doctor[spec[0]]}", *spec))
    return numbered


def _seed_rules(created, resources, activities) -> None:
    specs = _rule_specs()
    existing = set(AvailabilityRule.objects.filter(lid__in=[s[0] for s in specs]).values_list("lid", flat=True))
    new = [s for s in specs if s[0] not in existing]
    pending = []
    for lid, doc, day, start, end, valid_from, valid_to, acts in new:
        fields = {
            "lid": lid,
            "resource": resources[doc],
            "weekday": day,
            "start_time": start,
            "end_time": end,
            "valid_from": valid_from,
            "valid_to": valid_to,
        }
        if acts:
            # The few restricted rules are created one by one, so that the factory sets their activities;
            # the batch before them goes in first to keep the rules in their order.
            AvailabilityRule.objects.bulk_create(pending)
            pending = []
            AvailabilityRuleFactory.create(**fields, activities=[activities[act] for act in acts])
        else:
            pending.append(AvailabilityRuleFactory.build(**fields))
    AvailabilityRule.objects.bulk_create(pending)
    created["rules"] = len(new)


def _day_start(day: dt.date, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=zone)


def _seed_absences(created, resources, centers, today) -> None:
    existing = set(Absence.objects.values_list("resource__lid", "center__lid", "reason"))
    new = []
    for who, first_day, days, reason in ABSENCES:
        resource, center = resources.get(who), centers.get(who)
        key = (resource.lid if resource else None, center.lid if center else None, reason)
        if key in existing:
            continue
        zone = (center or resource.location.center).zone
        day = today + dt.timedelta(days=first_day)
        start, end = _day_start(day, zone), _day_start(day + dt.timedelta(days=days), zone)
        new.append(AbsenceFactory.build(resource=resource, center=center, start=start, end=end, reason=reason))
    Absence.objects.bulk_create(new)
    created["absences"] = len(new)


def _dni(rng: random.Random) -> str:
    number = rng.randrange(10_000_000, 100_000_000)
    return f"{number:08d}{DNI_LETTERS[number % 23]}"


def _nie(rng: random.Random) -> str:
    prefix = rng.randrange(3)
    number = rng.randrange(1_000_000, 10_000_000)
    return f"{'XYZ'[prefix]}{number:07d}{DNI_LETTERS[int(f'{prefix}{number:07d}') % 23]}"


def _grouped(digits: str, sizes: tuple[int, ...]) -> str:
    parts, at = [], 0
    for size in sizes:
        parts.append(digits[at : at + size])
        at += size
    return " ".join(parts)


def _build_patients(seed: int) -> list[Patient]:
    rng = random.Random(f"{seed}:patients")
    patients, id_numbers = [], set()
    for n in range(1, PATIENT_COUNT + 1):
        center = rng.choices(["MAD", "LPA", "MIL"], weights=[60, 30, 10])[0]
        italian = center == "MIL" or rng.random() < 0.08
        gender = rng.choice("FM")
        if italian:
            first = rng.choice(ITALIAN_FEMALE if gender == "F" else ITALIAN_MALE)
            second, third = rng.choice(ITALIAN_SURNAMES), ""
        else:
            first = rng.choice(SPANISH_FEMALE if gender == "F" else SPANISH_MALE)
            second, third = rng.choice(SPANISH_SURNAMES), rng.choice(SPANISH_SURNAMES)
        id_number = _nie(rng) if italian and center != "MIL" else _dni(rng)
        while id_number in id_numbers:
            id_number = _dni(rng)
        id_numbers.add(id_number)
        if center == "MIL":
            mobile = "+39 " + _grouped(f"3{rng.randrange(10**8, 10**9)}", (3, 3, 4))
            landline = "+39 02 " + _grouped(f"{rng.randrange(10**7, 10**8)}", (4, 4))
            zip_code = f"201{rng.randrange(0, 100):02d}"
        else:
            mobile = "+34 " + _grouped(f"6{rng.randrange(10**7, 10**8)}", (3, 3, 3))
            area = "91" if center == "MAD" else "928"
            landline = "+34 " + _grouped(
                f"{area}{rng.randrange(10 ** (9 - len(area) - 1), 10 ** (9 - len(area)))}", (3, 3, 3)
            )
            zip_code = f"280{rng.randrange(1, 56):02d}" if center == "MAD" else f"350{rng.randrange(1, 20):02d}"
        email = ""
        if rng.random() < 0.85:
            local = normalise_name(first, second).replace(" ", ".")
            email = f"{local}{n}@{rng.choice(['example.com', 'example.org', 'example.net'])}"
        patient = PatientFactory.build(
            lid=f"{PATIENT_PREFIX}{n:04d}",
            first_name=first,
            second_name=second,
            third_name=third,
            id_number=id_number,
            mobile_phone=mobile if rng.random() < 0.95 else "",
            landline_phone=landline if rng.random() < 0.3 else "",
            email=email,
            date_of_birth=dt.date(1935, 1, 1) + dt.timedelta(days=rng.randrange(0, 32_000)),
            gender=gender,
            zip_code=zip_code,
            language="it" if italian else "es",
            privacy_accepted=rng.random() < 0.97,
            contact_by_email=bool(email),
        )
        patient.derive_keys()  # bulk_create skips save(), which derives the matching keys
        patient.home_center = center
        patients.append(patient)
    return patients


def _seed_patients(created, seed) -> list[Patient]:
    built = _build_patients(seed)
    created["patients"] = _create_missing(Patient, built)
    saved = _by_lid(Patient, [p.lid for p in built])
    patients = []
    for patient in built:
        if patient.lid in saved:
            saved[patient.lid].home_center = patient.home_center
            patients.append(saved[patient.lid])
    return patients


def _load_doctors(resources) -> list[_Doctor]:
    doctors = {lid: _Doctor(resource=r, center=r.location.center) for lid, r in sorted(resources.items())}
    for ra in ResourceActivity.objects.filter(resource__in=[d.resource for d in doctors.values()]).select_related(
        "activity", "resource"
    ):
        doctors[ra.resource.lid].offers[ra.activity.lid] = (ra.activity, ra.duration or ra.activity.duration)
    rules = AvailabilityRule.objects.filter(resource__lid__in=doctors).select_related("resource")
    restricted = defaultdict(set)
    for rule_id, act_lid in AvailabilityRule.activities.through.objects.filter(availabilityrule__in=rules).values_list(
        "availabilityrule_id", "activity__lid"
    ):
        restricted[rule_id].add(act_lid)
    for rule in rules.order_by("lid"):
        doctors[rule.resource.lid].rules.append(
            (rule.weekday, rule.start_time, rule.end_time, rule.valid_from, rule.valid_to, restricted.get(rule.pk))
        )
    for ins_lid, res_lid in InsuranceResource.objects.filter(resource__lid__in=doctors).values_list(
        "insurance__lid", "resource__lid"
    ):
        doctors[res_lid].insurances.add(ins_lid)
    return list(doctors.values())


def _guide_weekday(day: dt.date) -> int:
    return (day.weekday() + 1) % 7  # Python: Monday 0; the guide: Sunday 0


class _Calendar:
    """What is taken: active appointments and absences, per resource, to place new appointments."""

    def __init__(self, doctors: list[_Doctor], window: tuple[dt.datetime, dt.datetime]):
        self.busy: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
        self.blocked: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
        self.booked_minutes: dict[tuple, int] = defaultdict(int)
        ids = [d.resource.pk for d in doctors]
        for resource_id, start, end in Appointment.objects.filter(
            resource_id__in=ids, status__in=ACTIVE_STATUSES
        ).values_list("resource_id", "start", "end"):
            self.busy[resource_id].append((start, end))
        center_of = {d.resource.pk: d.center.pk for d in doctors}
        for absence in Absence.objects.filter(start__lt=window[1], end__gt=window[0]):
            for resource_id, center_id in center_of.items():
                if absence.resource_id == resource_id or absence.center_id == center_id:
                    self.blocked[resource_id].append((absence.start, absence.end))

    def is_free(self, resource_id: int, start: dt.datetime, end: dt.datetime) -> bool:
        return not any(
            s < end and e > start for s, e in (*self.busy.get(resource_id, ()), *self.blocked.get(resource_id, ()))
        )


def _candidate_rules(doctor: _Doctor, activity_lid: str, day: dt.date) -> list[tuple]:
    weekday = _guide_weekday(day)
    return [
        rule
        for rule in doctor.rules
        if rule[0] == weekday
        and (rule[3] is None or rule[3] <= day)
        and (rule[4] is None or day <= rule[4])
        and (rule[5] is None or activity_lid in rule[5])
    ]


def _place_appointments(
    *,
    rng: random.Random,
    doctors: list[_Doctor],
    patients: list[Patient],
    insurances: dict[str, Insurance],
    today: dt.date,
    days: list[int],
    count: int,
) -> list[Appointment]:
    """Places `count` appointments on the given day offsets, never over an active appointment
    or an absence, and leaving at least half of every future rule-day free."""
    zone = timezone.get_default_timezone()
    anchor = _day_start(today, zone)
    window = (anchor + dt.timedelta(days=min(days) - 1), anchor + dt.timedelta(days=max(days) + 2))
    calendar = _Calendar(doctors, window)
    by_center = defaultdict(list)
    for doctor in doctors:
        by_center[doctor.center.lid].append(doctor)
    placed = []
    for _ in range(count):
        patient = rng.choice(patients)
        for _attempt in range(12):
            pool = by_center.get(getattr(patient, "home_center", ""), []) if rng.random() < 0.85 else []
            doctor = rng.choice(pool or doctors)
            activity, duration = doctor.offers[rng.choice(sorted(doctor.offers))]
            day = today + dt.timedelta(days=rng.choice(days))
            rules = _candidate_rules(doctor, activity.lid, day)
            if not rules:
                continue
            _, rule_start, rule_end, *_ = rng.choice(rules)
            zone_c = doctor.center.zone
            opens = dt.datetime.combine(day, rule_start, tzinfo=zone_c)
            closes = dt.datetime.combine(day, rule_end, tzinfo=zone_c)
            step = doctor.resource.availabilities_step or duration
            positions = int(((closes - opens).total_seconds() / 60 - duration) // step) + 1
            if positions < 1:
                continue
            start = opens + dt.timedelta(minutes=step * rng.randrange(positions))
            end = start + dt.timedelta(minutes=duration)
            if not calendar.is_free(doctor.resource.pk, start, end):
                continue
            rule_key = (doctor.resource.pk, day, rule_start)
            rule_minutes = (closes - opens).total_seconds() / 60
            future = start > anchor
            if future and calendar.booked_minutes[rule_key] + duration > rule_minutes * MAX_FUTURE_FILL:
                continue
            placed.append(
                _appointment(
                    rng=rng,
                    doctor=doctor,
                    activity=activity,
                    patient=patient,
                    insurances=insurances,
                    start=start,
                    end=end,
                    anchor=anchor,
                )
            )
            if placed[-1].status in ACTIVE_STATUSES:
                calendar.busy[doctor.resource.pk].append((start, end))
                calendar.booked_minutes[rule_key] += duration
            break
    placed.sort(key=lambda a: (a.start, a.resource.lid))
    return placed


def _appointment(*, rng, doctor, activity, patient, insurances, start, end, anchor) -> Appointment:
    future = start > anchor
    statuses = [AppointmentStatus.APPROVED, AppointmentStatus.PENDING, *CANCELLED_STATUSES]
    status = rng.choices(statuses, weights=[75, 10, 11, 4] if future else [86, 0, 10, 4])[0]
    cancelled_at = None
    if status in CANCELLED_STATUSES:
        # Cancelled some hours before the appointment, and never after the day of the run began.
        cancelled_at = min(anchor, start - dt.timedelta(hours=rng.randrange(2, 120)))
    origin = rng.choices([Origin.ONLINE, Origin.DESK, Origin.PHONE], weights=[45, 30, 25])[0]
    accepted = [
        lid
        for lid in sorted(doctor.insurances)
        if lid in insurances and activity.pk in insurances[lid].covered_activity_ids
    ]
    insurance = insurances[rng.choice(accepted)] if accepted and rng.random() < 0.65 else None
    return AppointmentFactory.build(
        lid=None,
        tid=f"T{rng.randrange(10**7, 10**8)}" if origin == Origin.ONLINE else "",
        resource=doctor.resource,
        activity=activity,
        insurance=insurance,
        location=doctor.resource.location,
        patient=patient,
        start=start,
        end=end,
        status=status,
        origin=origin,
        notes=rng.choice(APPOINTMENT_NOTES),
        cancelled_at=cancelled_at,
    )


def _seed_appointments(created, *, seed, today, doctors, patients, insurances) -> None:
    covered = defaultdict(set)
    for ins_id, act_id in InsuranceActivity.objects.values_list("insurance_id", "activity_id"):
        covered[ins_id].add(act_id)
    for insurance in insurances.values():
        insurance.covered_activity_ids = covered[insurance.pk]
    demo = Appointment.objects.filter(lid__startswith=APPOINTMENT_PREFIX)
    if not demo.exists():
        rng = random.Random(f"{seed}:appointments")
        days = list(range(-PAST_DAYS, FUTURE_DAYS + 1))
        count = PATIENT_COUNT * 6
        first_number = 1
    else:
        horizon = _day_start(today + dt.timedelta(days=TOP_UP_HORIZON_DAYS), timezone.get_default_timezone())
        if demo.filter(start__gte=horizon, status__in=ACTIVE_STATUSES).exists():
            created["appointments"] = 0
            return
        # A later day: the first batch has moved into the past, so the future gets a new one.
        rng = random.Random(f"{seed}:appointments:{today.isoformat()}")
        days = list(range(1, FUTURE_DAYS + 1))
        count = PATIENT_COUNT * 3
        first_number = 1 + max(int(lid[len(APPOINTMENT_PREFIX) :]) for lid in demo.values_list("lid", flat=True))
    placed = _place_appointments(
        rng=rng, doctors=doctors, patients=patients, insurances=insurances, today=today, days=days, count=count
    )
    for number, appointment in enumerate(placed, start=first_number):
        appointment.lid = f"{APPOINTMENT_PREFIX}{number:04d}"
    Appointment.objects.bulk_create(placed, batch_size=500)
    created["appointments"] = len(placed)


def _pdf(lines: list[str]) -> bytes:
    """A small, valid one-page PDF showing the given lines."""

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    text = "BT /F1 12 Tf 16 TL 72 760 Td " + " ".join(f"({escape(line)}) '" for line in lines) + " ET"
    stream = text.encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _store(result: MedicalResult, content: bytes) -> None:
    """Writes the file under its fixed name; a file already there with the same content is reused."""
    storage = MedicalResult._meta.get_field("file").storage
    name = result_upload_to(result, result.filename)
    if storage.exists(name):
        with storage.open(name, "rb") as handle:
            if handle.read() == content:
                result.file.name = name
                return
        storage.delete(name)
    result.file.name = storage.save(name, ContentFile(content))


def _seed_results(created, *, seed, today, patients, centers) -> None:
    rng = random.Random(f"{seed}:results")
    existing = set(MedicalResult.objects.filter(lid__startswith=RESULT_PREFIX).values_list("lid", flat=True))
    zone = timezone.get_default_timezone()
    new, dates = [], {}
    for n in range(1, RESULT_COUNT + 1):
        patient = rng.choice(patients)
        prefix, stem, title = rng.choice(RESULT_KINDS)
        # A third in the last week, so that a default results list is not empty.
        day = today - dt.timedelta(days=rng.randrange(0, 7) if n % 3 == 0 else rng.randrange(7, 120))
        code = f"{prefix}{rng.randrange(100_000, 1_000_000)}"
        withdrawn = rng.random() < 0.06
        lid = f"{RESULT_PREFIX}{n:04d}"
        if lid in existing:
            continue
        content = _pdf([title, f"Referencia: {lid} / {code}", f"Fecha: {day:%d/%m/%Y}", "Documento de demostración."])
        result = MedicalResultFactory.build(
            lid=lid,
            code=code,
            filename=f"{stem}_{day:%Y%m%d}.pdf",
            file_type="pdf",
            patient=patient,
            center=centers.get(getattr(patient, "home_center", "")),
            status=ResultStatus.WITHDRAWN if withdrawn else ResultStatus.VALID,
            # Named by _store below: the factory's own file would be written again, under a new name, on insert.
            file="",
            size=len(content),
        )
        _store(result, content)
        new.append(result)
        dates[lid] = dt.datetime.combine(day, dt.time(10, 0), tzinfo=zone)
    MedicalResult.objects.bulk_create(new)
    # The lab's own dates, not the moment of loading (auto_now_add overrides them on insert).
    for result in MedicalResult.objects.filter(lid__in=list(dates)):
        MedicalResult.objects.filter(pk=result.pk).update(created=dates[result.lid], modified=dates[result.lid])
    created["results"] = len(new)


def admin_url() -> str:
    return f"http://127.0.0.1:{os.environ.get('HIS_PORT') or '8000'}/admin/"


def desk_url() -> str:
    """The clerks' agenda, served beside the admin (same login)."""
    return f"http://127.0.0.1:{os.environ.get('HIS_PORT') or '8000'}/desk/"


def ensure_demo_admin(*, username: str = "admin") -> tuple[str, str | None]:
    """Makes sure the demo has a superuser. Returns (username, password) when one was created now,
    (username of an existing superuser, None) otherwise: a password is never given twice."""
    User = get_user_model()
    existing = User.objects.filter(is_superuser=True).order_by("pk").first()
    if existing is not None:
        return existing.get_username(), None
    if User.objects.filter(username=username).exists():
        username = f"{username}-{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(12)
    User.objects.create_superuser(username=username, email="", password=password)
    return username, password


SINCRO_DEMO_CLIENT = "sincro-demo"


def ensure_sincro_client(*, name: str = SINCRO_DEMO_CLIENT) -> bool:
    """The integration client `make run`'s Sincro worker applies rows as (every center, pattern lid);
    True when this call created it. Sincro needs no secret: the agent writes into the database."""
    if IntegrationClient.objects.filter(name=name).exists():
        return False
    create_integration_client(name=name)
    return True
