"""Simultaneous bookings of one slot, over each surface: exactly one gets OK, every other caller gets
its answer (ERROR, CONFLICT), nobody gets a server error, and every participant reports."""

import re
import threading

import pytest
import requests

from appointments.models import Appointment
from patients.models import Patient
from tests.webservices.test_booking_surfaces import clinic, future_day, search  # noqa: F401 (fixture)

pytestmark = pytest.mark.live

RACERS = 20
SOAP_ENVELOPE = """<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" \
xmlns:ws="http://tuotempo.his/ws"><soapenv:Body><ws:addAppointment>\
<ws:AVAILABILITY_LID>{slot}</ws:AVAILABILITY_LID><ws:USER_FIRST_NAME>P{n}</ws:USER_FIRST_NAME>\
<ws:USER_SECOND_NAME>Test</ws:USER_SECOND_NAME><ws:USER_ID_NUMBER>ID{n}</ws:USER_ID_NUMBER>\
</ws:addAppointment></soapenv:Body></soapenv:Envelope>"""


def race(call) -> dict[int, object]:
    """Runs call(n) in RACERS threads released together; n -> its answer, or the exception it raised."""
    barrier = threading.Barrier(RACERS, timeout=30)
    outcomes: dict[int, object] = {}

    def run(n):
        try:
            barrier.wait()
            outcomes[n] = call(n)
        except Exception as exc:  # reported by the callers' assertions, never lost with the thread
            outcomes[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes) == list(range(RACERS)), f"only {len(outcomes)} of {RACERS} reported"
    errors = {n: o for n, o in outcomes.items() if isinstance(o, Exception)}
    assert errors == {}, errors
    return outcomes


def test_twenty_simultaneous_rest_bookings_of_one_slot_give_exactly_one_ok(live_server, clinic, creds):  # noqa: F811
    from tests.surfaces import Rest

    slot = search(Rest(live_server.url), creds, future_day()).payload[0]

    def book(n):
        response = requests.post(
            f"{live_server.url}/api/addappointment",
            timeout=60,
            headers={"Authorization": creds.basic()},
            json={
                "availability_lid": slot["AVAILABILITY_LID"],
                "user_first_name": f"P{n}",
                "user_second_name": "Test",
                "user_id_number": f"ID{n}",
            },
        )
        return response.status_code, response.json()

    answers = list(race(book).values())
    assert all(status < 500 for status, _ in answers), answers
    winners = [body for status, body in answers if status == 200 and body["return"]["ADD_RESULT"] == "OK"]
    losers = [(status, body) for status, body in answers if body["return"]["ADD_RESULT"] != "OK"]
    assert len(winners) == 1 and len(losers) == RACERS - 1, answers
    slot_words = f"{slot['AVA_DATE']} {slot['AVA_START_TIME']} with RESOURCE_LID D1 is no longer available"
    for status, body in losers:
        assert (status, body["result"], body["code"]) == (409, "ERROR", "CONFLICT")
        assert slot_words in body["return"]["ERROR_MESSAGE"] and body["return"]["APP_LID"] is None
    assert Appointment.objects.get().lid == winners[0]["return"]["APP_LID"]
    assert Patient.objects.count() == 1  # the losers' new patients were rolled back with their bookings


def test_twenty_simultaneous_soap_bookings_of_one_slot_give_exactly_one_ok(live_server, clinic, creds):  # noqa: F811
    from tests.surfaces import Rest

    slot = search(Rest(live_server.url), creds, future_day()).payload[0]

    def book(n):
        response = requests.post(
            f"{live_server.url}/soap/",
            data=SOAP_ENVELOPE.format(slot=slot["AVAILABILITY_LID"], n=n).encode(),
            headers={"Authorization": creds.basic(), "Content-Type": "text/xml; charset=utf-8"},
            timeout=60,
        )
        return response.status_code, response.text

    answers = list(race(book).values())
    # Business failures of addAppointment travel in ADD_RESULT, never as a fault (contract section 3).
    assert all(status == 200 and "Fault>" not in text for status, text in answers), answers
    results = [re.search(r"<tns:ADD_RESULT>(\w+)</tns:ADD_RESULT>", text)[1] for _, text in answers]
    assert sorted(results) == ["ERROR"] * (RACERS - 1) + ["OK"], answers
    slot_words = f"{slot['AVA_DATE']} {slot['AVA_START_TIME']} with RESOURCE_LID D1 is no longer available"
    for (_, text), result in zip(answers, results, strict=True):
        if result == "ERROR":
            assert slot_words in text and '<tns:APP_LID xsi:nil="true"/>' in text, text
        else:
            winner = re.search(r"<tns:APP_LID>([^<]+)</tns:APP_LID>", text)[1]
    assert Appointment.objects.get().lid == winner
    assert Patient.objects.count() == 1
