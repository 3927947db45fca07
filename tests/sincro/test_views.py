"""The TT_* views as the agent reads them over a plain DB-API connection: the guide's columns and
formats, and free slots computed from the views alone equal to what searchAvailabilities offers."""

import datetime as dt
import re
from collections import defaultdict

import pytest
from django.utils import timezone

from appointments.models import Appointment, AvailabilityRule, Resource, ResourceActivity
from appointments.services import mark_absence
from centers.models import Center
from demo.hospital import seed_demo_hospital
from sincro.worker import Worker

GUIDE_COLUMNS = {
    "TT_RESOURCES": "RESOURCE_LID RESOURCE_FIRST_NAME RESOURCE_SECOND_NAME RESOURCE_MOBILE_PHONE RESOURCE_EMAIL "
    "LOCATION_LID LOCATION_NAME WEB_ENABLED AVAILABILITIES_STEP",
    "TT_ACTIVITIES": "ACTIVITY_LID ACTIVITY_NAME ACTIVITY_GROUP_NAME ACTIVITY_GROUP_LID ACTIVITY_DURATION "
    "ACTIVITY_PRICE WEB_ENABLED",
    "TT_INSURANCES": "INSURANCE_LID INSURANCE_NAME WEB_ENABLED",
    "TT_RESOURCES_ACTIVITIES": "RESOURCE_LID ACTIVITY_LID ACTIVITY_DURATION ACTIVITY_PRICE",
    "TT_INSURANCES_ACTIVITIES": "INSURANCE_LID ACTIVITY_LID ACTIVITY_PRICE",
    "TT_INSURANCES_RESOURCES": "INSURANCE_LID RESOURCE_LID",
    "TT_AVAILABILITIES": "AVAILABILITY_LID R_WORKING_DAY R_START_TIME R_END_TIME R_START_DAY R_END_DAY RESOURCE_LID",
    "TT_ACTIVITIES_AVAILABILITIES": "ACTIVITY_LID AVAILABILITY_LID",
    "TT_RESERVATIONS": "APP_LID APP_DATE APP_TID APP_START_TIME APP_END_TIME USER_LID USER_TID USER_FIRST_NAME "
    "USER_SECOND_NAME USER_THIRD_NAME USER_ID_NUMBER USER_LANDLINE_PHONE USER_MOBILE_PHONE USER_WORK_PHONE USER_EMAIL "
    "PRIVACY COMMUNICATION_PREFERENCES USER_DATE_OF_BIRTH USER_GENDER USER_ZIP_CODE USER_LANGUAGE NOTES RESOURCE_LID "
    "ACTIVITY_LID INSURANCE_LID LOCATION_LID STATUS APP_OWNER_LID APP_OWNER_TID APP_OWNER_NAME",
    "TT_DOWNLOADS": "DOWNLOAD_LID DOWNLOAD_CODE DOWNLOAD_FILENAME USER_LID USER_TID USER_FIRST_NAME USER_SECOND_NAME "
    "USER_THIRD_NAME USER_ID_NUMBER USER_LANDLINE_PHONE USER_MOBILE_PHONE USER_WORK_PHONE USER_EMAIL PRIVACY "
    "COMMUNICATION_PREFERENCES USER_DATE_OF_BIRTH USER_GENDER USER_ZIP_CODE USER_LANGUAGE REQUESTED DOWNLOAD_TYPE "
    "DOWNLOAD_CONTENT",
}
DATE = re.compile(r"\d{2}/\d{2}/\d{4}")
TIME = re.compile(r"\d{2}:\d{2}")
DAYS = 28
ACTIVE = ("PENDING", "APPROVED")
GUIDE_STATUSES = {"PENDING", "APPROVED", "CANCELLED by USER", "CANCELLED by ADMIN"}


@pytest.fixture
def demo(sincro_client):
    seed_demo_hospital()
    return sincro_client


def minutes(text: str) -> int:
    hours, mins = text.split(":")
    return int(hours) * 60 + int(mins)


def guide_weekday(day: dt.date) -> int:
    return (day.weekday() + 1) % 7


def day_of(text: str | None) -> dt.date | None:
    return None if text is None else dt.datetime.strptime(text, "%d/%m/%Y").date()


