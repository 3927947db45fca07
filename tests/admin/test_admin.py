"""The desk's admin: every page renders, searches find patients, and appointments are moved and
cancelled through the same services (and refusals) as the webservices."""

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from appointments import admin as appointments_admin
from appointments.models import Absence, Appointment, AppointmentStatus, Origin, Resource
from clients.admin import MSG_DEACTIVATED
from clients.models import AuditEntry, InspectedCall, IntegrationClient, hash_secret
from clients.services import MSG_BAD_NAME, create_integration_client
from core.errors import UNAUTHORIZED, DomainError
from demo import factories as f
from demo.factories import CenterFactory, LocationFactory, MedicalResultFactory
from exchange.models import ExchangeRow, ExchangeRun
from patients.models import Patient, PossibleDuplicate
from results.admin import MSG_NO_DELETE
from results.models import MedicalResult, ResultStatus
from results.services import MSG_TYPE_MISMATCH
from sincro.models import CancellationRow, DownloadFile, DownloadRow, ReservationRow
from webservices.auth import MSG_BAD_CREDENTIALS, authenticate

START = (timezone.now() + dt.timedelta(days=5)).replace(hour=9, minute=0, second=0, microsecond=0)


def _client(name="tuotempo-main"):
    client = IntegrationClient(name=name)
    client.set_new_secret()
    client.save()
    return client


def _audit_entry(**kwargs):
    fields = {"time": timezone.now(), "surface": "REST", "method": "getCenters", "outcome": "OK", "ids": {}}
    fields.update(kwargs)
    return AuditEntry.objects.create(**fields)


FACTORIES = {
    "centers.center": CenterFactory,
    "centers.location": LocationFactory,
    "appointments.resource": f.ResourceFactory,
    "appointments.activitygroup": f.ActivityGroupFactory,
    "appointments.activity": f.ActivityFactory,
    "appointments.insurance": f.InsuranceFactory,
    "appointments.resourceactivity": f.ResourceActivityFactory,
    "appointments.insuranceactivity": f.InsuranceActivityFactory,
    "appointments.insuranceresource": f.InsuranceResourceFactory,
    "appointments.availabilityrule": f.AvailabilityRuleFactory,
    "appointments.absence": f.AbsenceFactory,
    "patients.patient": f.PatientFactory,
    "patients.possibleduplicate": lambda: PossibleDuplicate.objects.create(
        patient=f.PatientFactory(), other=f.PatientFactory(), reason="probable match known only in other centers"
    ),
    "appointments.appointment": f.AppointmentFactory,
    "results.medicalresult": lambda: MedicalResultFactory(center=CenterFactory()),
    "clients.integrationclient": lambda: _client(name=f"client-{IntegrationClient.objects.count() + 1}"),
    "clients.auditentry": lambda: _audit_entry(client=_client(name=f"audited-{AuditEntry.objects.count() + 1}")),
    "clients.inspectedcall": lambda: InspectedCall.objects.get(
        pk=_audit_entry(client=_client(name=f"inspected-{AuditEntry.objects.count() + 1}")).pk
    ),
    "auth.group": lambda: Group.objects.create(name=f"desk-{Group.objects.count() + 1}"),
    "exchange.exchangerun": lambda: _exchange_run(),
    "exchange.exchangerow": lambda: ExchangeRow.objects.create(
        run=_exchange_run(), file_name="replies.csv", line=2, app_lid="A1", outcome="APPLIED"
    ),
    "sincro.reservationrow": lambda: ReservationRow.objects.create(
        app_tid="T1", app_action="ADD", app_date="01/01/2030", app_start_time="09:00", resource_lid="D1"
    ),
    "sincro.cancellationrow": lambda: CancellationRow.objects.create(app_lid="A1", status_trigger="OK"),
    "sincro.downloadrow": lambda: DownloadRow.objects.create(
        download_lid="R1",
        download_tid="X",
        download_action="UPDATE",
        req_date="01/01/2030",
        req_time="09:00",
        user_lid="P1",
        status_trigger="ERROR: No result with DOWNLOAD_LID R1.",
    ),  # fmt: skip
    "sincro.downloadfile": lambda: DownloadFile.objects.create(
        download_lid=f"R{DownloadFile.objects.count() + 1}", file_name="r.pdf", file_content=b"%PDF"
    ),
}
# Logs of what happened, and the Sincro agent's rows: nothing to add by hand.
READ_ONLY = {
    AuditEntry,
    InspectedCall,
    ExchangeRun,
    ExchangeRow,
    PossibleDuplicate,
    ReservationRow,
    CancellationRow,
    DownloadRow,
    DownloadFile,
}


