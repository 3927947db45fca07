"""The desk in a real browser: Debian's headless Chromium driven by Selenium against a live server.

A clerk opens the day, books a free slot, sees it appear, cancels it, moves another appointment, and
tries to book a slot that tuOtempO took over REST a moment earlier. The day and week views are saved
as screenshots into the test's temporary folder, or into docs/ (which docs/desk.md shows) when
HIS_REFRESH_SCREENSHOTS=1 asks for it: a test run leaves the tree as it found it.

Chromium and chromedriver are system packages (`apt-get install chromium chromium-driver`, done by
.ci/run). Without them these tests are skipped on a developer's machine, and FAIL when `CI` is set.
"""

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.core.management import call_command
from django.db.models import Count, Q

from appointments.models import Absence, Appointment, AppointmentStatus, Origin, Resource
from appointments.services import MSG_SLOT_TAKEN, local_label
from demo.factories import AppointmentFactory, PatientFactory
from tests.desk.conftest import PASSWORD, at, ddmmyyyy, desk_slots, desk_slots_at, desk_url, future_monday
from tests.messages import said

pytestmark = [pytest.mark.browser, pytest.mark.live]

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
)  # fmt: skip
DOCS = Path(settings.BASE_DIR) / "docs"
SCREENSHOTS = ("desk-day.png", "desk-week.png")


def screenshot_folder(tmp_path: Path) -> Path:
    """docs/ when HIS_REFRESH_SCREENSHOTS=1 asks to refresh the documentation's pictures, else a folder
    of the test's own."""
    return DOCS if os.environ.get("HIS_REFRESH_SCREENSHOTS") == "1" else tmp_path


def executable(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
        if found:
            return found
    return None


def browser_binaries() -> tuple[str, str]:
    """Chromium and chromedriver: without them the browser tests are skipped, and FAIL when CI is set."""
    chromium, driver = executable("chromium", "chromium-browser"), executable("chromedriver")
    if chromium is None or driver is None:
        message = (
            "the browser tests need Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"{message}: missing in CI")
        pytest.skip(message)
    return chromium, driver


@pytest.fixture
def browser(tmp_path):
    chromium, driver = browser_binaries()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    options.add_argument("--window-size=1440,900")
    options.add_argument("--lang=en-GB")
    chrome = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    chrome.implicitly_wait(0)
    yield chrome
    chrome.quit()


class Clerk:
    """What a clerk does with the browser, in a few words per step."""

    def __init__(self, browser, base_url: str):
        self.browser, self.base_url = browser, base_url

    def open(self, path: str):
        self.browser.get(self.base_url + path)

    def log_in(self, username: str, next_path: str):
        from selenium.webdriver.common.by import By

        self.open(next_path)  # the desk sends an anonymous visitor to the admin's login
        assert "/admin/login/" in self.browser.current_url
        self.browser.find_element(By.NAME, "username").send_keys(username)
        self.browser.find_element(By.NAME, "password").send_keys(PASSWORD)
        self.submit("input[type=submit]")
        assert self.browser.current_url == self.base_url + next_path

    def submit(self, css: str):
        """Clicks a button or link and waits until the page it leads to has loaded."""
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.support.wait import WebDriverWait

        self.browser.execute_script("window.deskOldPage = true;")
        self.find(css).click()
        WebDriverWait(self.browser, 20, ignored_exceptions=(WebDriverException,)).until(
            lambda b: b.execute_script("return !window.deskOldPage && document.readyState === 'complete';")
        )

    def find(self, css: str):
        from selenium.webdriver.common.by import By

        return self.browser.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str):
        from selenium.webdriver.common.by import By

        return self.browser.find_elements(By.CSS_SELECTOR, css)

    def wait_for(self, css: str):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions
        from selenium.webdriver.support.wait import WebDriverWait

        return WebDriverWait(self.browser, 20).until(
            expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css))
        )

    def messages(self) -> list[str]:
        return [m.text for m in self.find_all(".messages .message")]

    def path(self) -> str:
        return self.browser.current_url.removeprefix(self.base_url)


