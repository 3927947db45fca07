"""The desk finds a patient by what a clerk types (name, ID number, phone, hospital id), among the patients
its scope may know; and a newcomer it registers beside a probable match is kept as a possible duplicate."""

import datetime as dt

import pytest

from clients.scope import HOSPITAL, Scope
from demo.factories import AppointmentFactory, CenterFactory, LocationFactory, PatientFactory, ResourceFactory
from patients.models import DuplicateStatus, Patient, PatientData, PossibleDuplicate
from patients.selectors import matching_patients, search_patients
from patients.services import REASON_REGISTERED_ANYWAY, resolve_patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return {
        "lucia": PatientFactory(
            lid="P10",
            first_name="Lucía",
            second_name="Martín",
            third_name="Ruiz",
            id_number="12345678Z",
            mobile_phone="+34 600-11 22 33",
            landline_phone="",
            date_of_birth=dt.date(1985, 3, 12),
            email="lucia@example.org",
        ),
        "lucas": PatientFactory(
            lid="P11",
            first_name="Lucas",
            second_name="Martínez",
            third_name="",
            id_number="87654321X",
            mobile_phone="",
            landline_phone="(928) 11.22.33",
        ),
        "merged": PatientFactory(lid="P12", first_name="Lucía", second_name="Martín", third_name="Ruiz"),
    }


@pytest.fixture(autouse=True)
def _merge(people):
    people["merged"].merged_into = people["lucia"]
    people["merged"].save()


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("lucia martin", ["P10"]),
        ("lucia ruiz", ["P10"]),  # every word must appear, in any order
        ("MARTIN", ["P11", "P10"]),  # ordered by name: "lucas martinez" before "lucia martin ruiz"
        ("martí", ["P11", "P10"]),
        ("12.345.678-z", ["P10"]),
        ("600112233", ["P10"]),
        ("+34 600 11 22 33", ["P10"]),
        ("11 22 33", ["P11", "P10"]),  # the end of a mobile or of a landline
        ("928112233", ["P11"]),
        ("p11", ["P11"]),
        ("", []),
        ("nobody", []),
        ("12345", []),  # too few digits to be a phone, not an ID number
    ],
)
def test_a_patient_is_found_by_what_a_clerk_types(people, typed, expected):
    assert [p.lid for p in search_patients(text=typed, scope=HOSPITAL)] == expected


def test_a_merged_record_is_never_offered(people):
    assert people["merged"] not in search_patients(text="Lucía Martín Ruiz", scope=HOSPITAL)
    assert search_patients(text="P12", scope=HOSPITAL) == []


def test_search_results_are_capped(people):
    for n in range(5):
        PatientFactory(first_name="Lucía", second_name=f"Otra{n}")
    assert len(search_patients(text="lucia", scope=HOSPITAL, limit=3)) == 3


def test_a_caller_limited_to_some_centers_finds_only_the_patients_it_may_know(people):
    madrid = CenterFactory(lid="MAD")
    doctor = ResourceFactory(location=LocationFactory(center=madrid))
    AppointmentFactory(resource=doctor, patient=people["lucas"])
    limited = Scope(centers=(madrid,))

    assert [p.lid for p in search_patients(text="martin", scope=limited)] == ["P11"]
    assert search_patients(text="12345678Z", scope=limited) == []


def lucia_again(**changes) -> PatientData:
    """Lucía as a clerk types her in again: what matching takes for her (name, birth date and mobile)."""
    sent = {"first_name": "lucia", "second_name": "MARTIN", "third_name": "Ruiz", "date_of_birth": dt.date(1985, 3, 12),
            "mobile_phone": "600112233"}  # fmt: skip
    return PatientData(**{**sent, **changes})


def test_registering_beside_a_probable_match_keeps_the_pair_for_review(people):
    shown = matching_patients(data=lucia_again(), centers=HOSPITAL.centers)

    newcomer = resolve_patient(data=lucia_again(), scope=HOSPITAL, new_patient=True)

    assert shown == [people["lucia"]]
    assert newcomer not in (people["lucia"], people["merged"]) and newcomer.full_name == "lucia MARTIN Ruiz"
    pair = PossibleDuplicate.objects.get()
    assert (pair.patient, pair.other, pair.reason, pair.status) == (
        newcomer, people["lucia"], REASON_REGISTERED_ANYWAY, DuplicateStatus.OPEN,
    )  # fmt: skip


def test_without_new_patient_the_probable_match_is_the_patient(people):
    patient = resolve_patient(data=lucia_again(email="nueva@example.org"), scope=HOSPITAL)

    assert patient == people["lucia"] and patient.email == "lucia@example.org"  # what the hospital holds stays
    assert Patient.objects.count() == 3 and not PossibleDuplicate.objects.exists()


def test_registering_someone_nobody_resembles_records_no_pair(people):
    stranger = PatientData(first_name="Ana", second_name="Pérez", mobile_phone="600112233")

    newcomer = resolve_patient(data=stranger, scope=HOSPITAL, new_patient=True)

    assert newcomer.full_name == "Ana Pérez" and not PossibleDuplicate.objects.exists()