def _exchange_run():
    return ExchangeRun.objects.create(command="export_catalog", destination="file:///srv/out", started=timezone.now())


REGISTERED = sorted(admin.site._registry, key=lambda m: m._meta.label_lower)


def _make(model):
    if model._meta.label_lower == "auth.user":
        from django.contrib.auth import get_user_model

        n = get_user_model().objects.count()
        return get_user_model().objects.create_user(username=f"clerk{n}", password="a-long-desk-password")
    return FACTORIES[model._meta.label_lower]()


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


class _FormFields(HTMLParser):
    """What a browser would post back from the admin's main form, as rendered."""

    def __init__(self):
        super().__init__()
        self.data, self._in_form, self._select, self._textarea = {}, False, None, None

    def _add(self, name, value):
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._in_form = (a.get("id") or "").endswith("_form")
        if not self._in_form or "__prefix__" in (a.get("name") or ""):
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self._add(a["name"], a.get("value") or ("on" if a.get("type") == "checkbox" else ""))
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self.data.setdefault(self._select, [])
        elif tag == "option" and self._select and "selected" in a:
            self._add(self._select, a.get("value", ""))
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._add(self._textarea, "")

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _form_data(response, **changes):
    parser = _FormFields()
    parser.feed(response.content.decode())
    data = {k: (v if len(v) != 1 else v[0]) for k, v in parser.data.items() if k != "csrfmiddlewaretoken"}
    data.update(changes)
    return data


def _split(value):
    """The admin's date and time inputs for an aware datetime, in the active time zone."""
    local = timezone.localtime(value)
    return f"{local:%Y-%m-%d}", f"{local:%H:%M:%S}"


# Every page of every registered model


def test_every_model_of_the_project_is_registered():
    registered = {m._meta.label_lower for m in admin.site._registry}
    project = {k for k in FACTORIES if not k.startswith("auth.")}
    assert project <= registered
    assert project | {"auth.user"} >= registered - {"auth.group"}


@pytest.mark.django_db
@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label_lower)
def test_every_changelist_change_and_add_page_renders(admin_client, model):
    obj = _make(model)

    listing = admin_client.get(_url(model, "changelist"))
    change = admin_client.get(_url(model, "change", obj.pk))
    add = admin_client.get(_url(model, "add"))

    assert listing.status_code == 200
    assert listing.context["cl"].result_count >= 1
    assert change.status_code == 200
    assert change.context["original"].pk == obj.pk
    expected_add = 403 if model in READ_ONLY else 200
    assert add.status_code == expected_add


@pytest.mark.django_db
@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label_lower)
def test_changelists_run_the_same_number_of_queries_for_more_rows(admin_client, model):
    _make(model)
    admin_client.get(_url(model, "changelist"))  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as one_row:
        assert admin_client.get(_url(model, "changelist")).status_code == 200
    for _ in range(4):
        _make(model)
    with CaptureQueriesContext(connection) as five_rows:
        response = admin_client.get(_url(model, "changelist"))

    assert response.status_code == 200
    assert len(five_rows) == len(one_row), [q["sql"] for q in five_rows.captured_queries]


# Search


@pytest.mark.django_db
def test_it_finds_a_patient_by_id_number(admin_client):
    wanted = f.PatientFactory(id_number="12345678Z")
    f.PatientFactory(id_number="87654321X")

    response = admin_client.get(_url(Patient, "changelist"), {"q": "12345678Z"})

    assert [p.pk for p in response.context["cl"].result_list] == [wanted.pk]


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["600112233", "+34 600 11 22 33", "600-11-22-33"])
def test_it_finds_a_patient_by_phone_however_it_was_typed(admin_client, typed):
    by_mobile = f.PatientFactory(mobile_phone="+34 600 11-22-33")
    by_landline = f.PatientFactory(mobile_phone="", landline_phone="0034600112233")
    f.PatientFactory(mobile_phone="+34 611 000 000")

    response = admin_client.get(_url(Patient, "changelist"), {"q": typed})

    assert {p.pk for p in response.context["cl"].result_list} == {by_mobile.pk, by_landline.pk}


@pytest.mark.django_db
def test_it_finds_appointments_by_patient_id_number(admin_client):
    wanted = f.AppointmentFactory(patient=f.PatientFactory(id_number="11111111H"))
    f.AppointmentFactory()

    response = admin_client.get(_url(Appointment, "changelist"), {"q": "11111111H"})

    assert [a.pk for a in response.context["cl"].result_list] == [wanted.pk]


