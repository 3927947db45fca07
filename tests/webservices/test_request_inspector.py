"""The request inspector: what an integrator's client relied on of the server's leniency, noted by the one
parser on both surfaces, kept in the audit entry, shown in the admin, and answered on REST only when asked."""

import datetime as dt
import json

import pytest
import requests
from django.contrib.auth.models import Permission, User
from django.urls import reverse
from django.utils import timezone
from lxml import etree

from clients.models import AuditEntry
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
from webservices.rest import WARNINGS_HEADER

pytestmark = pytest.mark.live

DAY = timezone.localdate() + dt.timedelta(days=9)
# A day with a one-digit day of the month, some weeks ahead: written d/m/yyyy it is not the guide's dd/mm/yyyy.
SHORT_DAY = (timezone.localdate().replace(day=1) + dt.timedelta(days=40)).replace(day=5)
TNS = "http://tuotempo.his/ws"
INSPECTOR = reverse("admin:clients_inspectedcall_changelist")
ENVELOPE = {"result", "return", "msg"}


@pytest.fixture
def clinic(db):
    """Madrid: D1 offers a 20-minute activity V20, open every day 09:00-13:00; patient P1 holds A1."""
    location = LocationFactory(lid="MAD-1", center=CenterFactory(lid="MAD", time_zone="Europe/Madrid"))
    d1 = ResourceFactory(lid="D1", location=location)
    ResourceActivityFactory(resource=d1, activity=ActivityFactory(lid="V20", duration=20))
    for weekday in range(7):
        AvailabilityRuleFactory(resource=d1, weekday=weekday, start_time=dt.time(9), end_time=dt.time(13))
    patient = PatientFactory(lid="P1", mobile_phone="600000001", email="p1@example.org")
    start = dt.datetime.combine(DAY, dt.time(9), location.center.zone)
    AppointmentFactory(lid="A1", resource=d1, activity=d1.activities.first(), patient=patient, start=start)
    return d1


def _entry(method: str) -> AuditEntry:
    return AuditEntry.objects.filter(method=method).latest("time")


def _codes(warnings) -> set[tuple[str, str]]:
    return {(w["code"], w["parameter"]) for w in warnings}


# What each leniency is, sent to searchAvailabilities: the parameters, and the warning it must give.
STRICT = {"ACTIVITY_LID": "V20", "AVA_START_DAY": f"{DAY:%d/%m/%Y}", "AVA_END_DAY": f"{DAY:%d/%m/%Y}"}
LENIENCIES = {
    "iso-date": ({**STRICT, "AVA_START_DAY": f"{DAY:%Y-%m-%d}"}, ("ISO_DATE", "AVA_START_DAY")),
    "short-date": (
        {**STRICT, "AVA_START_DAY": f"{SHORT_DAY.day}/{SHORT_DAY:%m/%Y}", "AVA_END_DAY": f"{SHORT_DAY:%d/%m/%Y}"},
        ("SHORT_DATE", "AVA_START_DAY"),
    ),
    "lower-case-name": (
        {"activity_lid": "V20", "AVA_START_DAY": STRICT["AVA_START_DAY"], "AVA_END_DAY": STRICT["AVA_END_DAY"]},
        ("NAME_CASE", "activity_lid"),
    ),
    "mixed-case-name": (
        {**{k: v for k, v in STRICT.items() if k != "ACTIVITY_LID"}, "Activity_Lid": "V20"},
        ("NAME_CASE", "Activity_Lid"),
    ),
    "unknown-parameter": ({**STRICT, "APP_ACTION": "ADD"}, ("UNKNOWN_PARAMETER", "APP_ACTION")),
    "empty-optional": ({**STRICT, "RESOURCE_LID": ""}, ("EMPTY_OPTIONAL", "RESOURCE_LID")),
    "time-with-seconds": ({**STRICT, "AVA_START_TIME": "09:00:00"}, ("TIME_SECONDS", "AVA_START_TIME")),
    "one-digit-hour": ({**STRICT, "AVA_START_TIME": "9:00"}, ("SHORT_TIME", "AVA_START_TIME")),
    "midnight": ({**STRICT, "AVA_END_TIME": "24:00"}, ("MIDNIGHT", "AVA_END_TIME")),
}


