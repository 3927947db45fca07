"""The desk and tuOtempO book one slot at the same moment, over HTTP against a live server: exactly one
booking is made, whoever wins, and the losers leave nothing behind."""

import re
import threading

import pytest
import requests

from appointments.models import Appointment
from patients.models import Patient
from tests.desk.conftest import PASSWORD, at, desk_slots_at, desk_url

pytestmark = pytest.mark.live


def logged_in_desk(base_url: str, username: str) -> requests.Session:
    session = requests.Session()
    login = f"{base_url}/admin/login/"
    session.get(login, timeout=30)
    answer = session.post(
        login,
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": session.cookies["csrftoken"],
              "next": "/desk/"},
        headers={"Referer": login},
        timeout=30,
    )  # fmt: skip
    assert answer.url == f"{base_url}/desk/", answer.url
    return session


def test_the_desk_and_tuotempo_never_book_one_slot_twice(live_server, clinic, clerk, make_client):
    creds = make_client()
    slot = desk_slots_at(clinic["d2"], at(clinic["day"], "09:00"))[0]
    clerks = [logged_in_desk(live_server.url, clerk.username) for _ in range(4)]
    barrier = threading.Barrier(8, timeout=60)
    outcomes = []

    def book_at_desk(n: int, session: requests.Session):
        url = f"{live_server.url}{desk_url('book', slot=slot.lid)}"
        form = session.get(url, timeout=60).text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
        barrier.wait()
        answer = session.post(
            url,
            data={"csrfmiddlewaretoken": token, "slot": slot.lid, "activity": "VIS", "origin": "DESK",
                  "patient": "new", "first_name": f"Desk{n}", "second_name": "Test", "register_anyway": "on"},
            headers={"Referer": url},
            timeout=60,
        )  # fmt: skip
        outcomes.append(("desk", answer.status_code))

    def book_online(n: int):
        barrier.wait()
        answer = requests.post(
            f"{live_server.url}/api/addappointment",
            headers={"Authorization": creds.basic()},
            json={"AVAILABILITY_LID": slot.lid, "USER_FIRST_NAME": f"Online{n}", "USER_SECOND_NAME": "Test"},
            timeout=60,
        )
        outcomes.append(("online", answer.status_code))

    threads = [threading.Thread(target=book_at_desk, args=(n, s)) for n, s in enumerate(clerks)]
    threads += [threading.Thread(target=book_online, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(outcomes) == 8 and all(status < 500 for _, status in outcomes), outcomes
    booked = Appointment.objects.get()  # exactly one, whoever won
    assert booked.start == slot.start and booked.resource == clinic["d2"]
    assert list(Patient.objects.values_list("first_name", flat=True)) == [booked.patient.first_name]
