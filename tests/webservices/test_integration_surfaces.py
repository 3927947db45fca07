"""GetCenters, KeyEntities, authentication, scope, errors and safe input, on both surfaces."""

import datetime as dt
import re
from decimal import Decimal

import pytest
import requests
from django.db import OperationalError

from clients.models import AuditEntry, IntegrationClient
from clients.scope import MSG_CENTER_FORBIDDEN, MSG_CENTER_UNKNOWN
from demo.factories import (
    ActivityFactory,
    ActivityGroupFactory,
    AvailabilityRuleFactory,
    CenterFactory,
    InsuranceActivityFactory,
    InsuranceFactory,
    InsuranceResourceFactory,
    LocationFactory,
    ResourceActivityFactory,
    ResourceFactory,
)
from tests.messages import wire
from webservices.auth import MSG_BAD_CREDENTIALS, MSG_NO_CREDENTIALS
from webservices.soap import MSG_DOCTYPE

pytestmark = pytest.mark.live

# The guide's methods, written out: a method renamed or dropped from the WSDL must fail a test.
GUIDE_METHODS = {
    "GetCenters", "KeyEntities", "searchAvailabilities", "addAppointment", "deleteAppointment", "checkAppointment",
    "getAppointments", "SearchAppointments", "CancelAppointment", "getTestResultsList", "getTestResultContent",
}  # fmt: skip


@pytest.fixture
def hospital(db):
    """Two centers; in Madrid one doctor offering two activities, one insurance covering both."""
    madrid = CenterFactory(
        lid="MAD",
        name="Hospital Madrid",
        description="General",
        address="Calle Mayor 1",
        phone="+34 910 000 000",
        website="https://mad.example.org",
        time_zone="Europe/Madrid",
    )
    canarias = CenterFactory(
        lid="LPA",
        name="Clínica Las Palmas",
        description="",
        address="",
        phone="",
        website="",
        time_zone="Atlantic/Canary",
    )
    CenterFactory(lid="OFF", name="Closed center", web_enabled=False)
    floor = LocationFactory(lid="MAD-1", name="Planta 1", center=madrid)
    cardio = ActivityGroupFactory(lid="CAR", name="Cardiología")
    visit = ActivityFactory(lid="V1", name="Primera visita", group=cardio, duration=20, price=Decimal("60"))
    ecg = ActivityFactory(lid="ECG", name="Electrocardiograma", group=cardio, duration=15, price=Decimal("40"))
    hidden = ActivityFactory(lid="HID", name="Hidden", group=cardio, web_enabled=False)
    doctor = ResourceFactory(lid="D1", first_name="Ana", second_name="García", location=floor)
    ResourceActivityFactory(resource=doctor, activity=visit, duration=30, price=Decimal("70"))
    ResourceActivityFactory(resource=doctor, activity=ecg)
    ResourceActivityFactory(resource=doctor, activity=hidden)
    sanitas = InsuranceFactory(lid="SAN", name="Sanitas")
    closed = InsuranceFactory(lid="OLD", name="Old insurer", web_enabled=False)
    for insurance in (sanitas, closed):
        InsuranceResourceFactory(insurance=insurance, resource=doctor)
        InsuranceActivityFactory(insurance=insurance, activity=visit, price=Decimal("25.5"))
        InsuranceActivityFactory(insurance=insurance, activity=ecg, price=None)
    # A doctor of the other center, offline: never listed.
    ResourceFactory(lid="D9", location=LocationFactory(lid="LPA-1", center=canarias), web_enabled=False)
    return {"madrid": madrid, "canarias": canarias}


def _row(insurance, activity, price, duration):
    names = {"SAN": "Sanitas", None: None}
    activities = {"V1": "Primera visita", "ECG": "Electrocardiograma"}
    return {
        "INSURANCE_LID": insurance, "INSURANCE_NAME": names[insurance], "ACTIVITY_GROUP_LID": "CAR",
        "ACTIVITY_GROUP_NAME": "Cardiología", "ACTIVITY_LID": activity, "ACTIVITY_NAME": activities[activity],
        "ACTIVITY_PRICE": price, "ACTIVITY_DURATION": duration, "LOCATION_LID": "MAD-1", "LOCATION_NAME": "Planta 1",
        "RESOURCE_LID": "D1", "RESOURCE_FIRST_NAME": "Ana", "RESOURCE_SECOND_NAME": "García",
    }  # fmt: skip