# --- REST, over HTTP -------------------------------------------------------------------------------------


def _rest(live_server, creds, method, params, *, asked=True, verb="GET"):
    headers = {"Authorization": creds.basic(), **({WARNINGS_HEADER: "1"} if asked else {})}
    url = f"{live_server.url}/api/{method.lower()}"
    if verb == "GET":
        return requests.get(url, params=params, headers=headers, timeout=30)
    return requests.post(url, json=params, headers=headers, timeout=30)


@pytest.mark.parametrize("case", LENIENCIES)
def test_each_leniency_of_a_rest_call_is_answered_when_asked_and_kept_in_the_audit(live_server, clinic, creds, case):
    params, expected = LENIENCIES[case]

    response = _rest(live_server, creds, "searchAvailabilities", params)

    body = response.json()
    assert response.status_code == 200 and body["result"] == "OK", body
    assert _codes(body["warnings"]) == {expected}
    assert all(w["message"].startswith(f"{expected[1]}:") for w in body["warnings"])
    entry = _entry("searchAvailabilities")
    assert entry.warnings == body["warnings"]
    assert entry.params == list(params)


def test_a_strict_rest_call_gets_an_empty_warnings_list(live_server, clinic, creds):
    response = _rest(live_server, creds, "searchAvailabilities", STRICT)

    assert response.json()["warnings"] == []
    assert response.json()["return"]
    assert _entry("searchAvailabilities").warnings == []
    assert _entry("searchAvailabilities").params == ["ACTIVITY_LID", "AVA_START_DAY", "AVA_END_DAY"]


@pytest.mark.parametrize("value", ["", "0", "no"])
def test_without_the_header_the_envelope_is_tuotempos_own_but_the_audit_keeps_the_warnings(
    live_server, clinic, creds, value
):
    params = {"activity_lid": "V20", "ava_start_day": f"{DAY:%Y-%m-%d}", "app_action": "ADD"}
    headers = {"Authorization": creds.basic(), WARNINGS_HEADER: value}

    response = requests.get(f"{live_server.url}/api/searchavailabilities", params=params, headers=headers, timeout=30)

    assert set(response.json()) == ENVELOPE
    assert _codes(_entry("searchAvailabilities").warnings) == {
        ("NAME_CASE", "activity_lid"),
        ("NAME_CASE", "ava_start_day"),
        ("ISO_DATE", "AVA_START_DAY"),
        ("UNKNOWN_PARAMETER", "app_action"),
    }


def test_an_error_answer_carries_the_warnings_that_explain_it(live_server, clinic, creds):
    # A misspelt name is ignored, so the required APP_LID is missing: the warning says why.
    response = _rest(live_server, creds, "checkAppointment", {"APP_ID": "A1"})

    body = response.json()
    assert response.status_code == 400 and body["code"] == "INVALID_INPUT"
    assert _codes(body["warnings"]) == {("UNKNOWN_PARAMETER", "APP_ID")}
    assert "checkAppointment takes no such parameter" in body["warnings"][0]["message"]
    assert _entry("checkAppointment").warnings == body["warnings"]


def test_a_write_reports_its_warnings_in_a_form_body_too(live_server, clinic, creds):
    response = requests.post(
        f"{live_server.url}/api/deleteappointment",
        data={"app_lid": "A1", "notes": ""},
        headers={"Authorization": creds.basic(), WARNINGS_HEADER: "true"},
        timeout=30,
    )

    body = response.json()
    assert body["result"] == "OK" and body["return"]["DELETE_RESULT"] == "OK"
    assert _codes(body["warnings"]) == {("NAME_CASE", "app_lid"), ("UNKNOWN_PARAMETER", "notes")}


# --- SOAP, through zeep ------------------------------------------------------------------------------------


@pytest.fixture
def zeep_client(soap_surface, creds):
    soap_surface.session.headers["Authorization"] = creds.basic()
    yield soap_surface.client
    soap_surface.session.headers.pop("Authorization", None)


