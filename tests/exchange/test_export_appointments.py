"""export_appointments: the guide's A.1.1 file, compared with what SearchAppointments answers over
REST for the same window, and never another center's rows under --center."""

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from exchange.exports import APPOINTMENT_FIELDS
from exchange.models import ExchangeRun, RunOutcome
from tests.exchange.helpers import header_of, only_file, read_csv, run

pytestmark = pytest.mark.django_db

IN_WINDOW = {"in_2h", "in_30h", "in_50h_cancelled", "in_60h_cancelled_by_admin", "ago_10h"}
GUIDE_ORDER = [
    "APP_LID", "APP_DATE", "APP_START_TIME", "USER_LANDLINE_PHONE", "USER_MOBILE_PHONE", "USER_EMAIL", "RESOURCE_LID",
    "RESOURCE_NAME", "RESOURCE_MOBILE_PHONE", "RESOURCE_EMAIL", "LOCATION_LID", "LOCATION_NAME", "STATUS",
]  # fmt: skip


def export(folder, *args) -> list[dict]:
    status, out, error = run("export_appointments", "--to", f"file://{folder}", *args)
    assert (status, error) == (0, ""), error
    return read_csv(only_file(folder, "appointments_*.csv"))


def test_it_writes_the_guides_columns_in_order_then_status(tmp_path, hospital):
    rows = export(tmp_path)

    assert header_of(only_file(tmp_path, "appointments_*.csv")) == GUIDE_ORDER == list(APPOINTMENT_FIELDS)
    assert {r["APP_LID"] for r in rows} == {f"A-{name}" for name in IN_WINDOW}
    assert {r["APP_LID"]: r["STATUS"] for r in rows} == {
        "A-in_2h": "APPROVED",
        "A-in_30h": "PENDING",
        "A-in_50h_cancelled": "CANCELLED by USER",
        "A-in_60h_cancelled_by_admin": "CANCELLED by ADMIN",
        "A-ago_10h": "APPROVED",
    }
    first = next(r for r in rows if r["APP_LID"] == "A-in_2h")
    assert first | {"APP_DATE": "", "APP_START_TIME": ""} == {
        "APP_LID": "A-in_2h",
        "APP_DATE": "",
        "APP_START_TIME": "",
        "USER_LANDLINE_PHONE": "+34 910 000 001",
        "USER_MOBILE_PHONE": "+34 600 000 001",
        "USER_EMAIL": "p1@example.org",
        "RESOURCE_LID": "D1",
        "RESOURCE_NAME": "Ana Ruiz",
        "RESOURCE_MOBILE_PHONE": hospital.appointments["in_2h"].resource.mobile_phone,
        "RESOURCE_EMAIL": "d1@hospital.example.org",
        "LOCATION_LID": "MAD-CE",
        "LOCATION_NAME": "Madrid CE",
        "STATUS": "APPROVED",
    }


def test_it_carries_no_patient_names_or_id_numbers(tmp_path, hospital):
    export(tmp_path)

    text = only_file(tmp_path, "appointments_*.csv").read_text(encoding="utf-8")
    for secret in ("Lucía", "Secreta", "Marco", "Oculto", "12345678Z", "87654321X", ";P1;", ";P2;"):
        assert secret not in text


def test_dates_and_times_are_each_centers_wall_clock(tmp_path, hospital):
    rows = {r["APP_LID"]: r for r in export(tmp_path)}

    for name, zone in (("in_2h", "Europe/Madrid"), ("in_30h", "Atlantic/Canary")):
        local = timezone.localtime(hospital.appointments[name].start, zoneinfo.ZoneInfo(zone))
        row = rows[f"A-{name}"]
        assert (row["APP_DATE"], row["APP_START_TIME"]) == (f"{local:%d/%m/%Y}", f"{local:%H:%M}")


def test_the_window_follows_the_hours_options(tmp_path, hospital):
    rows = export(tmp_path, "--hours-back", "48", "--hours-ahead", "96")

    assert {r["APP_LID"] for r in rows} == {f"A-{name}" for name in hospital.appointments}