EXPECTED_KEY_ENTITIES = [
    _row(None, "ECG", "40.00", "15"),  # activity price and duration
    _row("SAN", "ECG", "40.00", "15"),  # insurance without a price of its own
    _row(None, "V1", "70.00", "30"),  # the doctor's price and duration
    _row("SAN", "V1", "25.50", "30"),  # the insurance's price wins
]


def test_get_centers_lists_web_enabled_centers_field_by_field(surface, hospital, creds):
    outcome = surface.call("GetCenters", authorization=creds.basic())
    assert outcome.ok and outcome.status == 200
    assert outcome.payload == [
        {"CENTER_LID": "LPA", "CENTER_NAME": "Clínica Las Palmas", "DESCRIPTION": None, "ADDRESS": None,
         "PHONE": None, "WEBSITE_URL": None},
        {"CENTER_LID": "MAD", "CENTER_NAME": "Hospital Madrid", "DESCRIPTION": "General",
         "ADDRESS": "Calle Mayor 1", "PHONE": "+34 910 000 000", "WEBSITE_URL": "https://mad.example.org"},
    ]  # fmt: skip


def test_key_entities_give_self_pay_and_insurance_rows_with_price_and_duration_precedence(surface, hospital, creds):
    outcome = surface.call("KeyEntities", authorization=creds.bearer())
    assert outcome.ok
    assert outcome.payload == EXPECTED_KEY_ENTITIES


def test_both_surfaces_give_the_same_answers(soap_surface, rest_surface, hospital, creds):
    for method in ("GetCenters", "KeyEntities"):
        soap = soap_surface.call(method, authorization=creds.basic())
        rest = rest_surface.call(method, authorization=creds.basic())
        assert soap.payload == rest.payload and soap.payload


def test_a_client_sees_only_the_centers_of_its_scope(surface, hospital, make_client):
    canarias_only = make_client(name="canarias", centers=["LPA"])
    centers = surface.call("GetCenters", authorization=canarias_only.basic())
    assert [c["CENTER_LID"] for c in centers.payload] == ["LPA"]
    entities = surface.call("KeyEntities", authorization=canarias_only.basic())
    assert entities.ok and entities.payload == []
    refused = surface.call("KeyEntities", {"CENTER_LID": "MAD"}, authorization=canarias_only.basic())
    assert (refused.ok, refused.code) == (False, "FORBIDDEN")
    assert refused.message == wire(MSG_CENTER_FORBIDDEN, lid="MAD")


def test_center_lid_narrows_an_unscoped_client(surface, hospital, creds):
    assert surface.call("KeyEntities", {"CENTER_LID": "MAD"}, authorization=creds.basic()).payload == (
        EXPECTED_KEY_ENTITIES
    )
    assert surface.call("KeyEntities", {"CENTER_LID": "LPA"}, authorization=creds.basic()).payload == []
    unknown = surface.call("KeyEntities", {"CENTER_LID": "NOPE"}, authorization=creds.basic())
    assert (unknown.code, unknown.message) == ("NOT_FOUND", wire(MSG_CENTER_UNKNOWN, lid="NOPE"))


def test_rest_accepts_parameter_names_in_any_case(rest_surface, hospital, creds):
    lower = rest_surface.call("KeyEntities", {"center_lid": "LPA"}, authorization=creds.basic())
    assert lower.ok and lower.payload == []
    post = rest_surface.call(
        "KeyEntities", {"Center_Lid": "MAD", "unknown_extra": "x"}, verb="POST", authorization=creds.basic()
    )
    assert post.payload == EXPECTED_KEY_ENTITIES


def test_an_empty_value_counts_as_absent(surface, hospital, creds):
    outcome = surface.call("KeyEntities", {"CENTER_LID": ""}, authorization=creds.basic())
    assert outcome.payload == EXPECTED_KEY_ENTITIES


def test_an_unparsable_value_is_an_input_error(surface, hospital, creds):
    outcome = surface.call("KeyEntities", {"CENTER_LID": "X" * 51}, authorization=creds.basic())
    assert (outcome.ok, outcome.code) == (False, "INVALID_INPUT")
    assert "CENTER_LID" in outcome.message


