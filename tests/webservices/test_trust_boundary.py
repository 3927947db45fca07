"""What a client scoped to one center can reach, on both surfaces: its own center, and nothing else.

The scope matrix is generated from the method registry: a method added without a row here fails the
build, so no method can skip the rule.
"""

import datetime as dt

import pytest
import requests
from django.utils import timezone

from appointments.models import Appointment, AppointmentStatus, Weekday
from appointments.slots import find_slots
from clients.models import DEFAULT_RATE_LIMIT, AuditEntry, IntegrationClient
from demo.factories import (
    ActivityFactory,
    AppointmentFactory,
    AvailabilityRuleFactory,
    CenterFactory,
    LocationFactory,
    MedicalResultFactory,
    PatientFactory,
    ResourceActivityFactory,
    ResourceFactory,
)
from patients.models import Patient, PatientLink, PossibleDuplicate
from webservices.registry import methods

pytestmark = pytest.mark.live

IN_TEN_DAYS = timezone.localdate() + dt.timedelta(days=10)


@pytest.fixture
def two_centers(db):
    """Madrid and Las Palmas, a doctor in each open every day 08:00-20:00 for a 30-minute visit, a patient
    of each center with a future appointment and a result there."""
    world = {}
    for lid, zone in (("MAD", "Europe/Madrid"), ("LPA", "Atlantic/Canary")):
        center = CenterFactory(lid=lid, time_zone=zone)
        doctor = ResourceFactory(lid=f"D-{lid}", location=LocationFactory(lid=f"L-{lid}", center=center))
        visit = ActivityFactory(lid="V1", duration=30)
        ResourceActivityFactory(resource=doctor, activity=visit)
        for day in Weekday:
            AvailabilityRuleFactory(lid=f"R-{lid}-{day}", resource=doctor, weekday=day, start_time=dt.time(8),
                                    end_time=dt.time(20))  # fmt: skip
        patient = PatientFactory(lid=f"P-{lid}", id_number=f"ID-{lid}", mobile_phone="", email=f"{lid}@example.org")
        start = dt.datetime.combine(IN_TEN_DAYS, dt.time(9), center.zone)
        AppointmentFactory(lid=f"A-{lid}", resource=doctor, activity=visit, patient=patient, start=start)
        AppointmentFactory(
            lid=f"A-{lid}-2", resource=doctor, activity=visit, patient=patient, start=start + dt.timedelta(hours=1)
        )
        MedicalResultFactory(lid=f"R-{lid}", patient=patient, center=center)
        world[lid] = {"center": center, "doctor": doctor, "patient": patient}
    return world


@pytest.fixture
def madrid(make_client):
    return make_client(name="madrid-only", centers=["MAD"])


def _slot(lid):
    return {"RESOURCE_LID": f"D-{lid}", "ACTIVITY_LID": "V1", "APP_DATE": f"{IN_TEN_DAYS:%d/%m/%Y}",
            "APP_START_TIME": "12:00", "USER_FIRST_NAME": "Nueva", "USER_SECOND_NAME": "Paciente"}  # fmt: skip