@pytest.fixture
def clerk_in(browser, live_server, clerk):
    return Clerk(browser, live_server.url)


def test_a_clerk_books_a_free_slot_sees_it_and_cancels_it(clerk_in, clinic):
    from selenium.webdriver.common.keys import Keys

    lucia = PatientFactory(lid="P50", first_name="Lucía", second_name="Martín", third_name="", mobile_phone="600111222")
    day_path = desk_url("day", center="MAD", date=ddmmyyyy(clinic["day"]))
    slot = desk_slots_at(clinic["d2"], at(clinic["day"], "10:00"))[0]

    clerk_in.log_in("clerk", day_path)
    assert [" ".join(h.text.split()) for h in clerk_in.find_all("th.col-head")] == ["Ana García D1", "Luis Pérez D2"]
    clerk_in.find(f'a.free[href*="slot={slot.lid}"]').send_keys(Keys.ENTER)  # with the keyboard
    clerk_in.wait_for("input[name=q]")
    assert clerk_in.path().startswith("/desk/book/")
    search = clerk_in.browser.switch_to.active_element  # the search field has the focus
    assert search.get_attribute("name") == "q"
    search.send_keys("600 111 222", Keys.ENTER)
    clerk_in.wait_for('input[name=patient][value="P50"]').click()
    clerk_in.find('input[name=origin][value="PHONE"]').click()
    clerk_in.submit("button.primary")

    booked = Appointment.objects.get()
    assert (booked.patient, booked.resource, booked.start, booked.origin) == (lucia, clinic["d2"], slot.start,
                                                                               Origin.PHONE)  # fmt: skip
    assert clerk_in.path() == f"{day_path}#app-{booked.lid}"
    assert clerk_in.messages() == [
        f"Booked: {ddmmyyyy(clinic['day'])} 10:00 with Luis Pérez (D2), Visita, for Lucía Martín (P50)."
    ]
    card = clerk_in.find(f"#app-{booked.lid}")
    assert "10:00–10:30" in card.text and "Lucía Martín" in card.text and "PHONE" in card.text.upper()
    assert not clerk_in.find_all(f'a.free[href*="slot={slot.lid}"]')

    clerk_in.submit(f'#app-{booked.lid} a[href^="/desk/appointments/{booked.lid}/cancel/"]')
    clerk_in.find('input[name=reason][value="user"]').click()
    clerk_in.submit("button.danger")

    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.CANCELLED_BY_USER
    assert clerk_in.messages()[0].startswith(f"Appointment {booked.lid} ")
    card = clerk_in.find(f"#app-{booked.lid}")
    assert "cancelled" in card.get_attribute("class") and "Cancelled by the patient" in card.text
    assert card.find_element("css selector", "del").text == "10:00–10:30"
    assert clerk_in.find_all(f'a.free[href*="slot={slot.lid}"]')  # bookable again


def test_a_clerk_moves_an_appointment_to_another_doctor(clerk_in, clinic):
    held = AppointmentFactory(resource=clinic["d1"], activity=clinic["visit"], start=at(clinic["day"], "09:00"))
    target = desk_slots_at(clinic["d2"], at(clinic["day"], "09:30"), clinic["visit"])[0]
    day_path = desk_url("day", center="MAD", date=ddmmyyyy(clinic["day"]))

    clerk_in.log_in("clerk", day_path)
    clerk_in.submit(f'#app-{held.lid} a[href="/desk/appointments/{held.lid}/move/"]')
    assert clerk_in.path() == desk_url("move", held.lid)
    clerk_in.submit(f'form:has(input[value="{target.lid}"]) button')

    held.refresh_from_db()
    assert (held.resource, held.start) == (clinic["d2"], target.start)
    assert clerk_in.messages() == [
        f"Appointment {held.lid} ({held.patient}) moved to {ddmmyyyy(clinic['day'])} 09:30 with Luis Pérez (D2)."
    ]
    columns = [" ".join(h.text.split()) for h in clerk_in.find_all("th.col-head")]
    card = clerk_in.find(f"#app-{held.lid}")
    cell = card.find_element("xpath", "./ancestor::td")
    assert columns[int(cell.get_attribute("cellIndex")) - 1] == "Luis Pérez D2"