# ------------------------------------------------------------------------------------ authentication


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("none", MSG_NO_CREDENTIALS),
        ("wrong secret", MSG_BAD_CREDENTIALS),
        ("wrong name", MSG_BAD_CREDENTIALS),
        ("garbage", MSG_BAD_CREDENTIALS),
        ("inactive", MSG_BAD_CREDENTIALS),
    ],
)
def test_missing_or_bad_credentials_get_401_with_www_authenticate(surface, hospital, creds, how, message):
    from tests.surfaces import Credentials

    authorization = {
        "none": None,
        "wrong secret": Credentials(creds.name, "not-the-secret").basic(),
        "wrong name": Credentials("someone-else", creds.secret).basic(),
        "garbage": "Basic !!!notbase64",
        "inactive": creds.bearer(),
    }[how]
    if how == "inactive":
        IntegrationClient.objects.update(is_active=False)
    outcome = surface.call("GetCenters", authorization=authorization)
    assert (outcome.ok, outcome.code, outcome.status) == (False, "UNAUTHORIZED", 401)
    assert message in outcome.message
    if surface.name == "rest":
        assert "Basic" in outcome.headers["WWW-Authenticate"]
        assert outcome.payload is None
    # No credentials is a challenge (Java and .NET clients wait for it before sending Basic), not a failure.
    audited = "CHALLENGED" if how == "none" else "UNAUTHORIZED"
    assert AuditEntry.objects.filter(outcome=audited, surface=surface.name.upper()).count() == 1


def test_www_authenticate_is_sent_on_soap_too(live_server, hospital):
    response = requests.post(f"{live_server.url}/soap/", data=b"<x/>", headers={"Content-Type": "text/xml"}, timeout=30)
    assert response.status_code == 401
    assert "Basic" in response.headers["WWW-Authenticate"]


def test_basic_and_bearer_both_work(surface, hospital, creds):
    assert surface.call("GetCenters", authorization=creds.basic()).ok
    assert surface.call("GetCenters", authorization=creds.bearer()).ok


def test_an_address_outside_the_allow_list_is_refused(surface, hospital, make_client):
    elsewhere = make_client(name="elsewhere", allowed_ips="10.9.0.0/16")
    outcome = surface.call("GetCenters", authorization=elsewhere.basic())
    assert (outcome.ok, outcome.code) == (False, "FORBIDDEN")
    here = make_client(name="here", allowed_ips="10.9.0.0/16, 127.0.0.1")
    assert surface.call("GetCenters", authorization=here.basic()).ok


def test_repeated_failed_logins_are_throttled(surface, hospital, creds, settings):
    from tests.surfaces import Credentials

    settings.HIS_AUTH_FAILURE_LIMIT = 3
    for _ in range(3):
        assert surface.call("GetCenters", authorization=Credentials(creds.name, "guess").basic()).code == (
            "UNAUTHORIZED"
        )
    outcome = surface.call("GetCenters", authorization=creds.basic())  # even the right secret, for now
    assert (outcome.ok, outcome.code) == (False, "THROTTLED")
    if surface.name == "rest":
        assert outcome.status == 429
        assert int(outcome.headers["Retry-After"]) == settings.HIS_AUTH_FAILURE_WINDOW


def test_wsdl_schema_and_docs_are_readable_without_credentials(live_server):
    wsdl = requests.get(f"{live_server.url}/soap/?wsdl", timeout=30)
    assert wsdl.status_code == 200
    # Every method of the guide is an operation of the WSDL, spelled as the guide spells it.
    operations = set(re.findall(rb'<wsdl:operation name="([A-Za-z]+)"', wsdl.content))
    assert operations == {name.encode() for name in GUIDE_METHODS}
    schema = requests.get(f"{live_server.url}/api/schema/", timeout=30)
    assert schema.status_code == 200 and b"/api/getcenters" in schema.content
    assert requests.get(f"{live_server.url}/api/docs/", timeout=30).status_code == 200


# ------------------------------------------------------------------------------------ failures


