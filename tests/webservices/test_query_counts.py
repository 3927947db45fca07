"""Every webservice method runs a fixed, small number of SQL queries, however many rows it touches:
an N+1 regression (a query per appointment, per resource, per result) fails here.

Each method is called over REST with Django's test client, in-process, on a small hospital of
`size` doctors, each offering its own activity, accepting an insurance, and holding one future
appointment and one result of the patient P1. The bounds count every query of the call: the
client's authentication and throttle check, its scope, the method's own queries, the savepoints of
its transactions and the audit entry. List methods run on 3 and on 30 rows under the same bound.

Every method is bounded twice: with the catalogue answers of this process cold (nothing kept: the
first call after a change of the catalogue) and warm (the same call made once before, so the
catalogue, KeyEntities and the slot engine's offers and rules are kept for the current version and
only the version is read).
"""

import datetime as dt
import json

import pytest
from django.utils import timezone

from appointments import catalogue
from appointments.models import Appointment, AppointmentStatus, Weekday
from appointments.slots import find_slots
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
from webservices.registry import forget_rendered

pytestmark = pytest.mark.django_db

SMALL, LARGE = 3, 30


@pytest.fixture(params=["cold", "warm"])
def cache(request):
    """Whether the catalogue answers kept by this process are dropped before the measured call
    ("cold"), or the test makes the call once before measuring it ("warm")."""
    catalogue.forget()
    forget_rendered()
    yield request.param
    catalogue.forget()
    forget_rendered()


def warm_up(cache: str, client, secret: str, method: str, params: dict) -> None:
    if cache == "warm":
        call(client, secret, method, params)


def hospital(size: int) -> dict:
    """`size` doctors of one center, each with its own activity, rules every day from 08:00 to 20:00,
    an insurance, and a future appointment and a result of patient P1."""
    center = CenterFactory(lid="MAD", time_zone="Europe/Madrid")
    location = LocationFactory(lid="MAD-1", center=center)
    insurance = InsuranceFactory(lid="INS1")
    patient = PatientFactory(lid="P1")
    day = timezone.localdate(timezone=center.zone) + dt.timedelta(days=3)
    appointments, activities = [], []
    for n in range(size):
        resource = ResourceFactory(lid=f"D{n}", location=location)
        activity = ActivityFactory(lid=f"ACT{n}", duration=30)
        activities.append(activity)
        ResourceActivityFactory(resource=resource, activity=activity)
        InsuranceActivityFactory(insurance=insurance, activity=activity)
        InsuranceResourceFactory(insurance=insurance, resource=resource)
        for weekday in Weekday.values:
            AvailabilityRuleFactory(
                lid=f"R{n}-{weekday}", resource=resource, weekday=weekday, start_time=dt.time(8), end_time=dt.time(20)
            )
        start = dt.datetime.combine(day, dt.time(9), center.zone) + dt.timedelta(minutes=30 * n)
        appointments.append(
            AppointmentFactory(
                lid=f"A{n}", resource=resource, activity=activity, insurance=insurance, patient=patient, start=start
            )
        )
        MedicalResultFactory(lid=f"RES{n}", patient=patient, center=center)
    return {"day": day, "patient": patient, "appointments": appointments, "activity": activities[0], "center": center}


def call(client, secret: str, method: str, params: dict | None = None, *, write: bool = False):
    auth = f"Bearer {secret}"
    if write:
        response = client.post(f"/api/{method.lower()}", params or {}, content_type="application/json",
                               HTTP_AUTHORIZATION=auth)  # fmt: skip
    else:
        response = client.get(f"/api/{method.lower()}", params or {}, HTTP_AUTHORIZATION=auth)
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code == 200, content
    body = json.loads(content)
    assert body["result"] == "OK", body
    return body["return"]


# ---------------------------------------------------------------- lists: the same bound at 3 and 30 rows

LIST_BOUNDS = {
    "GetCenters": {"cold": 5, "warm": 5},
    "KeyEntities": {"cold": 9, "warm": 5},  # warm: GetCenters's, with the version instead of the centers
    "searchAvailabilities": {"cold": 10, "warm": 6},
    "getAppointments": {"cold": 7, "warm": 7},
    "SearchAppointments": {"cold": 5, "warm": 5},
    "getTestResultsList": {"cold": 7, "warm": 7},
}


def list_params(method: str, place: dict) -> dict:
    day = place["day"].strftime("%d/%m/%Y")
    return {
        "GetCenters": {},
        "KeyEntities": {},
        "searchAvailabilities": {"ACTIVITY_LID": place["activity"].lid, "AVA_START_DAY": day, "AVA_END_DAY": day},
        "getAppointments": {"USER_LID": "P1"},
        "SearchAppointments": {"START_DATE": day, "END_DATE": day},
        "getTestResultsList": {"USER_LID": "P1", "RESULT_START_DATE": "01/01/2000"},
    }[method]


def expected_rows(method: str, size: int) -> int:
    # One center; one (resource, activity) pair per doctor, self-pay and with the insurance; one
    # doctor (D0) offers the activity searched, from 08:00 to 20:00 in 30-minute slots, 09:00 taken.
    return {"GetCenters": 1, "KeyEntities": 2 * size, "searchAvailabilities": 23}.get(method, size)