def test_a_slot_tuotempo_took_a_moment_earlier_is_refused_with_a_plain_sentence(clerk_in, clinic, live_server,
                                                                                  make_client):  # fmt: skip
    creds = make_client()
    slot = desk_slots_at(clinic["d2"], at(clinic["day"], "09:00"))[0]
    day_path = desk_url("day", center="MAD", date=ddmmyyyy(clinic["day"]))

    clerk_in.log_in("clerk", day_path)
    clerk_in.submit(f'a.free[href*="slot={slot.lid}"]')
    clerk_in.find('input[name=patient][value="new"]').click()
    clerk_in.find("input[name=first_name]").send_keys("Eva")
    clerk_in.find("input[name=second_name]").send_keys("Ruiz")
    # Meanwhile tuOtempO books the same slot over REST.
    online = requests.post(
        f"{live_server.url}/api/addappointment",
        headers={"Authorization": creds.basic()},
        json={"AVAILABILITY_LID": slot.lid, "USER_FIRST_NAME": "Pablo", "USER_SECOND_NAME": "Online"},
        timeout=30,
    ).json()
    assert online["return"]["ADD_RESULT"] == "OK", online
    clerk_in.submit("button.primary")

    expected = said(MSG_SLOT_TAKEN, when=local_label(clinic["d2"], slot.start), resource="D2")
    assert clerk_in.path() == day_path
    assert clerk_in.messages() == [expected[0].upper() + expected[1:]]
    taken = Appointment.objects.get()
    assert taken.origin == Origin.ONLINE and taken.patient.full_name == "Pablo Online"
    card = clerk_in.find(f"#app-{taken.lid}")
    assert "Pablo Online" in card.text and "ONLINE" in card.text.upper()
    assert not Appointment.objects.filter(patient__first_name="Eva").exists()


def busiest_doctor_at_work(doctors, day: dt.date) -> Resource:
    """The doctor with the most appointments in the week of `day` among those not absent that week."""
    monday = day - dt.timedelta(days=day.weekday())
    since, until = at(monday, "00:00"), at(monday + dt.timedelta(days=7), "00:00")
    absent = Absence.objects.filter(start__lt=until, end__gt=since, resource__isnull=False).values("resource_id")
    booked = Count("appointments", filter=Q(appointments__start__gte=since, appointments__start__lt=until))
    return doctors.exclude(pk__in=absent).annotate(booked=booked).order_by("-booked", "lid").first()


def test_screenshots_of_the_day_and_week_of_the_demo_hospital(browser, live_server, clerk, tmp_path):
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    day = future_monday(weeks=1) + dt.timedelta(days=1)  # a Tuesday of the demo's future weeks
    madrid = Resource.objects.filter(location__center__lid="MAD")
    assert desk_slots(madrid, day), "the demo should have free slots"
    clerk_in = Clerk(browser, live_server.url)
    folder = screenshot_folder(tmp_path)
    in_docs = {name: (DOCS / name).read_bytes() for name in SCREENSHOTS if (DOCS / name).exists()}

    clerk_in.log_in("clerk", desk_url("day", center="MAD", date=ddmmyyyy(day)))
    assert len(clerk_in.find_all("th.col-head")) == madrid.count()
    assert clerk_in.find_all(".app") and clerk_in.find_all("a.free")
    browser.save_screenshot(str(folder / "desk-day.png"))

    clerk_in.open(desk_url("week", doctor=busiest_doctor_at_work(madrid, day).lid, date=ddmmyyyy(day)))
    assert len(clerk_in.find_all("th.col-head")) == 7
    browser.save_screenshot(str(folder / "desk-week.png"))

    assert all((folder / name).stat().st_size > 10_000 for name in SCREENSHOTS)
    if folder != DOCS:
        assert {name: (DOCS / name).read_bytes() for name in in_docs} == in_docs  # docs/ untouched
