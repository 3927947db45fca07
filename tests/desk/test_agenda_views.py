"""The day and week views: appointments with their patient, activity, insurance and origin, cancelled
ones struck through, free slots as bookable gaps, absences and holidays shaded, on each center's wall
clock, with filters kept in the URL."""

import datetime as dt
import re
from html import unescape

import pytest

from appointments.models import AppointmentStatus, Origin
from demo.factories import AbsenceFactory, AppointmentFactory, PatientFactory
from tests.desk.conftest import CANARY, at, ddmmyyyy, desk_slots, desk_url


def text(response) -> str:
    """The page as a reader sees it: tags dropped, spaces collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def column_heads(response) -> list[str]:
    heads = re.findall(r'<th scope="col" class="col-head">(.*?)</th>', response.content.decode(), re.S)
    return [re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", h))).strip() for h in heads]


def book_links(response) -> list[str]:
    return re.findall(r'class="free" href="/desk/book/\?slot=([^&"]+)', response.content.decode())


@pytest.fixture
def booked(clinic):
    day = clinic["day"]
    patient = PatientFactory(first_name="Lucía", second_name="Martín", third_name="", lid="P77")
    online = AppointmentFactory(
        resource=clinic["d1"], activity=clinic["visit"], insurance=clinic["san"], patient=patient,
        start=at(day, "09:30"), origin=Origin.ONLINE,
    )  # fmt: skip
    pedro = PatientFactory(first_name="Pedro", second_name="Gil", third_name="")
    cancelled = AppointmentFactory(
        resource=clinic["d2"], activity=clinic["visit"], start=at(day, "10:00"), origin=Origin.PHONE,
        status=AppointmentStatus.CANCELLED_BY_USER, patient=pedro,
    )  # fmt: skip
    return {"online": online, "cancelled": cancelled}


def test_the_day_shows_each_doctor_with_appointments_and_free_slots(desk, clinic, booked):
    day = clinic["day"]

    response = desk.get(desk_url("day", center="MAD", date=ddmmyyyy(day)))

    assert response.status_code == 200
    assert column_heads(response) == ["Ana García D1", "Luis Pérez D2"]
    page = text(response)
    assert f"Hospital Madrid · {day:%A} {ddmmyyyy(day)}" in page and "Times in Europe/Madrid" in page
    assert "09:30–10:00 Online Lucía Martín P77 Visita · Sanitas" in page
    content = response.content.decode()
    assert re.search(r'class="app origin-phone cancelled"[^>]*>.*?<del>10:00–10:30</del>', content, re.S)
    assert "Cancelled by the patient" in page
    expected = desk_slots([clinic["d1"], clinic["d2"]], day)
    free_times = {(s.resource.lid, f"{s.start:%H:%M}") for s in expected}
    assert ("D1", "09:30") not in free_times and ("D2", "10:00") in free_times  # cancelled: bookable again
    # One gap per doctor and start time (several activities may be free then): each links to one slot.
    assert len(book_links(response)) == len(free_times)
    assert set(book_links(response)) <= {s.lid for s in expected}


def test_a_las_palmas_day_is_on_the_canary_wall_clock(desk, clinic):
    day = clinic["day"]
    AppointmentFactory(resource=clinic["d3"], activity=clinic["visit"], start=at(day, "09:00", CANARY))

    response = desk.get(desk_url("day", center="LPA", date=ddmmyyyy(day)))

    page = text(response)
    assert "Times in Atlantic/Canary" in page and "09:00–09:30" in page and "Free 09:30" in page
    assert "10:00–10:30" not in page  # what Madrid's clock would have said


def test_filters_narrow_the_doctors_and_the_free_slots_and_stay_in_the_links(desk, clinic, booked):
    day = clinic["day"]

    by_doctor = desk.get(desk_url("day", center="MAD", doctor="D2", date=ddmmyyyy(day)))
    by_activity = desk.get(desk_url("day", center="MAD", activity="ECG", date=ddmmyyyy(day)))
    by_insurance = desk.get(desk_url("day", center="MAD", insurance="SAN", date=ddmmyyyy(day)))

    assert column_heads(by_doctor) == ["Luis Pérez D2"]
    assert column_heads(by_activity) == ["Ana García D1"]
    assert {link.split("-")[-1] for link in book_links(by_activity)} == {str(clinic["ecg"].pk)}
    assert len(book_links(by_activity)) == 6  # 09:00-11:00 every 15 minutes but the 09:30 visit
    assert column_heads(by_insurance) == ["Ana García D1"]
    assert "&amp;insurance=SAN" in by_insurance.content.decode()  # the gap books with that insurance
    nxt = ddmmyyyy(day + dt.timedelta(days=1)).replace("/", "%2F")
    assert f'href="/desk/?center=MAD&amp;doctor=D2&amp;date={nxt}"' in by_doctor.content.decode()
    assert 'href="/desk/?center=MAD&amp;doctor=D2" accesskey="t"' in by_doctor.content.decode()


def test_without_a_date_the_day_is_today_in_the_center(desk, clinic, settings):
    from appointments.agenda import today_of

    response = desk.get(desk_url("day", center="LPA"))

    assert ddmmyyyy(today_of(clinic["canary"])) in text(response)


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"center": "NOPE"}, "Center", "Select a valid choice"),
        ({"center": "MAD", "doctor": "D3"}, "Doctor", "Select a valid choice"),  # D3 works in Las Palmas
        ({"center": "MAD", "date": "31/02/2027"}, "Date", "Enter a valid date"),
        ({"center": "MAD", "activity": "<b>x</b>"}, "Activity", "Select a valid choice"),
    ],
)
def test_a_bad_filter_is_refused_naming_it(desk, clinic, params, field, message):
    response = desk.get(desk_url("day", **params))

    assert response.status_code == 400
    content = response.content.decode()
    assert re.search(rf"<span>{field}</span>.*?<em class=\"error\">{message}", content, re.S)
    assert "<b>x</b>" not in content


def test_absences_and_holidays_are_shaded_and_their_appointments_flagged(desk, clinic):
    day = clinic["day"]
    inside = AppointmentFactory(resource=clinic["d1"], activity=clinic["visit"], start=at(day, "09:00"))
    AbsenceFactory(resource=clinic["d1"], start=at(day, "08:00"), end=at(day, "10:00"), reason="Congreso")
    AbsenceFactory(resource=None, center=clinic["canary"], start=at(day, "00:00", CANARY),
                   end=at(day + dt.timedelta(days=1), "00:00", CANARY), reason="Fiesta local")  # fmt: skip

    madrid = desk.get(desk_url("day", center="MAD", date=ddmmyyyy(day)))
    canary = desk.get(desk_url("day", center="LPA", date=ddmmyyyy(day)))

    content = madrid.content.decode()
    assert f"Absent {day:%d/%m} 08:00–{day:%d/%m} 10:00: Congreso" in text(madrid)
    assert re.search(rf'<td class="closed">\s*<article class="app origin-desk to-move" id="app-{inside.lid}"', content)
    assert "Inside an absence: to be moved" in text(madrid)
    assert not any(link.split("-")[1] == str(clinic["d1"].pk) and "T08" in link for link in book_links(madrid))
    assert "Holiday" in text(canary) and "Fiesta local" in text(canary) and book_links(canary) == []


def test_the_week_of_one_doctor_has_a_column_per_day(desk, clinic, booked):
    day = clinic["day"]

    response = desk.get(desk_url("week", doctor="D1", date=ddmmyyyy(day + dt.timedelta(days=2))))

    assert response.status_code == 200
    heads = column_heads(response)
    assert heads == [f"{day + dt.timedelta(days=n):%a %d/%m/%Y}" for n in range(7)]
    assert "Ana García (D1) · week of " + ddmmyyyy(day) in text(response)
    assert "Lucía Martín" in text(response) and "Pedro Gil" not in text(response)
    # 09:00-11:00 every 15 minutes (the ECG's step) each day, but the Monday 09:30-10:00 visit.
    assert len(book_links(response)) == 7 * 8 - 2


def test_the_week_asks_for_a_doctor(desk, clinic):
    response = desk.get(desk_url("week", center="MAD"), follow=True)

    assert "Choose a doctor to see their week." in text(response)


def test_the_printed_day_lists_each_doctors_appointments(desk, clinic, booked):
    response = desk.get(desk_url("print", center="MAD", date=ddmmyyyy(clinic["day"])))

    page = text(response)
    assert response.status_code == 200
    assert "Ana García (D1)" in page and "09:30–10:00 Lucía Martín P77" in page
    assert "Pedro Gil (cancelled)" in page and "Free" not in page
    assert response.content.decode().count('<section class="day-list') == 2  # one printed page per doctor