def slots_from_views(agent, *, first: dt.date, days: int) -> set[tuple]:
    """What tuOtempO computes from the views: each interval stepped by the doctor's step (else the
    duration), for the activities it is open to, minus active reservations, not before now."""
    resources = {r["RESOURCE_LID"]: r for r in agent.rows("SELECT * FROM TT_RESOURCES") if r["WEB_ENABLED"] == 1}
    activities = {a["ACTIVITY_LID"] for a in agent.rows("SELECT * FROM TT_ACTIVITIES") if a["WEB_ENABLED"] == 1}
    intervals = defaultdict(list)
    for row in agent.rows("SELECT * FROM TT_AVAILABILITIES"):
        intervals[row["RESOURCE_LID"]].append(row)
    open_to = defaultdict(set)
    for row in agent.rows("SELECT ACTIVITY_LID, AVAILABILITY_LID FROM TT_ACTIVITIES_AVAILABILITIES"):
        open_to[row["AVAILABILITY_LID"]].add(row["ACTIVITY_LID"])
    busy = defaultdict(list)
    for row in agent.rows("SELECT RESOURCE_LID, APP_DATE, APP_START_TIME, APP_END_TIME, STATUS FROM TT_RESERVATIONS"):
        if row["STATUS"] in ACTIVE:
            busy[(row["RESOURCE_LID"], row["APP_DATE"])].append(
                (minutes(row["APP_START_TIME"]), minutes(row["APP_END_TIME"]))
            )
    # The only thing not in the views: what time it is now at each doctor's center.
    zones = {r.lid: r.location.center.zone for r in Resource.objects.select_related("location__center")}
    slots = set()
    for pair in agent.rows("SELECT RESOURCE_LID, ACTIVITY_LID, ACTIVITY_DURATION FROM TT_RESOURCES_ACTIVITIES"):
        resource, activity, duration = pair["RESOURCE_LID"], pair["ACTIVITY_LID"], pair["ACTIVITY_DURATION"]
        if resource not in resources or activity not in activities:
            continue
        step = resources[resource]["AVAILABILITIES_STEP"] or duration
        now = timezone.localtime(timezone.now(), zones[resource]).replace(tzinfo=None)
        for offset in range(days):
            day = first + dt.timedelta(days=offset)
            label = f"{day:%d/%m/%Y}"
            for interval in intervals[resource]:
                start_day, end_day = day_of(interval["R_START_DAY"]), day_of(interval["R_END_DAY"])
                if int(interval["R_WORKING_DAY"]) != guide_weekday(day):
                    continue
                if (start_day and day < start_day) or (end_day and day > end_day):
                    continue
                if open_to[interval["AVAILABILITY_LID"]] and activity not in open_to[interval["AVAILABILITY_LID"]]:
                    continue
                start, end = minutes(interval["R_START_TIME"]), minutes(interval["R_END_TIME"])
                while start + duration <= end:
                    taken = any(s < start + duration and e > start for s, e in busy[(resource, label)])
                    at = dt.datetime.combine(day, dt.time(start // 60, start % 60))
                    if not taken and at >= now:
                        slots.add((resource, activity, label, f"{start // 60:02d}:{start % 60:02d}"))
                    start += step
    return slots


def slots_from_search(client, secret: str, *, first: dt.date, days: int) -> set[tuple]:
    """What searchAvailabilities answers, over REST, for every web-enabled activity, window by window."""
    slots = set()
    last = first + dt.timedelta(days=days - 1)
    lids = ResourceActivity.objects.filter(activity__web_enabled=True).values_list("activity__lid", flat=True)
    for activity in sorted(set(lids)):
        windows = [(first, last)]
        while windows:
            start, end = windows.pop()
            response = client.get(
                "/api/searchavailabilities",
                {
                    "ACTIVITY_LID": activity,
                    "AVA_START_DAY": f"{start:%d/%m/%Y}",
                    "AVA_END_DAY": f"{end:%d/%m/%Y}",
                    "AVA_RESULTS_NUMBER": "1000",
                },
                HTTP_AUTHORIZATION=f"Bearer {secret}",
            )
            answer = response.json()
            assert answer["result"] == "OK", answer
            if len(answer["return"]) == 1000:  # maybe cut short: ask again in halves
                middle = start + (end - start) / 2
                windows += [(start, middle), (middle + dt.timedelta(days=1), end)]
                continue
            for slot in answer["return"]:
                slots.add((slot["RESOURCE_LID"], slot["ACTIVITY_LID"], slot["AVA_DATE"], slot["AVA_START_TIME"]))
    return slots


def next_day_of_rule(rule: AvailabilityRule, after: dt.date) -> dt.date:
    day = after
    while guide_weekday(day) != rule.weekday:
        day += dt.timedelta(days=1)
    return day


def cut_across_the_grids(today: dt.date) -> None:
    """Absences that end between slot times: one of a doctor whose activities last (and so step)
    differently, and a center holiday of a few hours."""
    for resource in Resource.objects.filter(availabilities_step__isnull=True, web_enabled=True):
        durations = {
            pair.duration or pair.activity.duration
            for pair in ResourceActivity.objects.filter(resource=resource, activity__web_enabled=True)
        }
        rule = AvailabilityRule.objects.filter(resource=resource, activities__isnull=True).first()
        if len(durations) > 1 and rule is not None:
            break
    else:
        pytest.fail("the demo has no doctor whose activities last differently")
    day = next_day_of_rule(rule, today + dt.timedelta(days=3))
    zone = resource.location.center.zone
    opens = dt.datetime.combine(day, rule.start_time, zone)
    mark_absence(
        resource=resource,
        start=opens + dt.timedelta(minutes=47),
        end=opens + dt.timedelta(minutes=128),
        reason="a meeting",
    )
    center = Center.objects.get(lid="MIL")
    holiday = today + dt.timedelta(days=9)
    mark_absence(
        center=center,
        start=dt.datetime.combine(holiday, dt.time(11, 5), center.zone),
        end=dt.datetime.combine(holiday, dt.time(16, 50), center.zone),
        reason="a local holiday, afternoon",
    )


def test_every_view_has_the_guides_columns_in_its_order(sincro_client, agent):
    Worker().run(once=True)
    for view, columns in GUIDE_COLUMNS.items():
        assert agent.columns(view) == columns.split(), view
        # Unquoted names: the guide's query, as written, in any letter case.
        agent.rows(f"SELECT {columns.split()[0]} FROM {view}")
        agent.rows(f"select {columns.split()[0].lower()} from {view.lower()}")


def test_free_slots_from_the_views_alone_are_the_slots_search_availabilities_offers(demo, agent, client):
    today = timezone.localdate()
    cut_across_the_grids(today)
    Worker().run(once=True)

    from_views = slots_from_views(agent, first=today, days=DAYS)
    from_search = slots_from_search(client, demo.secret, first=today, days=DAYS)

    assert len(from_search) > 1000  # the comparison covers the whole demo hospital
    assert from_views - from_search == set(), "offered by the views only"
    assert from_search - from_views == set(), "offered by searchAvailabilities only"
    split = agent.rows("SELECT AVAILABILITY_LID FROM TT_ACTIVITIES_AVAILABILITIES WHERE AVAILABILITY_LID LIKE '%~%'")
    assert split, "the absence between slot times gives intervals restricted by step"


def test_reservations_show_the_guides_formats_in_each_centers_wall_clock(demo, agent):
    Worker().run(once=True)
    rows = {row["APP_LID"]: row for row in agent.rows("SELECT * FROM TT_RESERVATIONS")}
    week_ago = timezone.now() - dt.timedelta(days=7)
    shown = Appointment.objects.filter(start__gte=week_ago + dt.timedelta(days=1)).select_related(
        "resource__location__center", "patient"
    )
    assert shown.count() > 100
    for appointment in shown:
        row = rows[appointment.lid]
        local = timezone.localtime(appointment.start, appointment.resource.location.center.zone)
        assert row["APP_DATE"] == f"{local:%d/%m/%Y}"
        assert row["APP_START_TIME"] == f"{local:%H:%M}"
        assert row["STATUS"] in GUIDE_STATUSES
        assert row["USER_FIRST_NAME"] is None and row["USER_ID_NUMBER"] is None  # privacy (guide A.2.2)
        assert re.fullmatch(r"[01]{3}", row["COMMUNICATION_PREFERENCES"])
        assert row["PRIVACY"] in ("0", "1")
    old = Appointment.objects.filter(start__lt=week_ago - dt.timedelta(days=1)).first()
    assert old is not None and old.lid not in rows  # from today - 7 days
    intervals = agent.rows("SELECT * FROM TT_AVAILABILITIES")
    assert intervals and all(TIME.fullmatch(r["R_START_TIME"]) and TIME.fullmatch(r["R_END_TIME"]) for r in intervals)
    today = timezone.localdate()
    for row in intervals:
        assert row["R_END_DAY"] is None or day_of(row["R_END_DAY"]) >= today - dt.timedelta(days=1)
        assert row["R_START_DAY"] is None or DATE.fullmatch(row["R_START_DAY"])


def test_a_client_limited_to_one_center_sees_only_that_centers_rows(demo, agent, settings):
    from clients.services import create_integration_client

    create_integration_client(name="sincro-mad", center_lids=["MAD"])
    settings.HIS_SINCRO_CLIENT = "sincro-mad"
    Worker().run(once=True)
    locations = {r["LOCATION_LID"] for r in agent.rows("SELECT LOCATION_LID FROM TT_RESOURCES")}
    assert locations and all(lid.startswith("MAD") for lid in locations)
    reservations = {r["LOCATION_LID"] for r in agent.rows("SELECT LOCATION_LID FROM TT_RESERVATIONS")}
    assert reservations and all(lid.startswith("MAD") for lid in reservations)


def test_reservations_end_days_ahead_when_the_hospital_sets_a_horizon(sincro_client, clinic, agent, settings):
    from demo.factories import AppointmentFactory

    soon, later = (
        AppointmentFactory(resource=clinic["D1"], activity=clinic["visit"], start=timezone.now() + dt.timedelta(days=d))
        for d in (1, 10)
    )
    Worker().run(once=True)
    assert {soon.lid, later.lid} <= {r["APP_LID"] for r in agent.rows("SELECT APP_LID FROM TT_RESERVATIONS")}
    settings.HIS_SINCRO_DAYS_AHEAD = 5
    Worker().run(once=True)
    shown = {r["APP_LID"] for r in agent.rows("SELECT APP_LID FROM TT_RESERVATIONS")}
    assert soon.lid in shown and later.lid not in shown


def test_availabilities_end_where_reservations_end_when_the_hospital_sets_a_horizon(demo, agent, client, settings):
    """tuOtempO never offers a slot whose reservations it cannot see: with HIS_SINCRO_DAYS_AHEAD set,
    every interval ends by the last day TT_RESERVATIONS covers, and the free slots computed from the
    views are searchAvailabilities' slots up to that day."""
    today = timezone.localdate()
    settings.HIS_SINCRO_DAYS_AHEAD = 10
    Worker().run(once=True)
    # The views count the horizon from the database's date, which is UTC's (CURRENT_DATE, date('now')):
    # in the first hours of a day east of UTC it is still yesterday there, and the horizon a day shorter.
    last = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=9)

    intervals = agent.rows("SELECT AVAILABILITY_LID, R_START_DAY, R_END_DAY FROM TT_AVAILABILITIES")
    assert intervals
    assert all(row["R_END_DAY"] is not None and day_of(row["R_END_DAY"]) <= last for row in intervals)
    assert all(day_of(row["R_START_DAY"]) is None or day_of(row["R_START_DAY"]) <= last for row in intervals)
    shown = {row["AVAILABILITY_LID"] for row in intervals}
    restricted = {row["AVAILABILITY_LID"] for row in agent.rows("SELECT * FROM TT_ACTIVITIES_AVAILABILITIES")}
    assert restricted <= shown

    from_views = slots_from_views(agent, first=today, days=DAYS)
    from_search = slots_from_search(client, demo.secret, first=today, days=DAYS)
    within = {slot for slot in from_search if day_of(slot[2]) <= last}
    assert within and len(within) < len(from_search)
    assert from_views == within

    settings.HIS_SINCRO_DAYS_AHEAD = 0  # no end again: open intervals show no end day
    Worker().run(once=True)
    assert any(row["R_END_DAY"] is None for row in agent.rows("SELECT R_END_DAY FROM TT_AVAILABILITIES"))


def test_a_rule_changed_in_bulk_reaches_the_views_at_the_workers_next_look(sincro_client, clinic, agent):
    """A queryset update (an import, a script, raw SQL) sends no signal: the worker sees the catalogue
    version move (appointments/catalogue.py) and rebuilds the intervals."""
    worker = Worker()
    worker.run(once=True)
    rule = AvailabilityRule.objects.filter(resource=clinic["D1"]).first()
    shown = {r["AVAILABILITY_LID"]: r for r in agent.rows("SELECT * FROM TT_AVAILABILITIES")}
    assert shown[rule.lid]["R_END_TIME"] == f"{rule.end_time:%H:%M}"

    AvailabilityRule.objects.filter(pk=rule.pk).update(end_time=dt.time(11, 45))
    worker.refresh_intervals(force=True)
    shown = {r["AVAILABILITY_LID"]: r for r in agent.rows("SELECT * FROM TT_AVAILABILITIES")}
    assert shown[rule.lid]["R_END_TIME"] == "11:45"