# Per method: how to name something of the client's own center, of the other center, and something that
# does not exist. Every answer about "other" must be the answer about an unknown thing, or a refusal.
SCENARIOS = {
    "GetCenters": {"own": {}, "other": None, "unknown": None},
    "KeyEntities": {"own": {}, "other": {"CENTER_LID": "LPA"}, "unknown": {"CENTER_LID": "NOPE"}},
    "searchAvailabilities": {
        "own": {"ACTIVITY_LID": "V1"},
        "other": {"ACTIVITY_LID": "V1", "RESOURCE_LID": "D-LPA"},
        "unknown": {"ACTIVITY_LID": "V1", "RESOURCE_LID": "D-NOPE"},
    },
    "addAppointment": {"own": _slot("MAD"), "other": _slot("LPA"), "unknown": _slot("NOPE")},
    "deleteAppointment": {"own": {"APP_LID": "A-MAD"}, "other": {"APP_LID": "A-LPA"}, "unknown": {"APP_LID": "A-NO"}},
    "CancelAppointment": {
        "own": {"APP_LID": "A-MAD", "USER_LID": "P-MAD"},
        "other": {"APP_LID": "A-LPA", "USER_LID": "P-LPA"},
        "unknown": {"APP_LID": "A-NO", "USER_LID": "P-MAD"},
    },
    "checkAppointment": {"own": {"APP_LID": "A-MAD"}, "other": {"APP_LID": "A-LPA"}, "unknown": {"APP_LID": "A-NO"}},
    "getAppointments": {"own": {"USER_LID": "P-MAD"}, "other": {"USER_LID": "P-LPA"}, "unknown": {"USER_LID": "P-NO"}},
    "SearchAppointments": {
        "own": {"USER_LID": "P-MAD"},
        "other": {"USER_LID": "P-LPA"},
        "unknown": {"USER_LID": "P-NO"},
    },
    "getTestResultsList": {
        "own": {"USER_LID": "P-MAD", "RESULT_START_DATE": "01/01/2000"},
        "other": {"USER_LID": "P-LPA", "RESULT_START_DATE": "01/01/2000"},
        "unknown": {"USER_LID": "P-NO"},
    },
    "getTestResultContent": {
        "own": {"DOWNLOAD_LID": "R-MAD"},
        "other": {"DOWNLOAD_LID": "R-LPA"},
        "unknown": {"DOWNLOAD_LID": "R-NO"},
    },
}
REFUSED = ("NOT_FOUND", "FORBIDDEN")


def test_every_method_of_the_registry_has_a_scope_scenario():
    assert set(SCENARIOS) == {m.name for m in methods()}


def _lpa_untouched():
    assert Appointment.objects.filter(lid__startswith="A-LPA", status=AppointmentStatus.APPROVED).count() == 2
    assert Appointment.objects.filter(resource__lid="D-LPA").count() == 2
    assert Patient.objects.get(lid="P-LPA").mobile_phone == ""


LPA_DATA = ("D-LPA", "LPA@example.org", "A-LPA-2", "R-LPA.pdf")  # what only Las Palmas' records hold
FAILURE_FIELDS = {"ADD_RESULT", "DELETE_RESULT", "RESULT", "ERROR_MESSAGE", "APP_LID", "USER_LID"}


def _shows_lpa_data(payload) -> bool:
    return any(marker in repr(payload) for marker in LPA_DATA)


@pytest.mark.parametrize("method", sorted(SCENARIOS))
def test_a_client_of_one_center_reaches_its_own_and_nothing_of_another(surface, two_centers, madrid, method):
    scenario = SCENARIOS[method]

    own = surface.call(method, scenario["own"], authorization=madrid.basic())
    assert own.ok, (method, own)
    assert not _shows_lpa_data(own.payload), own.payload

    for case in ("other", "unknown"):
        if scenario[case] is None:
            continue
        answer = surface.call(method, scenario[case], authorization=madrid.basic())
        assert not answer.ok, (method, case, answer)
        # A refusal carries no record: nothing but the method's own result fields, if any.
        assert answer.payload is None or set(answer.payload) <= FAILURE_FIELDS, (method, case, answer)
        assert answer.payload is None or answer.payload.get("USER_LID") is None, (method, case, answer)
        if surface.name == "rest":
            assert answer.code in REFUSED, (method, case, answer)
    _lpa_untouched()


