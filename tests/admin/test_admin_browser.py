"""The admin in Debian's headless Chromium, as a clerk uses it: a Las Palmas doctor booked at 09:00 is
09:00 for tuOtempO over REST, the form names the center's zone and shows no "hours behind server time"
note, and the appointment list fits a 1440-pixel screen. The last test writes the admin's screenshots
into its own folder, or into docs/ when HIS_REFRESH_SCREENSHOTS=1 asks for it.

Chromium and chromedriver as for the desk's browser tests (skipped without them, FAIL under CI)."""

import datetime as dt
import os
from urllib.parse import quote

import pytest
import requests
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment, Resource
from clients.services import create_integration_client
from demo.factories import PatientFactory
from tests.desk.conftest import PASSWORD, ddmmyyyy, make_user
from tests.desk.test_browser import DOCS, Clerk, screenshot_folder

pytestmark = [pytest.mark.browser, pytest.mark.live]
SCREENSHOTS = ("admin-appointments.png", "admin-appointment-form.png")


@pytest.fixture
def manager(db):
    return make_user("manager", perms=(), superuser=True)


def log_in(clerk: Clerk, path: str):
    clerk.open(f"/admin/login/?next={quote(path)}")
    clerk.find("input[name=username]").send_keys("manager")
    clerk.find("input[name=password]").send_keys(PASSWORD)
    clerk.submit("input[type=submit]")


def visible_timezone_notes(clerk: Clerk) -> list[str]:
    return [note.text for note in clerk.find_all(".timezonewarning") if note.is_displayed()]


def test_a_las_palmas_doctor_booked_at_nine_in_the_admin_is_nine_over_rest(browser, live_server, clinic, manager):
    from selenium.webdriver.support.wait import WebDriverWait

    # The browser's own clock is UTC, an hour from Madrid and, in summer, from Las Palmas too.
    doctor, visit, day = clinic["d3"], clinic["visit"], clinic["day"]
    patient = PatientFactory(lid="P77", first_name="Nira", second_name="Suárez")
    clerk = Clerk(browser, live_server.url)
    add = (
        reverse("admin:appointments_appointment_add")
        + f"?resource={doctor.pk}&activity={visit.pk}&patient={patient.pk}"
    )

    # Picking the doctor names the zone before anything is typed.
    log_in(clerk, reverse("admin:appointments_appointment_add"))
    assert "Atlantic/Canary" not in clerk.find(".field-start").text
    clerk.browser.execute_script(
        "django.jQuery('#id_resource').append(new Option('D3', arguments[0], true, true)).trigger('change');", doctor.pk
    )
    WebDriverWait(clerk.browser, 20).until(lambda b: "Atlantic/Canary" in clerk.find(".field-start").text)
    assert "Clínica Las Palmas" in clerk.find(".field-end").text

    clerk.open(add)
    assert "Atlantic/Canary" in clerk.find(".field-start").text
    assert visible_timezone_notes(clerk) == []
    clerk.find("input[name=start_0]").send_keys(ddmmyyyy(day))
    clerk.find("input[name=start_1]").send_keys("09:00")
    clerk.submit("input[name=_save]")

    booked = Appointment.objects.get()
    assert booked.start == dt.datetime.combine(day, dt.time(9), doctor.location.center.zone)
    assert any(f"{ddmmyyyy(day)} 09:00" in m.text for m in clerk.find_all(".messagelist li"))
    _client, secret = create_integration_client(name="tuotempo-browser")
    answer = requests.get(
        f"{live_server.url}/api/checkappointment",
        params={"APP_LID": booked.lid},
        headers={"Authorization": f"Bearer {secret}"},
        timeout=30,
    ).json()
    assert answer["result"] == "OK"
    assert (answer["return"]["APP_DATE"], answer["return"]["APP_START_TIME"]) == (ddmmyyyy(day), "09:00")
    assert answer["return"]["APP_END_TIME"] == "09:30"  # the visit's 30 minutes: no end was typed

    clerk.open(reverse("admin:appointments_appointment_change", args=[booked.pk]))
    assert clerk.find("input[name=start_1]").get_attribute("value") == "09:00"
    assert clerk.find("h2").text == f"{booked.lid} · {ddmmyyyy(day)} 09:00 · D3"
    assert visible_timezone_notes(clerk) == []


def test_screenshots_of_the_appointment_list_and_form_of_the_demo_hospital(browser, live_server, manager, tmp_path):
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    clerk = Clerk(browser, live_server.url)
    folder = screenshot_folder(tmp_path)
    in_docs = {name: (DOCS / name).read_bytes() for name in SCREENSHOTS if (DOCS / name).exists()}

    log_in(clerk, reverse("admin:appointments_appointment_changelist") + "?when=week")
    rows = clerk.find_all("#result_list tbody tr")
    assert rows
    # Fits a 1440-pixel screen: nothing to scroll sideways, neither the page nor the list.
    assert clerk.browser.execute_script("return document.documentElement.scrollWidth") <= 1440
    results = clerk.find(".results")
    widths = clerk.browser.execute_script(
        "return [arguments[0].scrollWidth, arguments[0].clientWidth,"
        " Array.from(document.querySelectorAll('#result_list thead th')).map(th => th.offsetWidth)]",
        results,
    )
    assert widths[0] <= widths[1], widths
    browser.save_screenshot(str(folder / "admin-appointments.png"))

    # A Las Palmas doctor booked on a Sunday evening: the form comes back with the desk's warning to confirm.
    doctor = Resource.objects.filter(location__center__lid="LPA").order_by("lid").first()
    activity = doctor.resource_activities.select_related("activity").first().activity
    patient = PatientFactory(lid="P-SHOT", first_name="Ana", second_name="Prueba")
    sunday = timezone.localdate() + dt.timedelta(days=6 - timezone.localdate().weekday() + 7)
    clerk.open(
        reverse("admin:appointments_appointment_add")
        + f"?resource={doctor.pk}&activity={activity.pk}&patient={patient.pk}"
    )
    clerk.find("input[name=start_0]").send_keys(ddmmyyyy(sunday))
    clerk.find("input[name=start_1]").send_keys("20:00")
    clerk.submit("input[name=_save]")
    assert "is outside the opening hours of" in clerk.find(".errornote, .errorlist").text or clerk.find_all(
        "ul.errorlist.nonfield li"
    )
    assert not Appointment.objects.filter(patient=patient).exists()
    assert clerk.browser.execute_script("return document.documentElement.scrollWidth") <= 1440
    browser.save_screenshot(str(folder / "admin-appointment-form.png"))

    assert all((folder / name).stat().st_size > 10_000 for name in SCREENSHOTS)
    if folder != DOCS:
        assert {name: (DOCS / name).read_bytes() for name in in_docs} == in_docs  # docs/ untouched