def test_a_merged_patient_is_reached_at_the_record_that_replaced_it(tmp_path, hospital):
    from demo.factories import PatientFactory

    survivor = PatientFactory(lid="P9", mobile_phone="+34 699 999 999", email="new@example.org", landline_phone="")
    old = hospital.appointments["in_2h"].patient
    old.merged_into = survivor
    old.save()

    row = next(r for r in export(tmp_path) if r["APP_LID"] == "A-in_2h")

    assert (row["USER_MOBILE_PHONE"], row["USER_EMAIL"], row["USER_LANDLINE_PHONE"]) == (
        "+34 699 999 999",
        "new@example.org",
        "",
    )


def test_each_run_is_recorded_in_the_exchange_log(tmp_path, hospital):
    export(tmp_path, "--center", "MAD")

    logged = ExchangeRun.objects.get()
    assert logged.command == "export_appointments"
    assert logged.destination == f"file://{tmp_path}"
    assert logged.options == "--hours-back 24 --hours-ahead 72 --center MAD"
    assert (logged.outcome, logged.rows, logged.errors) == (RunOutcome.OK, 2, 0)
    assert logged.files == only_file(tmp_path, "appointments_*.csv").name
    assert logged.duration_ms >= 0


def test_an_unknown_center_is_refused(tmp_path, hospital):
    status, _, error = run("export_appointments", "--to", f"file://{tmp_path}", "--center", "XXX")

    assert (status, error) == (1, "CENTER_LID 'XXX' does not exist.")
    assert list(tmp_path.iterdir()) == []
    assert ExchangeRun.objects.get().outcome == RunOutcome.FAILED


def test_a_bad_number_of_hours_is_refused(tmp_path, hospital):
    status, _, error = run("export_appointments", "--to", f"file://{tmp_path}", "--hours-ahead", "-3")

    assert status == 1
    assert "--hours-ahead" in error and "'-3'" in error
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- the same rows as SearchAppointments


def search_appointments(rest_surface, creds, hospital) -> list[dict]:
    """SearchAppointments over REST for the days around the window, cut to the window's instants."""
    zones = {"D1": hospital.mad.zone, "D2": hospital.lpa.zone}
    answer = rest_surface.call(
        "SearchAppointments",
        {
            "START_DATE": f"{hospital.now - dt.timedelta(days=2):%d/%m/%Y}",
            "END_DATE": f"{hospital.now + dt.timedelta(days=4):%d/%m/%Y}",
        },
        authorization=creds.basic(),
    )
    assert answer.ok, answer.message
    start, end = hospital.now - dt.timedelta(hours=24), hospital.now + dt.timedelta(hours=72)
    inside = []
    for row in answer.payload:
        moment = dt.datetime.strptime(f"{row['APP_DATE']} {row['APP_START_TIME']}", "%d/%m/%Y %H:%M")
        if start <= moment.replace(tzinfo=zones[row["RESOURCE_LID"]]) < end:
            inside.append(row)
    return inside


def comparable(row: dict) -> tuple:
    status = row["STATUS"]
    state = "Confirmed" if status in ("PENDING", "APPROVED", "Confirmed") else "Cancelled"
    return (
        row["APP_LID"],
        row["APP_DATE"],
        row["APP_START_TIME"],
        row["USER_MOBILE_PHONE"] or "",
        row["USER_EMAIL"] or "",
        row["RESOURCE_LID"],
        state,
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("center", [None, "MAD", "LPA"])
def test_the_rows_are_those_search_appointments_answers_for_the_window(
    tmp_path, hospital, rest_surface, make_client, center
):
    creds = make_client(name=f"all-{center}", centers=[center] if center else None)
    expected = search_appointments(rest_surface, creds, hospital)

    rows = export(tmp_path, *(["--center", center] if center else []))

    assert sorted(map(comparable, rows)) == sorted(map(comparable, expected))
    assert len(rows) == {None: 5, "MAD": 2, "LPA": 3}[center]
    if center:
        resources = {"MAD": {"D1"}, "LPA": {"D2"}}[center]
        assert {r["RESOURCE_LID"] for r in rows} == resources
        assert {r["LOCATION_LID"] for r in rows} == {f"{center}-CE"}