def test_an_availability_id_of_another_centers_doctor_is_unknown_whoever_asked_before(
    surface, two_centers, madrid, make_client
):
    """The doctors an availability id may name are kept per catalogue version and per scope: a client of
    every center naming Las Palmas' slot first must not open it to the Madrid client."""
    lpa, mad = (
        find_slots(activity=None, resource=two_centers[lid]["doctor"], start_day=IN_TEN_DAYS, end_day=IN_TEN_DAYS,
                   limit=1)[0].lid
        for lid in ("LPA", "MAD")
    )  # fmt: skip
    everyone = make_client(name="every-center")
    first = surface.call(
        "addAppointment", {"AVAILABILITY_LID": lpa, "USER_LID": "P-NO"}, authorization=everyone.basic()
    )
    assert not first.ok and "patient is not known" in first.payload["ERROR_MESSAGE"], first  # past the slot

    answer = surface.call(
        "addAppointment", {"AVAILABILITY_LID": lpa, "USER_LID": "P-MAD"}, authorization=madrid.basic()
    )

    assert not answer.ok and lpa in answer.payload["ERROR_MESSAGE"], answer
    if surface.name == "rest":
        assert answer.code == "NOT_FOUND", answer
    _lpa_untouched()
    own = surface.call("addAppointment", {"AVAILABILITY_LID": mad, "USER_LID": "P-MAD"}, authorization=madrid.basic())
    assert own.ok, own


def test_the_other_centers_patient_is_never_matched_filled_or_shown(surface, two_centers, madrid):
    """A Madrid client sends the ID number of a patient known only in Las Palmas, with a phone of its own."""
    sent = {**_slot("MAD"), "USER_ID_NUMBER": "ID-LPA", "USER_MOBILE_PHONE": "699000111"}

    booked = surface.call("addAppointment", sent, authorization=madrid.basic())

    assert booked.ok and booked.payload["USER_LID"] != "P-LPA"
    checked = surface.call("checkAppointment", {"APP_LID": booked.payload["APP_LID"]}, authorization=madrid.basic())
    assert checked.payload["USER_EMAIL"] is None and checked.payload["USER_MOBILE_PHONE"] == "699000111"
    _lpa_untouched()
    pair = PossibleDuplicate.objects.get()
    assert (pair.patient.lid, pair.other.lid, pair.status) == (booked.payload["USER_LID"], "P-LPA", "OPEN")


def test_a_tid_is_one_clients_own_and_never_names_another_clients_patient(surface, two_centers, make_client):
    first = make_client(name="first-app", pattern="tid")
    second = make_client(name="second-app", pattern="tid")
    booked = surface.call("addAppointment", {**_slot("MAD"), "USER_TID": "U-1"}, authorization=first.basic())
    assert booked.ok

    # The second instance's user U-1 is someone else: unknown to it, and booked as a new patient.
    assert surface.call("getAppointments", {"USER_TID": "U-1"}, authorization=second.basic()).code == "NOT_FOUND"
    other = surface.call(
        "addAppointment",
        {**_slot("MAD"), "APP_START_TIME": "13:00", "USER_TID": "U-1", "USER_FIRST_NAME": "Otra"},
        authorization=second.basic(),
    )
    assert other.ok and other.payload["USER_LID"] != booked.payload["USER_LID"]
    assert sorted(PatientLink.objects.values_list("client__name", "tid")) == [
        ("first-app", "U-1"),
        ("second-app", "U-1"),
    ]
    checked = surface.call("checkAppointment", {"APP_LID": booked.payload["APP_LID"]}, authorization=first.basic())
    assert checked.payload["USER_TID"] == "U-1"


def test_an_emptied_client_sees_nothing_and_removing_a_center_never_widens_it(surface, two_centers, madrid):
    client = IntegrationClient.objects.get(name="madrid-only")
    client.centers.clear()

    assert surface.call("GetCenters", authorization=madrid.basic()).payload == []
    assert surface.call("searchAvailabilities", {"ACTIVITY_LID": "V1"}, authorization=madrid.basic()).payload == []
    assert surface.call("checkAppointment", {"APP_LID": "A-MAD"}, authorization=madrid.basic()).code in REFUSED
    assert surface.call("KeyEntities", {"CENTER_LID": "MAD"}, authorization=madrid.basic()).code == "FORBIDDEN"