def _soap_as_written(client, method: str, params: dict, edit=None):
    """A call zeep builds from the WSDL, optionally edited as a hand-written client would send it (names in
    another case, parameters the WSDL does not have), posted by zeep's transport and read by zeep."""
    envelope = client.create_message(client.service, method, **params)
    if edit is not None:
        edit(envelope.find(f".//{{{TNS}}}{method}"))
    binding = client.service._binding
    address = client.service._binding_options["address"]
    response = client.transport.post_xml(address, envelope, {"SOAPAction": f'"{method}"'})
    return binding.process_reply(client, binding.get(method), response)


def _rename(old: str, new: str):
    def edit(operation):
        operation.find(f"{{{TNS}}}{old}").tag = f"{{{TNS}}}{new}"

    return edit


def _unqualify(name: str, namespace: str | None):
    def edit(operation):
        operation.find(f"{{{TNS}}}{name}").tag = f"{{{namespace}}}{name}" if namespace else name

    return edit


@pytest.mark.parametrize("namespace", [None, "http://example.org/other"])
def test_a_soap_parameter_outside_the_services_namespace_is_read_and_warned_about(
    clinic, creds, zeep_client, namespace
):
    strict = _soap_as_written(zeep_client, "searchAvailabilities", STRICT)

    lenient = _soap_as_written(zeep_client, "searchAvailabilities", STRICT, _unqualify("ACTIVITY_LID", namespace))

    assert lenient == strict
    (warning,) = _entry("searchAvailabilities").warnings
    assert (warning["code"], warning["parameter"]) == ("OTHER_NAMESPACE", "ACTIVITY_LID")
    assert ("without a namespace" if namespace is None else namespace) in warning["message"]


def _add(name: str, text: str):
    def edit(operation):
        etree.SubElement(operation, f"{{{TNS}}}{name}").text = text

    return edit


SOAP_EDITS = {
    "lower-case-name": _rename("ACTIVITY_LID", "activity_lid"),
    "unknown-parameter": _add("APP_ACTION", "ADD"),
}


@pytest.mark.parametrize("case", LENIENCIES)
def test_each_leniency_of_a_soap_call_is_kept_in_the_audit_and_the_answer_does_not_change(
    clinic, creds, zeep_client, case
):
    params, expected = LENIENCIES[case]
    strict = _soap_as_written(zeep_client, "searchAvailabilities", STRICT)
    if case in SOAP_EDITS:
        params, edit = STRICT, SOAP_EDITS[case]
    elif case == "mixed-case-name":
        params, edit = STRICT, _rename("ACTIVITY_LID", "Activity_Lid")
    else:
        edit = None

    lenient = _soap_as_written(zeep_client, "searchAvailabilities", params, edit)

    entry = _entry("searchAvailabilities")
    assert entry.surface == "SOAP"
    assert _codes(entry.warnings) == {expected}
    assert expected[1] in entry.params
    if case not in ("short-date", "time-with-seconds", "one-digit-hour"):  # these ask for other slots
        assert lenient == strict


def test_a_strict_soap_call_has_no_warnings(clinic, creds, zeep_client):
    slots = _soap_as_written(zeep_client, "searchAvailabilities", STRICT)

    assert slots
    entry = _entry("searchAvailabilities")
    assert (entry.surface, entry.warnings, entry.params) == (
        "SOAP",
        [],
        ["ACTIVITY_LID", "AVA_START_DAY", "AVA_END_DAY"],
    )


# --- no patient's value reaches the audit or the page -----------------------------------------------------

PATIENT = {
    "user_first_name": "Zacarías",
    "USER_SECOND_NAME": "Quintanilla-Oyarzábal",
    "USER_DATE_OF_BIRTH": "1961-07-23",
    "USER_MOBILE_PHONE": "+34 699 123 987",
    "USER_EMAIL": "zacarias.q@example.org",
    "USER_ID_NUMBER": "55566677K",
    "NOTES": "allergic to penicillin",
    "USER_THIRD_NAME": "",
}
PATIENT_VALUES = [v for v in PATIENT.values() if v] + ["23/07/1961", "699123987"]


