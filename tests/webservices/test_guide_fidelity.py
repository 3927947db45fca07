"""What a real tuOtempO, reading the guide line by line, expects of the webservices (issue: guide fidelity)."""

import datetime as dt
import json
import re

import pytest
import requests
from django.utils import timezone

from appointments.models import Appointment
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
from patients.models import Patient

pytestmark = pytest.mark.live

DAY = timezone.localdate() + dt.timedelta(days=9)
SOAP_HEADERS = {"Content-Type": "text/xml; charset=utf-8"}


@pytest.fixture
def clinic(db):
    """Madrid: D1 offers two 20-minute activities; D2 a 40-minute one. Open every day 09:00-13:00."""
    location = LocationFactory(lid="MAD-1", center=CenterFactory(lid="MAD", time_zone="Europe/Madrid"))
    d1, d2 = ResourceFactory(lid="D1", location=location), ResourceFactory(lid="D2", location=location)
    for lid, duration, doctor in (("V20", 20, d1), ("R20", 20, d1), ("L40", 40, d2)):
        ResourceActivityFactory(resource=doctor, activity=ActivityFactory(lid=lid, duration=duration))
    for doctor in (d1, d2):
        for weekday in range(7):
            AvailabilityRuleFactory(resource=doctor, weekday=weekday, start_time=dt.time(9), end_time=dt.time(13))
    patient = PatientFactory(lid="P1", mobile_phone="600000001", email="p1@example.org")
    start = dt.datetime.combine(DAY, dt.time(9), location.center.zone)
    AppointmentFactory(lid="A1", resource=d1, activity=d1.activities.first(), patient=patient, start=start)
    return {"d1": d1, "d2": d2}


def _envelope(inner: str) -> bytes:
    return (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ws="http://tuotempo.his/ws">'
        f"<soapenv:Body>{inner}</soapenv:Body></soapenv:Envelope>"
    ).encode()


def _soap(live_server, creds, inner: str) -> requests.Response:
    headers = {**SOAP_HEADERS, "Authorization": creds.basic()}
    return requests.post(f"{live_server.url}/soap/", data=_envelope(inner), headers=headers, timeout=30)


# --- searchAvailabilities without ACTIVITY_LID (guide B.2.2) -----------------------------------------


def test_search_without_an_activity_answers_when_the_activities_left_last_the_same(surface, clinic, creds):
    answer = surface.call(
        "searchAvailabilities",
        {"RESOURCE_LID": "D1", "AVA_START_DAY": f"{DAY:%d/%m/%Y}", "AVA_END_DAY": f"{DAY:%d/%m/%Y}"},
        authorization=creds.basic(),
    )

    assert answer.ok, answer
    starts = [(s["AVA_START_TIME"], s["ACTIVITY_LID"]) for s in answer.payload]
    # 09:00 is taken; every other 20-minute start once, for the first activity by id.
    assert starts[:3] == [("09:20", "R20"), ("09:40", "R20"), ("10:00", "R20")]
    assert len(starts) == len({s for s, _ in starts}) == 11


def test_search_without_an_activity_names_the_durations_that_differ(surface, clinic, creds):
    answer = surface.call("searchAvailabilities", {"AVA_START_DAY": f"{DAY:%d/%m/%Y}"}, authorization=creds.basic())

    assert not answer.ok
    if surface.name == "rest":
        assert answer.code == "INVALID_INPUT"
    assert "20 minutes: R20, V20; 40 minutes: L40" in answer.message


# --- paths, fields and nulls ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["searchAvailabilities", "SearchAvailabilities", "SEARCHAVAILABILITIES/"])
def test_rest_method_paths_match_in_any_letter_case(live_server, clinic, creds, path):
    response = requests.get(
        f"{live_server.url}/api/{path}",
        params={"activity_lid": "V20"},
        headers={"Authorization": creds.basic()},
        timeout=30,
    )

    assert response.status_code == 200 and response.json()["result"] == "OK"


def test_availability_records_keep_the_guides_field_order_then_location(live_server, rest_surface, clinic, creds):
    guide_order = [
        "RESOURCE_LID", "ACTIVITY_LID", "INSURANCE_LID", "AVA_DATE", "AVA_START_TIME", "AVAILABILITY_LID",
        "AVA_END_TIME", "ACTIVITY_PRICE", "LOCATION_LID",
    ]  # fmt: skip
    rest = requests.get(
        f"{live_server.url}/api/searchavailabilities",
        params={"activity_lid": "V20"},
        headers={"Authorization": creds.basic()},
        timeout=30,
    )
    assert list(json.loads(rest.text)["return"][0]) == guide_order

    soap = _soap(
        live_server, creds, "<ws:searchAvailabilities><ws:ACTIVITY_LID>V20</ws:ACTIVITY_LID></ws:searchAvailabilities>"
    )
    first = re.search(rb"<tns:Availability>(.*?)</tns:Availability>", soap.content)[1]
    assert re.findall(rb"<tns:(\w+)", first) == [name.encode() for name in guide_order]
    wsdl = requests.get(f"{live_server.url}/soap/?wsdl", timeout=30).text
    declared = re.search(r'<xs:complexType name="Availability">(.*?)</xs:complexType>', wsdl, re.S)[1]
    assert re.findall(r'name="(\w+)"', declared) == guide_order


