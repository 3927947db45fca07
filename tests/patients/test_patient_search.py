"""The desk finds a patient by what a clerk types (name, ID number, phone, hospital id), and warns of
possible duplicates before registering a new one."""

import datetime as dt

import pytest

from demo.factories import PatientFactory
from patients.models import PatientData
from patients.selectors import search_patients, similar_patients

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
    assert [p.lid for p in search_patients(text=typed)] == expected


def test_a_merged_record_is_never_offered(people):
    assert people["merged"] not in search_patients(text="Lucía Martín Ruiz")
    assert search_patients(text="P12") == []


def test_search_results_are_capped(people):
    for n in range(5):
        PatientFactory(first_name="Lucía", second_name=f"Otra{n}")
    assert len(search_patients(text="lucia", limit=3)) == 3


def test_possible_duplicates_are_the_same_id_number_or_the_same_name_and_one_more_thing(people):
    lucia = people["lucia"]
    same_id = PatientData(first_name="L.", second_name="M.", id_number="12345678-z")
    same_name_and_birth = PatientData(first_name="lucia", second_name="MARTIN", third_name="Ruiz",
                                      date_of_birth=dt.date(1985, 3, 12))  # fmt: skip
    same_name_and_phone = PatientData(first_name="Lucía", second_name="Martín", third_name="Ruiz",
                                      mobile_phone="600112233")  # fmt: skip
    same_name_only = PatientData(first_name="Lucía", second_name="Martín", third_name="Ruiz",
                                 date_of_birth=dt.date(1990, 1, 1))  # fmt: skip
    stranger = PatientData(first_name="Ana", second_name="Pérez", mobile_phone="600112233")

    assert similar_patients(data=same_id) == [lucia]
    assert similar_patients(data=same_name_and_birth) == [lucia]
    assert similar_patients(data=same_name_and_phone) == [lucia]
    assert similar_patients(data=same_name_only) == []
    assert similar_patients(data=stranger) == []