@pytest.mark.parametrize("size", [SMALL, LARGE])
@pytest.mark.parametrize("method", list(LIST_BOUNDS))
def test_list_queries_do_not_grow_with_rows(method, size, cache, client, creds, django_assert_max_num_queries):
    place = hospital(size)
    warm_up(cache, client, creds.secret, method, list_params(method, place))
    with django_assert_max_num_queries(LIST_BOUNDS[method][cache]):
        rows = call(client, creds.secret, method, list_params(method, place))
    assert len(rows) == expected_rows(method, size)


def test_getappointments_reads_each_row_with_its_relations(client, creds, django_assert_max_num_queries):
    place = hospital(LARGE)
    with django_assert_max_num_queries(LIST_BOUNDS["getAppointments"]["cold"]):
        rows = call(client, creds.secret, "getAppointments", {"USER_LID": "P1"})
    assert [r["RESOURCE_LID"] for r in rows] == [f"D{n}" for n in range(LARGE)]
    assert {r["USER_INSURANCE_LID"] for r in rows} == {"INS1"}
    assert rows[-1]["ACTIVITY_GROUP_LID"] == place["appointments"][-1].activity.group.lid


# ---------------------------------------------------------------- one-record methods and writes

ADD_BOUND = {"cold": 26, "warm": 22}  # cold: the doctors and activities an availability id names, read once
CANCEL_BOUND = 17
CHECK_BOUND = 5
CONTENT_BOUND = 5


def search_of(place: dict) -> dict:
    return list_params("searchAvailabilities", place)


def test_addappointment_books_in_a_bounded_number_of_queries(cache, client, creds, django_assert_max_num_queries):
    place = hospital(LARGE)
    activity = place["activity"]
    first, slot = find_slots(activity=activity, start_day=place["day"], end_day=place["day"], limit=2)
    catalogue.forget()
    if cache == "warm":  # the doctor's previous booking
        params = {"AVAILABILITY_LID": first.lid, "USER_LID": "P1"}
        assert call(client, creds.secret, "addAppointment", params, write=True)["ADD_RESULT"] == "OK"
    with django_assert_max_num_queries(ADD_BOUND[cache]):
        answer = call(
            client, creds.secret, "addAppointment", {"AVAILABILITY_LID": slot.lid, "USER_LID": "P1"}, write=True
        )
    assert answer["ADD_RESULT"] == "OK"
    booked = Appointment.objects.get(lid=answer["APP_LID"])
    assert (booked.patient.lid, booked.start, booked.activity) == ("P1", slot.start, activity)


@pytest.mark.parametrize("method", ["deleteAppointment", "CancelAppointment"])
def test_cancelling_takes_a_bounded_number_of_queries(method, cache, client, creds, django_assert_max_num_queries):
    place = hospital(LARGE)
    warm_up(cache, client, creds.secret, "searchAvailabilities", search_of(place))
    params = {"APP_LID": "A7"} | ({"USER_LID": "P1"} if method == "CancelAppointment" else {})
    with django_assert_max_num_queries(CANCEL_BOUND):
        answer = call(client, creds.secret, method, params, write=True)
    assert answer["DELETE_RESULT"] == "OK"
    assert Appointment.objects.get(lid="A7").status == AppointmentStatus.CANCELLED_BY_USER
    assert Appointment.objects.filter(status=AppointmentStatus.APPROVED).count() == LARGE - 1


def test_checkappointment_takes_a_bounded_number_of_queries(cache, client, creds, django_assert_max_num_queries):
    place = hospital(LARGE)
    warm_up(cache, client, creds.secret, "searchAvailabilities", search_of(place))
    with django_assert_max_num_queries(CHECK_BOUND):
        answer = call(client, creds.secret, "checkAppointment", {"APP_LID": "A3"})
    assert (answer["APP_LID"], answer["STATUS"], answer["RESOURCE_LID"], answer["USER_LID"]) == (
        "A3", "Confirmed", "D3", "P1"
    )  # fmt: skip


def test_gettestresultcontent_takes_a_bounded_number_of_queries(cache, client, creds, django_assert_max_num_queries):
    place = hospital(SMALL)
    warm_up(cache, client, creds.secret, "searchAvailabilities", search_of(place))
    with django_assert_max_num_queries(CONTENT_BOUND):
        answer = call(client, creds.secret, "getTestResultContent", {"DOWNLOAD_LID": "RES1"})
    assert answer["STATUS"] == "Valid" and answer["DOWNLOAD_CONTENT"]


def test_a_patient_found_by_name_costs_no_query_per_patient(client, creds, django_assert_max_num_queries):
    """Booking for a patient tuOtempO does not name by id looks the patient up by indexed keys, not by
    reading every patient: the bound holds with many patients on file."""
    place = hospital(SMALL)
    for n in range(40):
        PatientFactory(lid=f"Q{n}")
    slot = find_slots(activity=place["activity"], start_day=place["day"], end_day=place["day"], limit=1)[0]
    catalogue.forget()
    params = {
        "AVAILABILITY_LID": slot.lid,
        "USER_FIRST_NAME": "Ana",
        "USER_SECOND_NAME": "Nueva",
        "USER_MOBILE_PHONE": "600123123",
    }
    with django_assert_max_num_queries(ADD_BOUND["cold"] + 4):
        answer = call(client, creds.secret, "addAppointment", params, write=True)
    assert answer["ADD_RESULT"] == "OK" and answer["USER_LID"] not in (None, "P1")
    assert Appointment.objects.get(lid=answer["APP_LID"]).patient.first_name == "Ana"