def test_create_integration_client_without_centers_grants_every_center_and_says_so(db, two_centers, capsys):
    from django.core.management import call_command

    call_command("create_integration_client", "everywhere")
    call_command("create_integration_client", "madrid", "--centers", "MAD")

    said = capsys.readouterr().err
    assert "every center" in said
    assert IntegrationClient.objects.get(name="everywhere").all_centers
    madrid = IntegrationClient.objects.get(name="madrid")
    assert not madrid.all_centers and [c.lid for c in madrid.centers.all()] == ["MAD"]
    assert madrid.rate_limit == DEFAULT_RATE_LIMIT


def test_create_integration_client_sets_the_request_rate_limit(db, two_centers):
    from django.core.management import call_command

    call_command("create_integration_client", "load-test", "--rate-limit", "0")
    call_command("create_integration_client", "slow", "--rate-limit", "12")

    assert IntegrationClient.objects.get(name="load-test").rate_limit == 0
    assert IntegrationClient.objects.get(name="slow").rate_limit == 12


# --- authentication: nobody can lock the real client out -----------------------------------------


@pytest.fixture
def behind_proxy(settings):
    """The live server believes X-Forwarded-For from loopback, so tests can call from any address."""
    import ipaddress

    settings.HIS_TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.0/8")]
    settings.HIS_AUTH_FAILURE_LIMIT = 3


def _from(address):
    return {"X-Forwarded-For": address}


def test_failures_from_one_address_never_refuse_the_right_secret_from_another(
    rest_surface, two_centers, madrid, behind_proxy
):
    from tests.surfaces import Credentials

    wrong = Credentials(madrid.name, "not-the-secret").basic()
    for _ in range(3):
        assert rest_surface.call("GetCenters", authorization=wrong, headers=_from("203.0.113.9")).status == 401

    attacker = rest_surface.call("GetCenters", authorization=madrid.basic(), headers=_from("203.0.113.9"))
    assert (attacker.code, attacker.headers["Retry-After"]) == ("THROTTLED", "300")
    real = rest_surface.call("GetCenters", authorization=madrid.basic(), headers=_from("198.51.100.7"))
    assert real.ok


def test_a_request_without_credentials_is_a_challenge_not_a_failure(rest_surface, two_centers, madrid, behind_proxy):
    for _ in range(5):
        assert rest_surface.call("GetCenters", headers=_from("203.0.113.9")).status == 401

    assert rest_surface.call("GetCenters", authorization=madrid.basic(), headers=_from("203.0.113.9")).ok
    assert AuditEntry.objects.filter(outcome="CHALLENGED").count() == 5


def test_the_allow_list_is_checked_before_the_secret(rest_surface, two_centers, make_client, behind_proxy):
    from tests.surfaces import Credentials

    office = make_client(name="office", allowed_ips="198.51.100.0/24")
    guessed = Credentials("office", "a-guess").basic()

    # From a wrong address a wrong secret and the right one get the same answer: nothing is confirmed.
    by_name = rest_surface.call("GetCenters", authorization=guessed, headers=_from("203.0.113.9"))
    right = rest_surface.call("GetCenters", authorization=office.basic(), headers=_from("203.0.113.9"))
    assert (by_name.code, right.code) == ("FORBIDDEN", "FORBIDDEN")
    assert by_name.message == right.message
    bearer = rest_surface.call("GetCenters", authorization=office.bearer(), headers=_from("203.0.113.9"))
    assert bearer.code == "UNAUTHORIZED"
    assert rest_surface.call("GetCenters", authorization=office.basic(), headers=_from("198.51.100.5")).ok


def test_each_client_has_a_request_rate_shared_by_every_instance(surface, two_centers, madrid):
    IntegrationClient.objects.filter(name="madrid-only").update(rate_limit=3)
    for _ in range(3):
        assert surface.call("GetCenters", authorization=madrid.basic()).ok

    refused = surface.call("GetCenters", authorization=madrid.basic())

    assert (refused.ok, refused.code) == (False, "THROTTLED")
    assert AuditEntry.objects.filter(client__name="madrid-only", outcome="THROTTLED").count() == 1