def test_a_null_field_is_written_as_nil_and_declared_nillable(live_server, clinic, creds):
    answer = _soap(
        live_server, creds, "<ws:searchAvailabilities><ws:ACTIVITY_LID>V20</ws:ACTIVITY_LID></ws:searchAvailabilities>"
    )

    assert b'<tns:INSURANCE_LID xsi:nil="true"/>' in answer.content  # self-pay
    wsdl = requests.get(f"{live_server.url}/soap/?wsdl", timeout=30).text
    assert re.search(r'<xs:element name="INSURANCE_LID" type="xs:string" nillable="true"', wsdl)
    assert 'minOccurs="0" name="INSURANCE_LID"' not in wsdl


# --- changes since LAST_REQUEST_TIMESTAMP ------------------------------------------------------------


def test_a_new_phone_of_the_patient_makes_the_appointment_changed_since(surface, clinic, creds):
    since = timezone.localtime(timezone.now() + dt.timedelta(seconds=1), timezone.get_default_timezone())
    stamp = f"{since:%d/%m/%Y %H:%M:%S}"
    assert surface.call("getAppointments", {"USER_LID": "P1", "LAST_REQUEST_TIMESTAMP": stamp},
                        authorization=creds.basic()).payload == []  # fmt: skip

    Appointment.objects.filter(lid="A1").update(modified=since - dt.timedelta(minutes=5))
    Patient.objects.filter(lid="P1").update(mobile_phone="611111111", modified=since + dt.timedelta(seconds=1))

    changed = surface.call(
        "getAppointments", {"USER_LID": "P1", "LAST_REQUEST_TIMESTAMP": stamp}, authorization=creds.basic()
    )
    assert [(a["APP_LID"], a["USER_MOBILE_PHONE"]) for a in changed.payload] == [("A1", "611111111")]


# --- write methods answer every failure in their result field -------------------------------------------


@pytest.mark.parametrize(
    "arguments",
    [
        "<ws:APP_LID>A1</ws:APP_LID><ws:APP_LID>A2</ws:APP_LID>",
        "<ws:APP_LID><ws:nested>A1</ws:nested></ws:APP_LID>",
    ],
    ids=["repeated", "nested"],
)
def test_unreadable_arguments_of_a_soap_write_are_answered_in_its_result_field(live_server, clinic, creds, arguments):
    answer = _soap(live_server, creds, f"<ws:deleteAppointment>{arguments}</ws:deleteAppointment>")

    assert answer.status_code == 200, answer.text
    assert b"<tns:DELETE_RESULT>ERROR</tns:DELETE_RESULT>" in answer.content
    assert b"APP_LID" in re.search(rb"<tns:ERROR_MESSAGE>(.*?)</tns:ERROR_MESSAGE>", answer.content)[1]
    assert Appointment.objects.get(lid="A1").is_active


def test_cancel_appointment_sums_a_long_message_up_in_50_characters(surface, clinic, creds):
    AppointmentFactory(lid="A-STARTED", resource=clinic["d2"], start=timezone.now() - dt.timedelta(minutes=5),
                       patient=Patient.objects.get(lid="P1"))  # fmt: skip

    answer = surface.call("CancelAppointment", {"APP_LID": "A-STARTED", "USER_LID": "P1"}, authorization=creds.basic())

    assert answer.payload == {
        "DELETE_RESULT": "ERROR",
        "RESULT": "ERROR",
        "APP_LID": "The appointment has already started.",
    }
    assert len(answer.payload["APP_LID"]) <= 50
    if surface.name == "rest":  # the whole sentence travels in msg
        assert answer.message.startswith("Appointment A-STARTED has already started")


# --- the API's own description -------------------------------------------------------------------------


def test_the_schema_describes_what_each_parameter_accepts_in_the_guides_order(live_server, db):
    response = requests.get(f"{live_server.url}/api/schema/", timeout=30)

    assert response.headers["Content-Type"].startswith("application/json")  # a browser shows it
    search = response.json()["paths"]["/api/searchavailabilities"]["get"]
    params = {p["name"]: p for p in search["parameters"]}
    assert list(params)[:3] == ["ACTIVITY_LID", "AVA_START_DAY", "AVA_END_DAY"]
    assert re.fullmatch(params["AVA_START_DAY"]["schema"]["pattern"], "14/12/2026")
    assert re.fullmatch(params["AVA_START_DAY"]["schema"]["pattern"], "2026-12-14")
    assert not re.fullmatch(params["AVA_START_DAY"]["schema"]["pattern"], "2026/12/14")
    assert params["AVA_RESULTS_NUMBER"]["schema"]["type"] == "integer"
    assert params["ACTIVITY_LID"]["schema"]["maxLength"] == 50
    assert search["summary"] and search["summary"] != search["description"]


def test_the_api_docs_page_needs_no_internet(live_server, db):
    page = requests.get(f"{live_server.url}/api/docs/", timeout=30).text

    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets and not [a for a in assets if a.startswith(("http://", "https://", "//"))], assets
    for asset in assets:
        if asset.endswith((".js", ".css")):
            assert requests.get(f"{live_server.url}{asset}", timeout=30).status_code == 200, asset
