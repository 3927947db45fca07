"""The contract's literals on the raw wire (sections 2, 3 and 5): SOAP fault codes, REST codes and
statuses, dates and times, and every element of a record, read from the XML and the JSON as they
travel, never through the project's own tables or a client library that could hide a difference."""

import datetime as dt
import re
from decimal import Decimal

import pytest
import requests
from django.utils import timezone

from demo.factories import (
    ActivityFactory,
    AppointmentFactory,
    AvailabilityRuleFactory,
    CenterFactory,
    LocationFactory,
    PatientFactory,
    ResourceActivityFactory,
    ResourceFactory,
)

pytestmark = pytest.mark.live

MADRID_DAY = timezone.localdate() + dt.timedelta(days=12)
ENVELOPE = (
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ws="http://tuotempo.his/ws">'
    "<soapenv:Body><ws:{method}>{fields}</ws:{method}></soapenv:Body></soapenv:Envelope>"
)
# Section 5, written out: the fields of each record in the guide's order.
APPOINTMENT_FIELDS = [
    "APP_LID", "STATUS", "APP_DATE", "APP_START_TIME", "APP_END_TIME", "USER_LID", "USER_MOBILE_PHONE",
    "USER_EMAIL", "USER_INSURANCE_LID", "ACTIVITY_LID", "ACTIVITY_NAME", "ACTIVITY_GROUP_LID", "ACTIVITY_GROUP_NAME",
    "RESOURCE_LID", "RESOURCE_FIRST_NAME", "RESOURCE_SECOND_NAME",
]  # fmt: skip
CHECK_FIELDS = [
    "APP_LID", "STATUS", "APP_DATE", "APP_START_TIME", "APP_END_TIME", "USER_LID", "USER_TID", "USER_MOBILE_PHONE",
    "USER_EMAIL", "USER_INSURANCE_LID", "RESOURCE_LID", "ACTIVITY_LID",
]  # fmt: skip


@pytest.fixture
def booked(db):
    """Madrid: a doctor open 09:00-13:00 every day and an appointment at 10:00 on MADRID_DAY; Las Palmas exists."""
    madrid = CenterFactory(lid="MAD", time_zone="Europe/Madrid")
    CenterFactory(lid="LPA", time_zone="Atlantic/Canary")
    doctor = ResourceFactory(lid="D1", first_name="Ana", location=LocationFactory(lid="MAD-1", center=madrid))
    visit = ActivityFactory(lid="V1", name="Visita", duration=30, price=Decimal("50"))
    ResourceActivityFactory(resource=doctor, activity=visit)
    for weekday in range(7):
        AvailabilityRuleFactory(resource=doctor, weekday=weekday, start_time=dt.time(9), end_time=dt.time(13))
    start = dt.datetime.combine(MADRID_DAY, dt.time(10), madrid.zone)
    patient = PatientFactory(lid="P-LIT", mobile_phone="600123123", email="")
    AppointmentFactory(lid="A-LIT", patient=patient, resource=doctor, activity=visit, start=start,
                       end=start + dt.timedelta(minutes=30))  # fmt: skip


def soap(live_server, creds, method: str, **fields) -> requests.Response:
    body = ENVELOPE.format(method=method, fields="".join(f"<ws:{k}>{v}</ws:{k}>" for k, v in fields.items()))
    return requests.post(
        f"{live_server.url}/soap/",
        data=body.encode(),
        headers={"Authorization": creds.basic(), "Content-Type": "text/xml; charset=utf-8"},
        timeout=30,
    )


def rest(live_server, creds, method: str, **params) -> requests.Response:
    return requests.get(
        f"{live_server.url}/api/{method.lower()}", params=params, headers={"Authorization": creds.basic()}, timeout=30
    )


def fault_code(response: requests.Response) -> str:
    match = re.search(r"<faultcode>(?:[\w-]+:)?([\w.]+)</faultcode>", response.text)
    assert match, (response.status_code, response.text[:500])
    return match[1]


def records(response: requests.Response, record: str) -> list[list[tuple[str, str | None]]]:
    """Each record of a SOAP answer as its (element, text) pairs in order; None for xsi:nil."""
    rows = []
    for inner in re.findall(rf"<tns:{record}>(.*?)</tns:{record}>", response.text, re.S):
        fields = re.findall(r'<tns:(\w+)(?: xsi:nil="true"/>|>([^<]*)</tns:\1>)', inner)
        rows.append([(name, text if f'<tns:{name} xsi:nil="true"/>' not in inner else None) for name, text in fields])
    return rows


# (method, params, SOAP fault, REST status, REST code): section 3's table.
FAILURES = [
    ("KeyEntities", {"CENTER_LID": "LPA"}, "Client.Forbidden", 403, "FORBIDDEN"),
    ("checkAppointment", {"APP_LID": "A-NOPE"}, "Client.NotFound", 404, "NOT_FOUND"),
    ("getAppointments", {"USER_LID": "P-NOPE"}, "Client.NotFound", 404, "NOT_FOUND"),
    ("searchAvailabilities", {"ACTIVITY_LID": "V1", "AVA_START_DAY": "31/02/2030"}, "Client.InvalidInput", 400,
     "INVALID_INPUT"),
    ("searchAvailabilities", {"ACTIVITY_LID": "V1", "AVA_RESULTS_NUMBER": "many"}, "Client.InvalidInput", 400,
     "INVALID_INPUT"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "params", "fault", "status", "code"), FAILURES, ids=lambda v: str(v)[:24])