def test_a_throttled_soap_call_says_when_to_retry(live_server, two_centers, madrid):
    IntegrationClient.objects.filter(name="madrid-only").update(rate_limit=1)
    envelope = (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:ws="http://tuotempo.his/ws"><soapenv:Body><ws:GetCenters/></soapenv:Body></soapenv:Envelope>'
    )
    headers = {"Content-Type": "text/xml; charset=utf-8", "Authorization": madrid.basic()}
    first = requests.post(f"{live_server.url}/soap/", data=envelope, headers=headers, timeout=30)
    second = requests.post(f"{live_server.url}/soap/", data=envelope, headers=headers, timeout=30)

    assert first.status_code == 200
    assert b"<faultcode>soap11env:Client.Throttled</faultcode>" in second.content
    assert 1 <= int(second.headers["Retry-After"]) <= 60


def test_every_webservice_answer_is_not_to_be_stored(live_server, two_centers, madrid):
    for response in (
        requests.get(f"{live_server.url}/api/getcenters", headers={"Authorization": madrid.basic()}, timeout=30),
        requests.get(f"{live_server.url}/api/getcenters", timeout=30),
        requests.get(f"{live_server.url}/soap/?wsdl", timeout=30),
    ):
        assert response.headers["Cache-Control"] == "no-store", response.url


# --- ids and values that used to break the server --------------------------------------------------


def test_an_id_typed_at_the_desk_like_the_servers_never_breaks_an_online_booking(surface, two_centers, madrid):
    next_pk = (Appointment.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    madrid_center = two_centers["MAD"]["center"]
    start = dt.datetime.combine(IN_TEN_DAYS, dt.time(17), madrid_center.zone)
    AppointmentFactory(lid=f"A{next_pk}", resource=two_centers["MAD"]["doctor"], start=start)

    booked = surface.call("addAppointment", _slot("MAD"), authorization=madrid.basic())

    assert booked.ok, booked
    assert booked.payload["APP_LID"].startswith(f"A{next_pk + 1}")


@pytest.mark.parametrize("stamp", ["99991231T2300Z", "00010101T0000Z"])
def test_an_availability_id_at_the_ends_of_the_calendar_is_an_input_error(surface, two_centers, madrid, stamp):
    doctor = two_centers["MAD"]["doctor"]
    answer = surface.call(
        "addAppointment",
        {"AVAILABILITY_LID": f"{stamp}-{doctor.pk}-1", "USER_LID": "P-MAD"},
        authorization=madrid.basic(),
    )

    assert answer.payload["ADD_RESULT"] == "ERROR" and "AVAILABILITY_LID" in answer.payload["ERROR_MESSAGE"]
    if surface.name == "rest":
        assert (answer.status, answer.code) == (400, "INVALID_INPUT")


def test_a_search_over_more_than_366_days_is_an_input_error(surface, two_centers, madrid):
    answer = surface.call(
        "searchAvailabilities",
        {"ACTIVITY_LID": "V1", "AVA_START_DAY": "01/01/2027", "AVA_END_DAY": "01/01/2200", "AVA_MIN_TIME": "23:00"},
        authorization=madrid.basic(),
    )

    assert not answer.ok and "at most 366 days" in answer.message


def test_a_band_that_no_rule_can_fill_is_answered_without_walking_the_days(two_centers, django_assert_max_num_queries):
    from appointments.models import Activity
    from appointments.slots import find_slots

    start = timezone.localdate()
    # The activity, the catalogue version, the kept doctors and activities, the offers and the rules; no
    # day is walked.
    with django_assert_max_num_queries(6):
        found = find_slots(
            activity=Activity.objects.get(lid="V1"),
            start_day=start,
            end_day=start + dt.timedelta(days=366),
            min_time=dt.time(21),
            max_time=dt.time(23),
        )
    assert found == []