def test_an_unavailable_database_is_a_clean_503_or_server_fault(surface, hospital, creds, monkeypatch):
    def broken(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("webservices.methods.centers.centers_in_scope", broken)
    outcome = surface.call("GetCenters", authorization=creds.basic())
    assert (outcome.ok, outcome.code) == (False, "SERVICE_UNAVAILABLE")
    assert "Traceback" not in (outcome.message or "")
    if surface.name == "rest":
        assert outcome.status == 503 and "Retry-After" in outcome.headers


def test_an_oversized_body_gets_413_before_it_is_read(live_server, hospital, creds, settings):
    settings.HIS_MAX_BODY_BYTES = 2048
    big = b"x" * 4096
    rest = requests.post(
        f"{live_server.url}/api/getcenters",
        data=big,
        headers={"Authorization": creds.basic(), "Content-Type": "application/json"},
        timeout=30,
    )
    assert rest.status_code == 413 and rest.json()["code"] == "TOO_LARGE"
    soap = requests.post(
        f"{live_server.url}/soap/",
        data=big,
        headers={"Authorization": creds.basic(), "Content-Type": "text/xml"},
        timeout=30,
    )
    assert soap.status_code == 413


def test_a_body_that_is_not_json_is_an_input_error(rest_surface, hospital, creds):
    outcome = rest_surface.call(
        "GetCenters", raw_body=b"{not json", authorization=creds.basic(), headers={"Content-Type": "application/json"}
    )
    assert (outcome.code, outcome.status) == ("INVALID_INPUT", 400)


def test_an_unknown_rest_method_is_not_found_in_the_envelope(live_server, creds):
    response = requests.get(f"{live_server.url}/api/nosuchmethod", headers={"Authorization": creds.basic()}, timeout=30)
    assert response.status_code == 404 and response.json()["code"] == "NOT_FOUND"


XXE_FILE = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ws="http://tuotempo.his/ws">
<soapenv:Body><ws:KeyEntities><ws:CENTER_LID>&xxe;</ws:CENTER_LID></ws:KeyEntities></soapenv:Body>
</soapenv:Envelope>"""

XXE_NETWORK = XXE_FILE.replace(b"file:///etc/passwd", b"http://127.0.0.1:9/secret")

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ws="http://tuotempo.his/ws">
<soapenv:Body><ws:KeyEntities><ws:CENTER_LID>&lol3;</ws:CENTER_LID></ws:KeyEntities></soapenv:Body>
</soapenv:Envelope>"""


@pytest.mark.parametrize(
    "payload",
    [XXE_FILE, XXE_NETWORK, LAUGHS, XXE_FILE.decode().encode("utf-16")],
    ids=["file", "network", "entity-expansion", "utf-16"],
)
def test_xml_with_a_doctype_is_refused_without_reading_anything(live_server, hospital, creds, payload):
    response = requests.post(
        f"{live_server.url}/soap/",
        data=payload,
        timeout=30,
        headers={"Authorization": creds.basic(), "Content-Type": "text/xml; charset=utf-8"},
    )
    assert b"Client.InvalidInput" in response.content
    assert MSG_DOCTYPE.encode() in response.content
    assert b"root:" not in response.content and b"lollol" not in response.content


def test_malformed_soap_is_a_client_fault_not_a_crash(live_server, hospital, creds):
    response = requests.post(
        f"{live_server.url}/soap/",
        data=b"<soapenv:Envelope><unclosed>",
        timeout=30,
        headers={"Authorization": creds.basic(), "Content-Type": "text/xml"},
    )
    assert b"Client" in response.content and b"Traceback" not in response.content


# ------------------------------------------------------------------------------------ audit


def test_every_call_is_audited_with_ids_and_no_personal_data(surface, hospital, creds):
    surface.call("KeyEntities", {"CENTER_LID": "MAD"}, authorization=creds.basic())
    surface.call("KeyEntities", {"CENTER_LID": "NOPE"}, authorization=creds.basic())
    entries = list(AuditEntry.objects.order_by("time"))
    assert [(e.surface, e.method, e.outcome, e.client_name) for e in entries] == [
        (surface.name.upper(), "KeyEntities", "OK", creds.name),
        (surface.name.upper(), "KeyEntities", "NOT_FOUND", creds.name),
    ]
    assert entries[0].ids == {"CENTER_LID": "MAD"}
    assert entries[0].remote_addr == "127.0.0.1"
    assert all(e.duration_ms >= 0 for e in entries)


# ------------------------------------------------------------------------------------ other SOAP clients


def test_suds_loads_the_wsdl_and_calls_both_methods(live_server, hospital, creds):
    from suds.client import Client

    client = Client(f"{live_server.url}/soap/?wsdl", headers={"Authorization": creds.basic()}, cache=None)
    centers = client.service.GetCenters()
    assert [c.CENTER_LID for c in centers.Center] == ["LPA", "MAD"]
    entities = client.service.KeyEntities(CENTER_LID="MAD")
    assert [(e.ACTIVITY_LID, e.INSURANCE_LID) for e in entities.KeyEntity] == [
        ("ECG", None),
        ("ECG", "SAN"),
        ("V1", None),
        ("V1", "SAN"),
    ]


PHP_CLIENT = r"""<?php
// Strict, as an integrator's own code runs: any notice or warning (an undefined property...) fails.
error_reporting(E_ALL);
set_error_handler(function ($level, $message) { fwrite(STDERR, "PHP: $message\n"); exit(3); });
$client = new SoapClient($argv[1] . '/soap/?wsdl', ['login' => $argv[2], 'password' => $argv[3],
    'cache_wsdl' => WSDL_CACHE_NONE, 'exceptions' => true]);
// PHP gives an array answer as {xResult: {Item: [...]}}, and a one-element array as a single object.
function rows($answer, $result, $item) {
    $list = $answer->$result->$item;
    return is_array($list) ? $list : [$list];
}
function fields($record, $names) {
    foreach ($names as $name) {
        if (!property_exists($record, $name)) { fwrite(STDERR, "missing $name\n"); exit(4); }
    }
    return $record;
}
$entityFields = ['INSURANCE_LID', 'INSURANCE_NAME', 'ACTIVITY_GROUP_LID', 'ACTIVITY_GROUP_NAME', 'ACTIVITY_LID',
    'ACTIVITY_NAME', 'ACTIVITY_PRICE', 'ACTIVITY_DURATION', 'LOCATION_LID', 'LOCATION_NAME', 'RESOURCE_LID',
    'RESOURCE_FIRST_NAME', 'RESOURCE_SECOND_NAME'];
$centers = rows($client->GetCenters(), 'GetCentersResult', 'Center');
$entities = rows($client->KeyEntities(['CENTER_LID' => 'MAD']), 'KeyEntitiesResult', 'KeyEntity');
$slots = rows($client->searchAvailabilities(['ACTIVITY_LID' => 'V1', 'AVA_RESULTS_NUMBER' => '1']),
    'searchAvailabilitiesResult', 'Availability');
$added = $client->addAppointment(['AVAILABILITY_LID' => $slots[0]->AVAILABILITY_LID,
    'USER_FIRST_NAME' => 'Ana', 'USER_SECOND_NAME' => 'Php', 'USER_MOBILE_PHONE' => '600000009'])
    ->addAppointmentResult;
fields($added, ['ADD_RESULT', 'ERROR_MESSAGE', 'APP_LID', 'USER_LID']);
echo json_encode([
    'centers' => array_map(fn($c) => $c->CENTER_LID, $centers),
    'entities' => array_map(fn($e) => [fields($e, $entityFields)->ACTIVITY_LID, $e->INSURANCE_LID,
        $e->ACTIVITY_PRICE], $entities),
    'added' => [$added->ADD_RESULT, $added->ERROR_MESSAGE, $added->APP_LID !== null],
]);
"""


def test_php_soapclient_reads_every_field_without_a_warning(live_server, hospital, creds, tmp_path):
    """PHP's SoapClient with every notice an error: a self-pay row's INSURANCE_LID and a successful booking's
    ERROR_MESSAGE are there, as nulls (xsi:nil), not missing."""
    import json
    import shutil
    import subprocess

    if shutil.which("php") is None:
        pytest.fail("php with the soap extension is required (CI installs php-cli and php-soap)")
    from appointments.models import Resource

    doctor = Resource.objects.get(lid="D1")
    for weekday in range(7):
        AvailabilityRuleFactory(resource=doctor, weekday=weekday, start_time=dt.time(8), end_time=dt.time(20))
    script = tmp_path / "client.php"
    script.write_text(PHP_CLIENT)
    result = subprocess.run(
        ["php", str(script), live_server.url, creds.name, creds.secret], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    answer = json.loads(result.stdout)
    assert answer["centers"] == ["LPA", "MAD"]
    assert answer["entities"] == [
        ["ECG", None, "40.00"],
        ["ECG", "SAN", "40.00"],
        ["V1", None, "70.00"],
        ["V1", "SAN", "25.50"],
    ]
    assert answer["added"] == ["OK", None, True]


def test_create_integration_client_prints_the_secret_once_as_json(db, hospital):
    import json
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command(
        "create_integration_client", "portal", "--centers", "MAD,LPA", "--pattern", "tid", stdout=out, stderr=StringIO()
    )
    line = json.loads(out.getvalue().strip().splitlines()[-1])
    client = IntegrationClient.objects.get(name="portal")
    assert line["name"] == "portal" and len(line["secret"]) >= 40
    assert client.secret_hash != line["secret"] and line["secret"] not in client.secret_hash
    assert client.patient_pattern == "tid"
    assert sorted(client.centers.values_list("lid", flat=True)) == ["LPA", "MAD"]


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_callers(surface, hospital, make_client, settings):
    import ipaddress

    from tests.surfaces import Credentials

    settings.HIS_TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.0/8")]
    office = make_client(name="office", allowed_ips="203.0.113.0/24")
    forwarded = {"X-Forwarded-For": "198.51.100.7, 203.0.113.9"}
    if surface.name == "soap":
        surface.session.headers.update(forwarded)
    try:
        outcome = surface.call("GetCenters", authorization=office.basic(), headers=forwarded)
        assert outcome.ok
        assert AuditEntry.objects.get().remote_addr == "203.0.113.9"
        surface.call("GetCenters", authorization=Credentials("office", "wrong").basic(), headers=forwarded)
        assert AuditEntry.objects.filter(outcome="UNAUTHORIZED").get().remote_addr == "203.0.113.9"
    finally:
        if surface.name == "soap":
            surface.session.headers.pop("X-Forwarded-For")


def test_an_untrusted_peer_cannot_claim_an_address(rest_surface, hospital, make_client):
    office = make_client(name="office", allowed_ips="203.0.113.0/24")
    outcome = rest_surface.call("GetCenters", authorization=office.basic(), headers={"X-Forwarded-For": "203.0.113.9"})
    assert outcome.code == "FORBIDDEN"


def test_without_credentials_nothing_but_401_is_answered(live_server, hospital):
    for verb, path in (("GET", "/api/addappointment"), ("GET", "/api/nosuchmethod"), ("POST", "/api/getcenters")):
        response = requests.request(verb, f"{live_server.url}{path}", timeout=30)
        assert (response.status_code, response.json()["code"]) == (401, "UNAUTHORIZED"), path
        assert "Basic" in response.headers["WWW-Authenticate"]
    soap = requests.post(f"{live_server.url}/soap/", data=XXE_FILE, headers={"Content-Type": "text/xml"}, timeout=30)
    assert soap.status_code == 401


@pytest.mark.parametrize(
    ("verb", "path", "body", "outcome", "surface", "method"),
    [
        ("GET", "/api/addappointment", None, "INVALID_INPUT", "REST", "addappointment"),
        ("GET", "/api/nosuchmethod", None, "NOT_FOUND", "REST", "nosuchmethod"),
        ("POST", "/api/getcenters", b"{not json", "INVALID_INPUT", "REST", "getcenters"),
        ("POST", "/api/getcenters", b"x" * 4096, "TOO_LARGE", "REST", "getcenters"),
        ("POST", "/soap/", XXE_FILE, "INVALID_INPUT", "SOAP", "KeyEntities"),
        ("POST", "/soap/", b"<a>not soap</a>", "INVALID_INPUT", "SOAP", ""),
    ],
    ids=["wrong verb", "unknown method", "not json", "too large", "doctype", "not an envelope"],
)
def test_a_request_refused_before_any_method_ran_is_audited(live_server, hospital, creds, settings, verb, path, body,
                                                           outcome, surface, method):  # fmt: skip
    settings.HIS_MAX_BODY_BYTES = 2048
    headers = {"Authorization": creds.basic(), "Content-Type": "text/xml" if "soap" in path else "application/json"}
    requests.request(verb, f"{live_server.url}{path}", data=body, headers=headers, timeout=30)
    entry = AuditEntry.objects.get()
    assert (entry.outcome, entry.surface, entry.method) == (outcome, surface, method)
    if outcome != "TOO_LARGE":
        assert entry.client_name == creds.name


def test_a_database_gone_during_authentication_is_a_clean_503_or_server_fault(surface, hospital, creds, monkeypatch):
    def unreachable(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("webservices.auth.check_not_throttled", unreachable)
    outcome = surface.call("GetCenters", authorization=creds.basic())
    assert (outcome.ok, outcome.code) == (False, "SERVICE_UNAVAILABLE")
    if surface.name == "rest":
        assert outcome.status == 503 and outcome.headers["Retry-After"] == "5"
    assert AuditEntry.objects.get().outcome == "SERVICE_UNAVAILABLE"