@pytest.mark.parametrize("surface_name", ["rest", "soap"])
def test_no_patient_value_reaches_the_audit_entry_or_the_inspector(
    live_server, clinic, creds, admin_client, soap_surface, surface_name
):
    slot = {"RESOURCE_LID": "D1", "ACTIVITY_LID": "V20", "APP_DATE": f"{DAY:%Y-%m-%d}", "APP_START_TIME": "10:00"}
    if surface_name == "rest":
        answer = _rest(live_server, creds, "addAppointment", {**slot, **PATIENT}, verb="POST").json()
        assert answer["return"]["ADD_RESULT"] == "OK", answer
        assert not any(value in json.dumps(answer["warnings"]) for value in PATIENT_VALUES)
    else:
        soap_surface.session.headers["Authorization"] = creds.basic()
        upper = {k.upper(): v for k, v in PATIENT.items()}
        try:
            answer = _soap_as_written(
                soap_surface.client, "addAppointment", {**slot, **upper}, _rename("USER_FIRST_NAME", "user_first_name")
            )
        finally:
            soap_surface.session.headers.pop("Authorization", None)
        assert answer["ADD_RESULT"] == "OK", answer

    entry = _entry("addAppointment")
    assert _codes(entry.warnings) >= {
        ("NAME_CASE", "user_first_name"),
        ("ISO_DATE", "USER_DATE_OF_BIRTH"),
        ("ISO_DATE", "APP_DATE"),
        ("EMPTY_OPTIONAL", "USER_THIRD_NAME"),
    }
    assert set(entry.params) >= {"user_first_name", "USER_EMAIL", "NOTES"}
    kept = json.dumps([entry.params, entry.warnings, entry.ids, entry.message], ensure_ascii=False)
    pages = [
        admin_client.get(INSPECTOR).content.decode(),
        admin_client.get(reverse("admin:clients_inspectedcall_change", args=[entry.pk])).content.decode(),
    ]
    assert "user_first_name" in pages[0] and "USER_DATE_OF_BIRTH" in pages[1]
    for value in PATIENT_VALUES:
        assert value not in kept
        assert all(value not in page for page in pages), value


# --- the admin's page ----------------------------------------------------------------------------------------


def _call(client_name, method, warnings=(), **fields):
    values = {
        "time": timezone.now(),
        "client_name": client_name,
        "surface": "REST",
        "method": method,
        "outcome": "OK",
        "params": ["ACTIVITY_LID"],
        "warnings": [{"code": c, "parameter": "ACTIVITY_LID", "message": f"ACTIVITY_LID: {c}."} for c in warnings],
    }
    return AuditEntry.objects.create(**values | fields)


def _listed(response) -> set[int]:
    assert response.status_code == 200
    return {e.pk for e in response.context["cl"].result_list}


@pytest.mark.django_db
def test_the_inspector_filters_by_client_method_and_warnings(admin_client, make_client):
    from clients.models import IntegrationClient

    make_client("vendor-a"), make_client("vendor-b")
    a, b = IntegrationClient.objects.get(name="vendor-a"), IntegrationClient.objects.get(name="vendor-b")
    a_search_warned = _call("vendor-a", "searchAvailabilities", ["NAME_CASE"], client=a)
    a_search_clean = _call("vendor-a", "searchAvailabilities", client=a)
    a_centers = _call("vendor-a", "GetCenters", ["UNKNOWN_PARAMETER"], client=a)
    b_search = _call("vendor-b", "searchAvailabilities", ["ISO_DATE"], client=b)
    _call("admin:clerk", "admin login", surface="ADMIN")  # the admin's own logins are no webservice call

    assert _listed(admin_client.get(INSPECTOR)) == {a_search_warned.pk, a_search_clean.pk, a_centers.pk, b_search.pk}
    assert _listed(admin_client.get(INSPECTOR, {"client__id__exact": a.pk})) == {
        a_search_warned.pk,
        a_search_clean.pk,
        a_centers.pk,
    }
    assert _listed(admin_client.get(INSPECTOR, {"method": "searchAvailabilities"})) == {
        a_search_warned.pk,
        a_search_clean.pk,
        b_search.pk,
    }
    assert _listed(admin_client.get(INSPECTOR, {"has_warnings": "yes"})) == {
        a_search_warned.pk,
        a_centers.pk,
        b_search.pk,
    }
    assert _listed(admin_client.get(INSPECTOR, {"has_warnings": "no"})) == {a_search_clean.pk}
    both = admin_client.get(
        INSPECTOR, {"client__id__exact": a.pk, "method": "searchAvailabilities", "has_warnings": "yes"}
    )
    assert _listed(both) == {a_search_warned.pk}
    page = both.content.decode()
    assert "NAME_CASE" in page and "ACTIVITY_LID: NAME_CASE." in page


