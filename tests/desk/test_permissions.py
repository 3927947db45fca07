"""Who may use the desk: staff with the admin's permissions. A clerk who may only view appointments sees
the agenda but no action, and is refused any action (403). Nothing changes on GET, every POST needs its
CSRF token, and whatever a patient's name holds is shown as text."""

import pytest
from django.test import Client

from appointments.models import Absence, Appointment, AppointmentStatus
from demo.factories import AppointmentFactory, PatientFactory
from tests.desk.conftest import at, ddmmyyyy, desk_slots_at, desk_url, make_user


@pytest.fixture
def held(clinic):
    return AppointmentFactory(resource=clinic["d1"], activity=clinic["visit"], start=at(clinic["day"], "09:00"))


def slot_lid(clinic, hh_mm="10:00", doctor="d2"):
    return desk_slots_at(clinic[doctor], at(clinic["day"], hh_mm))[0].lid


def actions(clinic, held) -> dict[str, tuple[str, dict]]:
    """Every desk action as (url, a valid POST body)."""
    slot = slot_lid(clinic)
    new_patient = {"patient": "new", "first_name": "Eva", "second_name": "Ruiz", "register_anyway": "on"}
    return {
        "book": (desk_url("book", slot=slot), {"slot": slot, "activity": "VIS", "origin": "DESK", **new_patient}),
        "cancel": (desk_url("cancel", held.lid), {"reason": "admin"}),
        "move": (desk_url("move", held.lid), {"slot": slot}),
        "absence": (desk_url("absence-new", center="MAD"), {"first_day": ddmmyyyy(clinic["day"]),
                                                            "last_day": ddmmyyyy(clinic["day"])}),
    }  # fmt: skip


def unchanged(held) -> bool:
    """Nothing was booked, cancelled, moved or closed: the appointment is as the fixture made it."""
    now = Appointment.objects.get(pk=held.pk)
    return (
        Appointment.objects.count() == 1
        and (now.status, now.start, now.resource_id) == (AppointmentStatus.APPROVED, held.start, held.resource_id)
        and not Absence.objects.exists()
    )


@pytest.mark.parametrize("page", ["day", "week", "print", "book", "absence-new"])
def test_anonymous_visitors_are_sent_to_the_admin_login(client, clinic, page):
    response = client.get(desk_url(page))

    assert response.status_code == 302 and response["Location"].startswith("/admin/login/?next=/desk/")


def test_a_user_who_is_not_staff_is_sent_to_the_login_too(client, clinic):
    client.force_login(make_user("patient-portal", staff=False))

    response = client.get(desk_url("day"))

    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_staff_who_may_not_see_appointments_are_refused(client, clinic):
    client.force_login(make_user("it-support", perms=()))

    assert client.get(desk_url("day")).status_code == 403


def test_a_viewer_sees_the_agenda_without_any_action(client, clinic, viewer, held):
    client.force_login(viewer)

    response = client.get(desk_url("day", center="MAD", date=ddmmyyyy(clinic["day"])))

    content = response.content.decode()
    assert response.status_code == 200 and held.patient.full_name in content
    assert 'class="free"' in content and "/desk/book/" not in content
    assert "/move/" not in content and "/cancel/" not in content and "/desk/absences/new/" not in content


@pytest.mark.parametrize("action", ["book", "cancel", "move", "absence"])
def test_a_viewer_is_refused_every_action(client, clinic, viewer, held, action):
    client.force_login(viewer)
    url, body = actions(clinic, held)[action]

    assert client.get(url).status_code == 403
    assert client.post(url, body).status_code == 403
    assert unchanged(held)


def test_a_clerk_who_may_book_but_not_register_must_choose_a_known_patient(client, clinic, held):
    client.force_login(make_user("booker", perms=("appointments.view_appointment", "appointments.add_appointment")))
    url, body = actions(clinic, held)["book"]

    response = client.post(url, body)

    assert response.status_code == 400
    assert "You may not register new patients" in response.content.decode()
    assert unchanged(held)


@pytest.mark.parametrize("action", ["book", "cancel", "move", "absence"])
def test_no_action_happens_on_get(desk, clinic, held, action):
    url, body = actions(clinic, held)[action]
    query = "&".join(f"{k}={v}" for k, v in body.items())

    response = desk.get(f"{url}{'&' if '?' in url else '?'}{query}")

    assert response.status_code in (200, 302)
    assert unchanged(held)


@pytest.mark.parametrize("action", ["book", "cancel", "move", "absence"])
def test_every_action_needs_its_csrf_token(clinic, clerk, held, action):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(clerk)
    url, body = actions(clinic, held)[action]

    response = browser.post(url, body)

    assert response.status_code == 403 and "CSRF" in response.content.decode()
    assert unchanged(held)


@pytest.mark.parametrize("action", ["book", "cancel", "move", "absence"])
def test_every_form_carries_its_csrf_token(desk, clinic, held, action):
    url, _body = actions(clinic, held)[action]

    response = desk.get(url)

    assert response.status_code == 200
    assert 'name="csrfmiddlewaretoken"' in response.content.decode()


def test_a_patients_name_is_shown_as_text_never_as_markup(desk, clinic):
    day = clinic["day"]
    hostile = PatientFactory(first_name="<script>alert(1)</script>", second_name='"><img src=x onerror=alert(2)>')
    appointment = AppointmentFactory(resource=clinic["d1"], activity=clinic["visit"], patient=hostile,
                                     start=at(day, "09:00"), notes="<b>notes</b>")  # fmt: skip

    pages = [
        desk.get(desk_url("day", center="MAD", date=ddmmyyyy(day))),
        desk.get(desk_url("week", doctor="D1", date=ddmmyyyy(day))),
        desk.get(desk_url("print", center="MAD", date=ddmmyyyy(day))),
        desk.get(desk_url("cancel", appointment.lid)),
        desk.get(desk_url("move", appointment.lid)),
        desk.get(desk_url("book", slot=slot_lid(clinic), q="script")),
    ]

    for response in pages:
        content = response.content.decode()
        assert response.status_code == 200
        assert "<script>alert" not in content and "<img src=x" not in content
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content


def test_a_message_naming_a_hostile_patient_is_escaped_too(desk, clinic):
    PatientFactory(lid="P66", first_name="<script>alert(3)</script>", second_name="X")

    response = desk.post(
        desk_url("book"), {"slot": slot_lid(clinic), "activity": "VIS", "origin": "DESK", "patient": "P66"}, follow=True
    )

    content = response.content.decode()
    assert Appointment.objects.filter(patient__lid="P66").exists()
    assert "Booked:" in content and "<script>alert(3)" not in content and "&lt;script&gt;alert(3)" in content


def test_an_integration_clients_credentials_open_no_desk_page(client, clinic, held, make_client):
    creds = make_client(name="tuotempo-lpa", centers=["LPA"])
    url, body = actions(clinic, held)["cancel"]

    for authorization in (creds.basic(), creds.bearer()):
        seen = client.get(desk_url("day", center="MAD"), HTTP_AUTHORIZATION=authorization)
        acted = client.post(url, body, HTTP_AUTHORIZATION=authorization)
        assert seen.status_code == 302 and "/admin/login/" in seen["Location"]
        assert acted.status_code == 302 and "/admin/login/" in acted["Location"]
    assert unchanged(held)