@pytest.mark.django_db
def test_appointments_are_filtered_by_center_and_status(admin_client):
    north, south = CenterFactory(), CenterFactory()
    wanted = f.AppointmentFactory(resource=f.ResourceFactory(location=LocationFactory(center=north)))
    f.AppointmentFactory(
        resource=f.ResourceFactory(location=LocationFactory(center=north)), status=AppointmentStatus.CANCELLED_BY_USER
    )
    f.AppointmentFactory(resource=f.ResourceFactory(location=LocationFactory(center=south)))

    response = admin_client.get(
        _url(Appointment, "changelist"),
        {"resource__location__center__id__exact": north.pk, "status__exact": AppointmentStatus.APPROVED},
    )

    assert [a.pk for a in response.context["cl"].result_list] == [wanted.pk]


# Appointments: move, refuse, cancel, book at the desk


@pytest.mark.django_db
def test_appointment_list_shows_start_in_the_center_time_zone(admin_client):
    center = CenterFactory(time_zone="Atlantic/Canary")
    resource = f.ResourceFactory(location=LocationFactory(center=center))
    f.AppointmentFactory(resource=resource, start=dt.datetime(2030, 1, 14, 9, 0, tzinfo=dt.UTC))

    response = admin_client.get(_url(Appointment, "changelist"))

    assert "When (center time)" in response.content.decode()
    assert "14/01/2030 09:00-09:15 (Atlantic/Canary)" in response.content.decode()