@pytest.mark.django_db
def test_only_staff_who_may_read_the_audit_log_see_the_inspector(client):
    _call("vendor-a", "GetCenters", ["UNKNOWN_PARAMETER"])
    anonymous = client.get(INSPECTOR)
    staff = User.objects.create_user("clerk", password="a-long-password-1", is_staff=True)
    client.force_login(staff)
    without_permission = client.get(INSPECTOR)
    staff.user_permissions.add(Permission.objects.get(codename="view_auditentry"))
    client.force_login(User.objects.get(pk=staff.pk))
    with_permission = client.get(INSPECTOR)
    adding = client.get(reverse("admin:clients_inspectedcall_add"))

    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    assert without_permission.status_code == 403
    assert with_permission.status_code == 200 and "UNKNOWN_PARAMETER" in with_permission.content.decode()
    assert adding.status_code == 403


def test_names_are_kept_cut_and_bounded_whatever_a_body_holds(live_server, clinic, creds):
    params = {f"extra_{n}_{'x' * 80}": "1" for n in range(100)}

    body = _rest(live_server, creds, "GetCenters", params, verb="POST").json()

    entry = _entry("GetCenters")
    assert body["result"] == "OK"
    assert len(entry.params) == 60 and all(len(name) <= 50 for name in entry.params)
    assert len(entry.warnings) == 60 and all(len(w["parameter"]) <= 50 for w in entry.warnings)


def test_the_schema_documents_the_header_and_the_warnings_member(live_server, db):
    schema = requests.get(f"{live_server.url}/api/schema/", timeout=30).json()

    for path, verb in (("/api/searchavailabilities", "get"), ("/api/addappointment", "post")):
        operation = schema["paths"][path][verb]
        assert {"name": WARNINGS_HEADER, "in": "header"}.items() <= operation["parameters"][-1].items()
    answers = schema["components"]["schemas"]
    assert "warnings" not in answers["ErrorAnswer"].get("required", [])
    assert answers["ErrorAnswer"]["properties"]["warnings"]["type"] == "array"


def test_a_rest_parameter_given_twice_is_warned_about(live_server, clinic, creds):
    headers = {"Authorization": creds.basic(), WARNINGS_HEADER: "1"}
    in_query = [*STRICT.items(), ("ACTIVITY_LID", "V20")]
    in_form = [("APP_LID", "A1"), ("APP_LID", "A1")]

    searched = requests.get(f"{live_server.url}/api/searchavailabilities", params=in_query, headers=headers, timeout=30)
    deleted = requests.post(f"{live_server.url}/api/deleteappointment", data=in_form, headers=headers, timeout=30)

    assert searched.json()["result"] == "OK" and deleted.json()["result"] == "OK"
    assert _codes(searched.json()["warnings"]) == {("GIVEN_TWICE", "ACTIVITY_LID")}
    assert _codes(deleted.json()["warnings"]) == {("GIVEN_TWICE", "APP_LID")}
    assert _codes(_entry("deleteAppointment").warnings) == {("GIVEN_TWICE", "APP_LID")}


def test_a_name_given_again_in_another_letter_case_is_warned_about_on_both_surfaces(
    live_server, clinic, creds, zeep_client
):
    expected = {("NAME_CASE", "activity_lid"), ("GIVEN_TWICE", "activity_lid")}

    rest = _rest(live_server, creds, "searchAvailabilities", {**STRICT, "activity_lid": "V20"}).json()
    rest_entry = _entry("searchAvailabilities")
    _soap_as_written(zeep_client, "searchAvailabilities", STRICT, _add("activity_lid", "V20"))
    soap_entry = _entry("searchAvailabilities")

    assert _codes(rest["warnings"]) == _codes(rest_entry.warnings) == expected
    assert soap_entry.surface == "SOAP" and _codes(soap_entry.warnings) == expected