def test_a_refusal_travels_as_the_contracts_fault_and_code(
    live_server, booked, make_client, method, params, fault, status, code
):
    madrid = make_client(name="madrid-only", centers=["MAD"])
    answered = soap(live_server, madrid, method, **params)
    assert answered.status_code == 500  # SOAP 1.1: faults travel with HTTP 500
    assert fault_code(answered) == fault
    over_rest = rest(live_server, madrid, method, **params)
    body = over_rest.json()
    assert (over_rest.status_code, body["result"], body["code"], body["return"]) == (status, "ERROR", code, None)
    assert isinstance(body["msg"], str) and body["msg"]


def test_a_booking_refused_in_its_result_field_is_not_a_fault(live_server, booked, creds):
    params = {"RESOURCE_LID": "D1", "ACTIVITY_LID": "V1", "APP_DATE": f"{MADRID_DAY:%d/%m/%Y}",
              "APP_START_TIME": "10:00", "USER_FIRST_NAME": "Otra", "USER_SECOND_NAME": "Persona"}  # fmt: skip
    answered = soap(live_server, creds, "addAppointment", **params)
    assert answered.status_code == 200 and "<faultcode>" not in answered.text
    assert records(answered, "addAppointmentResult")[0][0] == ("ADD_RESULT", "ERROR")
    over_rest = requests.post(
        f"{live_server.url}/api/addappointment", json=params, headers={"Authorization": creds.basic()}, timeout=30
    )
    body = over_rest.json()
    assert (over_rest.status_code, body["result"], body["code"]) == (409, "ERROR", "CONFLICT")
    assert (body["return"]["ADD_RESULT"], body["return"]["APP_LID"]) == ("ERROR", None)


@pytest.mark.parametrize(
    ("method", "params", "record"),
    [
        ("getAppointments", {"USER_LID": "P-LIT"}, "Appointment"),
        ("SearchAppointments", {"USER_LID": "P-LIT"}, "Appointment"),
        ("SearchAppointments", {"START_DATE": "{day}", "END_DATE": "{day}"}, "Appointment"),
    ],
)
def test_appointment_lists_answer_every_field_with_dates_dd_mm_yyyy(live_server, booked, creds, method, params, record):
    day = f"{MADRID_DAY:%d/%m/%Y}"
    params = {k: v.format(day=day) for k, v in params.items()}
    rows = records(soap(live_server, creds, method, **params), record)
    assert [[name for name, _ in row] for row in rows] == [APPOINTMENT_FIELDS]
    soap_row = dict(rows[0])
    json_row = rest(live_server, creds, method, **params).json()["return"][0]
    assert list(json_row) == APPOINTMENT_FIELDS
    for row in (soap_row, json_row):
        assert (row["APP_LID"], row["STATUS"], row["APP_DATE"], row["APP_START_TIME"], row["APP_END_TIME"]) == (
            "A-LIT", "Confirmed", day, "10:00", "10:30",
        )  # fmt: skip
        assert (row["USER_EMAIL"], row["USER_INSURANCE_LID"]) == (None, None)  # present, null


def test_check_appointment_answers_every_field_in_the_guides_order(live_server, booked, creds):
    day = f"{MADRID_DAY:%d/%m/%Y}"
    rows = records(soap(live_server, creds, "checkAppointment", APP_LID="A-LIT"), "checkAppointmentResult")
    assert [name for name, _ in rows[0]] == CHECK_FIELDS
    json_row = rest(live_server, creds, "checkAppointment", APP_LID="A-LIT").json()["return"]
    assert list(json_row) == CHECK_FIELDS
    for row in (dict(rows[0]), json_row):
        assert (row["APP_DATE"], row["APP_START_TIME"], row["APP_END_TIME"], row["USER_TID"]) == (
            day, "10:00", "10:30", None,
        )  # fmt: skip


def test_slots_answer_their_date_dd_mm_yyyy_and_times_hh_mm(live_server, booked, creds):
    day = f"{MADRID_DAY:%d/%m/%Y}"
    params = {"ACTIVITY_LID": "V1", "AVA_START_DAY": MADRID_DAY.isoformat(), "AVA_END_DAY": day}
    soap_rows = [dict(r) for r in records(soap(live_server, creds, "searchAvailabilities", **params), "Availability")]
    json_rows = rest(live_server, creds, "searchAvailabilities", **params).json()["return"]
    for rows in (soap_rows, json_rows):
        assert [(r["AVA_DATE"], r["AVA_START_TIME"], r["AVA_END_TIME"]) for r in rows][:3] == [
            (day, "09:00", "09:30"), (day, "09:30", "10:00"), (day, "10:30", "11:00"),  # 10:00 is taken
        ]  # fmt: skip
        assert rows[0]["ACTIVITY_PRICE"] == "50.00" and rows[0]["INSURANCE_LID"] is None