@pytest.mark.django_db
def test_an_appointment_is_edited_in_its_center_time_zone(admin_client):
    # Canary time is UTC in January; the server's zone (Madrid) is one hour ahead.
    center = CenterFactory(time_zone="Atlantic/Canary")
    resource = f.ResourceFactory(location=LocationFactory(center=center))
    start = dt.datetime(2030, 1, 14, 9, 0, tzinfo=dt.UTC)
    appointment = f.AppointmentFactory(resource=resource, start=start)
    page = admin_client.get(_url(Appointment, "change", appointment.pk))
    assert _form_data(page)["start_1"] == "09:00"

    response = admin_client.post(
        _url(Appointment, "change", appointment.pk), _form_data(page, start_1="11:00", book_anyway="on")
    )

    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.start == dt.datetime(2030, 1, 14, 11, 0, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_it_reschedules_an_appointment_keeping_its_length(admin_client):
    appointment = f.AppointmentFactory(start=START, end=START + dt.timedelta(minutes=30))
    before = appointment.modified
    page = admin_client.get(_url(Appointment, "change", appointment.pk))
    new_start = START + dt.timedelta(hours=2)
    day, time = _split(new_start)

    response = admin_client.post(
        _url(Appointment, "change", appointment.pk), _form_data(page, start_0=day, start_1=time, book_anyway="on")
    )

    assert response.status_code == 302
    appointment.refresh_from_db()
    assert (appointment.start, appointment.end) == (new_start, new_start + dt.timedelta(minutes=30))
    assert appointment.modified > before
    assert appointment.status == AppointmentStatus.APPROVED


@pytest.mark.django_db
def test_it_refuses_to_move_an_appointment_onto_another(admin_client):
    resource = f.ResourceFactory()
    taken = f.AppointmentFactory(resource=resource, start=START, end=START + dt.timedelta(minutes=30))
    moving = f.AppointmentFactory(
        resource=resource, start=START + dt.timedelta(hours=1), end=START + dt.timedelta(hours=1, minutes=30)
    )
    before = (moving.start, moving.end, moving.modified)
    page = admin_client.get(_url(Appointment, "change", moving.pk))
    day, time = _split(START + dt.timedelta(minutes=15))

    response = admin_client.post(
        _url(Appointment, "change", moving.pk), _form_data(page, start_0=day, start_1=time, book_anyway="on")
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert errors == [
        appointments_admin.MSG_DESK_OVERLAP.format(
            resource=resource,
            other=taken.lid,
            start=appointments_admin.center_time(taken.start, resource.location.center),
            end=appointments_admin.center_time(taken.end, resource.location.center),
        )
    ]
    assert taken.lid in response.content.decode()
    moving.refresh_from_db()
    assert (moving.start, moving.end, moving.modified) == before


@pytest.mark.django_db
def test_a_move_that_loses_a_race_is_shown_as_a_message_and_saves_nothing(admin_client, monkeypatch):
    # The form's own check passes (as if the other booking arrived just after it): the service refuses.
    monkeypatch.setattr(appointments_admin, "overlapping_appointment", lambda **kw: None)
    resource = f.ResourceFactory()
    f.AppointmentFactory(resource=resource, start=START, end=START + dt.timedelta(minutes=30))
    moving = f.AppointmentFactory(
        resource=resource, start=START + dt.timedelta(hours=1), end=START + dt.timedelta(hours=1, minutes=30)
    )
    page = admin_client.get(_url(Appointment, "change", moving.pk))
    day, time = _split(START + dt.timedelta(minutes=15))

    response = admin_client.post(
        _url(Appointment, "change", moving.pk),
        _form_data(page, start_0=day, start_1=time, notes="moved", book_anyway="on"),
        follow=True,
    )

    shown = [str(m) for m in response.context["messages"]]
    assert len(shown) == 1
    assert "is no longer available: another appointment holds it." in shown[0]
    moving.refresh_from_db()
    assert moving.start == START + dt.timedelta(hours=1)
    assert moving.notes == ""


@pytest.mark.django_db
def test_the_cancel_action_stamps_status_cancelled_at_and_modified(admin_client):
    past = f.AppointmentFactory(start=timezone.now() - dt.timedelta(days=1, hours=1))
    future = f.AppointmentFactory()
    untouched = f.AppointmentFactory()
    before = future.modified

    response = admin_client.post(
        _url(Appointment, "changelist") + "?when=all",  # as listed: past ones too
        {"action": "cancel_appointments", "_selected_action": [past.pk, future.pk]},
        follow=True,
    )

    assert [str(m) for m in response.context["messages"]] == [appointments_admin.MSG_CANCELLED_N.format(count=2)]
    for appointment in (past, future):
        appointment.refresh_from_db()
        assert appointment.status == AppointmentStatus.CANCELLED_BY_ADMIN
        assert appointment.cancelled_at is not None
    assert future.modified > before
    untouched.refresh_from_db()
    assert untouched.status == AppointmentStatus.APPROVED
    assert Appointment.objects.count() == 3


@pytest.mark.django_db
def test_setting_the_status_to_cancelled_by_admin_goes_through_the_cancel_service(admin_client):
    appointment = f.AppointmentFactory()
    before = appointment.modified
    page = admin_client.get(_url(Appointment, "change", appointment.pk))

    response = admin_client.post(
        _url(Appointment, "change", appointment.pk),
        _form_data(page, status=AppointmentStatus.CANCELLED_BY_ADMIN, notes="patient phoned"),
    )

    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED_BY_ADMIN
    assert appointment.cancelled_at is not None
    assert appointment.modified > before
    assert appointment.notes == "patient phoned"
    # The slot is free again: a new appointment can take it.
    f.AppointmentFactory(resource=appointment.resource, start=appointment.start, end=appointment.end)


@pytest.mark.django_db
def test_a_cancelled_appointment_cannot_be_moved_or_deleted(admin_client):
    appointment = f.AppointmentFactory(start=START, status=AppointmentStatus.CANCELLED_BY_USER)
    page = admin_client.get(_url(Appointment, "change", appointment.pk))
    day, time = _split(START + dt.timedelta(days=1))

    response = admin_client.post(
        _url(Appointment, "change", appointment.pk),
        _form_data(page, start_0=day, start_1=time, status=AppointmentStatus.APPROVED),
    )
    deleting = admin_client.post(_url(Appointment, "delete", appointment.pk), {"post": "yes"})

    assert response.status_code == 302
    assert deleting.status_code == 403
    appointment.refresh_from_db()
    assert (appointment.start, appointment.status) == (START, AppointmentStatus.CANCELLED_BY_USER)


def _desk_booking(resource, activity, patient, start, end):
    day, time = _split(start)
    end_day, end_time = _split(end)
    return {
        "lid": "",
        "tid": "",
        "patient": patient.pk,
        "resource": resource.pk,
        "activity": activity.pk,
        "insurance": "",
        "start_0": day,
        "start_1": time,
        "end_0": end_day,
        "end_1": end_time,
        "status": AppointmentStatus.APPROVED,
        "origin": Origin.DESK,
        "owner_lid": "",
        "owner_tid": "",
        "owner_name": "",
        "notes": "",
        "book_anyway": "on",  # the factories' doctors have no opening hours: a desk booking is confirmed
    }


@pytest.mark.django_db
def test_the_desk_books_an_appointment_which_gets_an_id(admin_client):
    resource, activity, patient = f.ResourceFactory(), f.ActivityFactory(), f.PatientFactory()

    response = admin_client.post(
        _url(Appointment, "add"),
        _desk_booking(resource, activity, patient, START, START + dt.timedelta(minutes=15)),
    )

    assert response.status_code == 302
    booked = Appointment.objects.get()
    assert booked.lid == f"A{booked.pk}"
    assert (booked.start, booked.origin, booked.location) == (START, Origin.DESK, resource.location)


@pytest.mark.django_db
def test_the_desk_cannot_book_over_an_active_appointment(admin_client):
    resource, activity, patient = f.ResourceFactory(), f.ActivityFactory(), f.PatientFactory()
    taken = f.AppointmentFactory(resource=resource, start=START, end=START + dt.timedelta(minutes=30))

    response = admin_client.post(
        _url(Appointment, "add"),
        _desk_booking(resource, activity, patient, START + dt.timedelta(minutes=10), START + dt.timedelta(minutes=25)),
    )

    assert response.status_code == 200
    assert f"already has appointment {taken.lid}" in response.content.decode()
    assert list(Appointment.objects.all()) == [taken]


@pytest.mark.django_db
def test_a_desk_booking_that_loses_a_race_is_refused_with_a_message(admin_client, monkeypatch):
    monkeypatch.setattr(appointments_admin, "overlapping_appointment", lambda **kw: None)
    resource, activity, patient = f.ResourceFactory(), f.ActivityFactory(), f.PatientFactory()
    taken = f.AppointmentFactory(resource=resource, start=START, end=START + dt.timedelta(minutes=30))

    response = admin_client.post(
        _url(Appointment, "add"),
        _desk_booking(resource, activity, patient, START, START + dt.timedelta(minutes=15)),
        follow=True,
    )

    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert len(shown) == 1 and "is no longer available" in shown[0]
    assert list(Appointment.objects.all()) == [taken]


# Integration clients and the audit log


def _shown_secret(message, name):
    found = re.search(rf"Basic credentials: {re.escape(name)}:(\S+) ", message)
    assert found, message
    return found.group(1)


@pytest.mark.django_db
def test_creating_a_client_shows_its_secret_once_and_stores_only_a_hash(admin_client):
    center = CenterFactory()

    response = admin_client.post(
        _url(IntegrationClient, "add"),
        {"name": "tuotempo-north", "is_active": "on", "patient_pattern": "lid", "centers": [center.pk]},
        follow=True,
    )

    client = IntegrationClient.objects.get(name="tuotempo-north")
    shown = [str(m) for m in response.context["messages"]]
    assert len(shown) == 2  # the secret, and the admin's own "added" message
    secret = _shown_secret(shown[0], "tuotempo-north")
    assert hash_secret(secret) == client.secret_hash
    assert secret not in {client.name, client.secret_hash, client.allowed_ips}
    assert list(client.centers.all()) == [center]
    again = admin_client.get(_url(IntegrationClient, "change", client.pk)).content.decode()
    assert secret not in again
    assert client.secret_hash not in again


@pytest.mark.django_db
def test_rotating_a_secret_changes_the_hash_and_shows_the_new_secret(admin_client):
    client = _client()
    old_hash, old_rotated = client.secret_hash, client.secret_rotated

    response = admin_client.post(
        _url(IntegrationClient, "changelist"),
        {"action": "rotate_secret", "_selected_action": [client.pk]},
        follow=True,
    )

    client.refresh_from_db()
    secret = _shown_secret(str(list(response.context["messages"])[0]), client.name)
    assert client.secret_hash != old_hash
    assert client.secret_hash == hash_secret(secret)
    assert client.secret_rotated > old_rotated


@pytest.mark.django_db
def test_deactivating_clients_sets_them_inactive(admin_client):
    client, other = _client("a"), _client("b")

    response = admin_client.post(
        _url(IntegrationClient, "changelist"),
        {"action": "deactivate_clients", "_selected_action": [client.pk]},
        follow=True,
    )

    assert [str(m) for m in response.context["messages"]] == [MSG_DEACTIVATED.format(count=1)]
    client.refresh_from_db()
    other.refresh_from_db()
    assert (client.is_active, other.is_active) == (False, True)


def _bearer(secret):
    return RequestFactory().get("/api/getCenters", HTTP_AUTHORIZATION=f"Bearer {secret}")


@pytest.mark.django_db
def test_a_rotated_secret_stops_authenticating_and_the_new_one_works(admin_client):
    client, old_secret = create_integration_client(name="tuotempo-rotated")
    assert authenticate(_bearer(old_secret)) == client

    response = admin_client.post(
        _url(IntegrationClient, "changelist"),
        {"action": "rotate_secret", "_selected_action": [client.pk]},
        follow=True,
    )

    new_secret = _shown_secret(str(list(response.context["messages"])[0]), client.name)
    with pytest.raises(DomainError) as refused:
        authenticate(_bearer(old_secret))
    assert (refused.value.code, refused.value.message) == (UNAUTHORIZED, MSG_BAD_CREDENTIALS)
    assert authenticate(_bearer(new_secret)) == client
    client.refresh_from_db()
    assert client.secret_hash == hash_secret(new_secret)


@pytest.mark.django_db
def test_a_client_is_created_active_through_the_service(admin_client):
    response = admin_client.post(
        _url(IntegrationClient, "add"),
        {"name": "tuotempo-south", "patient_pattern": "tid", "allowed_ips": "10.0.0.0/8"},
        follow=True,
    )

    client = IntegrationClient.objects.get()
    secret = _shown_secret(str(list(response.context["messages"])[0]), "tuotempo-south")
    assert (client.name, client.is_active, client.patient_pattern, client.allowed_ips) == (
        "tuotempo-south",
        True,
        "tid",
        "10.0.0.0/8",
    )
    assert list(client.centers.all()) == []
    assert authenticate(RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {secret}", REMOTE_ADDR="10.1.2.3")) == (
        client
    )


@pytest.mark.django_db
def test_a_client_name_with_a_colon_is_refused_on_the_form(admin_client):
    response = admin_client.post(_url(IntegrationClient, "add"), {"name": "north:1", "patient_pattern": "lid"})

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["name"] == [MSG_BAD_NAME]
    assert not IntegrationClient.objects.exists()


@pytest.mark.django_db
def test_deactivating_counts_only_clients_that_were_active(admin_client):
    active, inactive = _client("a"), _client("b")
    IntegrationClient.objects.filter(pk=inactive.pk).update(is_active=False)

    response = admin_client.post(
        _url(IntegrationClient, "changelist"),
        {"action": "deactivate_clients", "_selected_action": [active.pk, inactive.pk]},
        follow=True,
    )

    assert [str(m) for m in response.context["messages"]] == [MSG_DEACTIVATED.format(count=1)]
    assert list(IntegrationClient.objects.filter(is_active=True)) == []


@pytest.mark.django_db
def test_audit_entries_cannot_be_added_changed_or_deleted(admin_client):
    entry = _audit_entry(method="addAppointment", outcome="CONFLICT", ids={"APP_LID": "A1"})

    adding = admin_client.post(_url(AuditEntry, "add"), {"time_0": "2030-01-01", "method": "x"})
    changing = admin_client.post(_url(AuditEntry, "change", entry.pk), {"method": "forged", "outcome": "OK"})
    deleting = admin_client.post(_url(AuditEntry, "delete", entry.pk), {"post": "yes"})
    bulk = admin_client.post(
        _url(AuditEntry, "changelist"), {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"}
    )
    viewing = admin_client.get(_url(AuditEntry, "change", entry.pk))

    assert (adding.status_code, changing.status_code, deleting.status_code) == (403, 403, 403)
    assert bulk.status_code in (200, 302)
    assert viewing.status_code == 200
    assert 'name="_save"' not in viewing.content.decode()
    entry.refresh_from_db()
    assert (entry.method, entry.outcome) == ("addAppointment", "CONFLICT")
    assert AuditEntry.objects.count() == 1


@pytest.mark.django_db
def test_the_audit_log_is_searched_by_the_ids_involved(admin_client):
    wanted = _audit_entry(method="addAppointment", ids={"APP_LID": "A12345"}, remote_addr="10.0.0.7")
    _audit_entry(method="addAppointment", ids={"APP_LID": "A999"})

    by_id = admin_client.get(_url(AuditEntry, "changelist"), {"q": "A12345"})
    by_address = admin_client.get(_url(AuditEntry, "changelist"), {"q": "10.0.0.7"})

    assert [e.pk for e in by_id.context["cl"].result_list] == [wanted.pk]
    assert [e.pk for e in by_address.context["cl"].result_list] == [wanted.pk]


# External ids, absences and results


@pytest.mark.django_db
def test_an_absence_names_a_resource_or_a_center_not_both(admin_client):
    resource = f.ResourceFactory()
    day, time = _split(START)
    end_day, end_time = _split(START + dt.timedelta(days=1))
    data = {"start_0": day, "start_1": time, "end_0": end_day, "end_1": end_time, "reason": "Congreso"}

    both = admin_client.post(
        _url(Absence, "add"), {**data, "resource": resource.pk, "center": resource.location.center.pk}
    )
    one = admin_client.post(_url(Absence, "add"), {**data, "resource": resource.pk, "center": ""})

    assert both.status_code == 200
    assert str(appointments_admin.MSG_ABSENCE_WHO) in both.content.decode()
    assert one.status_code == 302
    assert list(Absence.objects.values_list("resource", "center")) == [(resource.pk, None)]


@pytest.mark.django_db
def test_a_resource_lid_cannot_be_changed_once_created(admin_client):
    resource = f.ResourceFactory(lid="D77")
    f.AvailabilityRuleFactory(resource=resource, lid="R77")
    f.ResourceActivityFactory(resource=resource)
    page = admin_client.get(_url(Resource, "change", resource.pk))
    data = _form_data(page, lid="D99", first_name="Renamed")
    data["availability_rules-0-lid"] = "R99"

    response = admin_client.post(_url(Resource, "change", resource.pk), data)

    assert response.status_code == 302
    resource.refresh_from_db()
    assert (resource.lid, resource.first_name) == ("D77", "Renamed")
    assert list(resource.availability_rules.values_list("lid", flat=True)) == ["R77"]
    assert not Resource.objects.filter(lid="D99").exists()


@pytest.mark.django_db
def test_a_resource_lid_is_given_when_adding(admin_client):
    location = LocationFactory()
    page = admin_client.get(_url(Resource, "add"))
    data = _form_data(page, lid="D500", first_name="Ana", location=location.pk)

    response = admin_client.post(_url(Resource, "add"), data)

    assert response.status_code == 302
    assert Resource.objects.get(lid="D500").location == location


@pytest.mark.django_db
def test_uploading_a_result_takes_name_type_and_size_from_the_file(admin_client):
    patient = f.PatientFactory()
    content = b"%PDF-1.4 lab report"

    response = admin_client.post(
        _url(MedicalResult, "add"),
        {
            "lid": "RES900",
            "code": "900",
            "patient": patient.pk,
            "center": "",
            "status": ResultStatus.VALID,
            "filename": "",
            "file_type": "",
            "upload": SimpleUploadedFile("Analitica.PDF", content, content_type="application/pdf"),
        },
    )

    assert response.status_code == 302
    result = MedicalResult.objects.get(lid="RES900")
    assert (result.filename, result.file_type, result.size, result.patient) == ("Analitica.PDF", "pdf", 19, patient)
    assert result.status == ResultStatus.VALID
    assert result.file.read() == content


@pytest.mark.django_db
def test_withdrawing_results_and_listing_their_downloads(admin_client):
    result, other = MedicalResultFactory(), MedicalResultFactory()
    before = result.modified
    _audit_entry(method="getTestResultContent", client_name="tuotempo-main", ids={"DOWNLOAD_LID": result.lid})
    _audit_entry(method="getTestResultContent", client_name="someone-else", ids={"DOWNLOAD_LID": other.lid})

    admin_client.post(
        _url(MedicalResult, "changelist"), {"action": "withdraw_results", "_selected_action": [result.pk]}
    )
    page = admin_client.get(_url(MedicalResult, "change", result.pk)).content.decode()

    result.refresh_from_db()
    other.refresh_from_db()
    assert (result.status, other.status) == (ResultStatus.WITHDRAWN, ResultStatus.VALID)
    assert result.modified > before
    assert "tuotempo-main" in page
    assert "someone-else" not in page


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _stored_files(settings):
    root = settings.MEDIA_ROOT
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.django_db
def test_uploading_a_png_declared_as_pdf_is_refused_on_the_form_and_stores_nothing(admin_client, settings):
    patient = f.PatientFactory()

    response = admin_client.post(
        _url(MedicalResult, "add"),
        {
            "lid": "RES901",
            "code": "901",
            "patient": patient.pk,
            "center": "",
            "filename": "informe.pdf",
            "file_type": "pdf",
            "upload": SimpleUploadedFile("scan.png", PNG, content_type="image/png"),
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [MSG_TYPE_MISMATCH.format(type="pdf")]
    assert not MedicalResult.objects.exists()
    # Only the file kept for the form's next attempt (the clerk may correct the type), outside any result.
    held = [p.relative_to(settings.MEDIA_ROOT).parts[0] for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()]
    assert held == ["held-uploads"]


@pytest.mark.django_db
def test_results_cannot_be_deleted_only_withdrawn(admin_client):
    result = MedicalResultFactory()

    listing = admin_client.get(_url(MedicalResult, "changelist"))
    deleting = admin_client.post(_url(MedicalResult, "delete", result.pk), {"post": "yes"})
    admin_client.post(
        _url(MedicalResult, "changelist"),
        {"action": "delete_selected", "_selected_action": [result.pk], "post": "yes"},
    )

    assert deleting.status_code == 403
    assert [name for name, _ in listing.context["action_form"].fields["action"].choices] == ["", "withdraw_results"]
    assert str(MSG_NO_DELETE) in listing.content.decode()
    result.refresh_from_db()
    assert result.status == ResultStatus.VALID
    assert result.file.read().startswith(b"%PDF-")


@pytest.mark.django_db
def test_the_change_form_shows_the_file_name_and_size_without_a_link(admin_client, settings):
    result = MedicalResultFactory(lid="RES77")
    MedicalResult.objects.filter(pk=result.pk).update(size=result.file.size)

    page = admin_client.get(_url(MedicalResult, "change", result.pk)).content.decode()

    assert "result.pdf (29\xa0bytes)" in page
    assert settings.MEDIA_URL not in page
    assert "Currently:" not in page


@pytest.mark.django_db
def test_correcting_details_keeps_the_file_and_the_withdrawal(admin_client):
    result = MedicalResultFactory(status=ResultStatus.WITHDRAWN)
    stored, before = result.file.name, result.modified
    other_patient = f.PatientFactory()
    page = admin_client.get(_url(MedicalResult, "change", result.pk))

    response = admin_client.post(
        _url(MedicalResult, "change", result.pk),
        _form_data(page, code="CORRECTED", patient=other_patient.pk, filename="informe.pdf"),
    )

    assert response.status_code == 302
    result.refresh_from_db()
    assert (result.code, result.patient, result.filename) == ("CORRECTED", other_patient, "informe.pdf")
    assert (result.file.name, result.status) == (stored, ResultStatus.WITHDRAWN)
    assert result.modified > before


@pytest.mark.django_db
def test_a_new_type_must_describe_the_stored_file(admin_client):
    result = MedicalResultFactory()
    page = admin_client.get(_url(MedicalResult, "change", result.pk))

    response = admin_client.post(_url(MedicalResult, "change", result.pk), _form_data(page, file_type="png"))

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [MSG_TYPE_MISMATCH.format(type="png")]
    result.refresh_from_db()
    assert result.file_type == "pdf"


@pytest.mark.django_db
def test_replacing_the_file_stores_it_and_makes_the_result_valid_again(
    admin_client, settings, django_capture_on_commit_callbacks
):
    result = MedicalResultFactory(status=ResultStatus.WITHDRAWN)
    old_name = result.file.name
    page = admin_client.get(_url(MedicalResult, "change", result.pk))

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            _url(MedicalResult, "change", result.pk),
            _form_data(
                page,
                filename="scan.png",
                file_type="png",
                upload=SimpleUploadedFile("scan.png", PNG, content_type="image/png"),
            ),
        )

    assert response.status_code == 302
    result.refresh_from_db()
    assert (result.filename, result.file_type, result.size, result.status) == (
        "scan.png",
        "png",
        len(PNG),
        ResultStatus.VALID,
    )
    assert result.file.read() == PNG
    assert not result.file.storage.exists(old_name)
    assert _stored_files(settings) == ["scan.png"]


@pytest.mark.django_db
def test_admin_login_is_throttled_after_repeated_failures_and_audited(client, settings, django_user_model):
    from clients.models import AuditEntry

    settings.AXES_FAILURE_LIMIT = 3
    django_user_model.objects.create_superuser("clerk", "clerk@example.org", "right-password-123")
    statuses = []
    for _ in range(3):
        response = client.post("/admin/login/", {"username": "clerk", "password": "wrong", "next": "/admin/"})
        statuses.append(response.status_code)
        assert "_auth_user_id" not in client.session
    assert statuses == [200, 200, 429]  # the third failure locks that address out for that user name
    response = client.post("/admin/login/", {"username": "clerk", "password": "right-password-123", "next": "/admin/"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session  # refused while throttled, even with the right password
    outcomes = list(AuditEntry.objects.filter(surface="ADMIN").order_by("time").values_list("outcome", flat=True))
    assert outcomes == ["UNAUTHORIZED"] * 3 + ["THROTTLED"]
    assert set(AuditEntry.objects.values_list("client_name", flat=True)) == {"admin:clerk"}

    # Nobody can lock the clerk out: from another address the right password still works.
    client.post("/admin/login/", {"username": "clerk", "password": "right-password-123"}, REMOTE_ADDR="10.9.9.9")
    assert "_auth_user_id" in client.session


@pytest.mark.django_db
def test_admin_login_works_below_the_limit(client, django_user_model):
    django_user_model.objects.create_superuser("clerk", "clerk@example.org", "right-password-123")
    client.post("/admin/login/", {"username": "clerk", "password": "wrong", "next": "/admin/"})
    client.post("/admin/login/", {"username": "clerk", "password": "right-password-123", "next": "/admin/"})
    assert "_auth_user_id" in client.session
