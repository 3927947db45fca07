"""The queries the webservices run on every call read appointments through an index, never by
scanning the whole table, on whichever database the suite runs on (SQLite or PostgreSQL).

PostgreSQL chooses a plan from table statistics and reads a small table whole because that is
cheaper, so the calendar below is big enough for an index to win (3,000 appointments of 50 doctors
and 300 patients over 30 days), it is inserted in random order as bookings arrive, and ANALYZE
gives the planner its statistics. Sequential scans are NOT switched off: the plans asserted are
the ones PostgreSQL really chooses. SQLite plans from the schema alone (Django never ANALYZEs a
production database), so it gets the same rows and no statistics.

The plans come from EXPLAIN of the very SQL and parameters the code sends: the slot search's
busy-time query is rebuilt with the ORM exactly as appointments/slots.py builds it and explained
with QuerySet.explain(); the selector's queries are recorded as they run and explained as sent.

A plan passes when appointments are read through an index whose first column is one the query
constrains. Which index PostgreSQL picks among those depends on the statistics (e.g. the single
column index Django adds to every foreign key, or the composite one); docs/data-model.md shows
the plans both databases chose.
"""

import datetime as dt
import random
import re
from contextlib import contextmanager

import pytest
from django.db import connection
from django.db.models import F

from appointments.models import ACTIVE_STATUSES, Appointment, AppointmentStatus
from appointments.selectors import appointments_for
from appointments.slots import MAX_APPOINTMENT_LENGTH
from demo.factories import ActivityFactory, LocationFactory, PatientFactory, ResourceFactory
from patients.models import Patient

TABLE = "appointments_appointment"
RESOURCES = 50
PATIENTS = 300
APPOINTMENTS = 3000
PER_DAY = 2  # per doctor, two hours apart
DAYS = APPOINTMENTS // RESOURCES // PER_DAY
FIRST_DAY = dt.datetime(2030, 1, 7, 8, 0, tzinfo=dt.UTC)  # 09:00 in the factories' center (Madrid)
LENGTH = dt.timedelta(minutes=30)
MODIFIED_BEFORE_START = dt.timedelta(days=30)

pytestmark = pytest.mark.django_db


def postgres() -> bool:
    return connection.vendor == "postgresql"


def planned() -> list[tuple[int, int, dt.datetime, str]]:
    """(doctor, patient, start, status) of every appointment of the calendar, by start."""
    rows = []
    for n in range(APPOINTMENTS):
        k = n // RESOURCES  # the doctor's k-th appointment
        start = FIRST_DAY + dt.timedelta(days=k // PER_DAY, hours=2 * (k % PER_DAY))
        # 7 and 300 are coprime: every patient gets 10 appointments. One in 11 is cancelled.
        status = AppointmentStatus.CANCELLED_BY_USER if n % 11 == 0 else AppointmentStatus.APPROVED
        rows.append((n % RESOURCES, (n * 7) % PATIENTS, start, status))
    return rows


@pytest.fixture
def calendar():
    """The planned appointments of 50 doctors and 300 patients, stored; statistics up to date."""
    location = LocationFactory()
    activity = ActivityFactory()
    resources = ResourceFactory.create_batch(RESOURCES, location=location)
    patients = Patient.objects.bulk_create(PatientFactory.build_batch(PATIENTS))
    rows = [
        Appointment(
            resource=resources[doctor],
            activity=activity,
            location=location,
            patient=patients[patient],
            start=start,
            end=start + LENGTH,
            status=status,
        )
        for doctor, patient, start, status in planned()
    ]
    # Rows stored in start order would make every time range look like one cheap sequential read.
    random.Random(1).shuffle(rows)
    Appointment.objects.bulk_create(rows, batch_size=500)
    # auto_now stamped every row with this instant; spread the changes over time, as in real life.
    Appointment.objects.update(modified=F("start") - MODIFIED_BEFORE_START)
    if postgres():
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {"resources": resources, "patients": patients}


def explain(sql: str, params) -> str:
    with connection.cursor() as cursor:
        if postgres():
            cursor.execute(f"EXPLAIN {sql}", params)
            return "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(row[-1] for row in cursor.fetchall())


@contextmanager
def recorded_queries():
    """Every (sql, params) the code inside sends to the database."""
    queries = []

    def record(execute, sql, params, many, context):
        queries.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield queries


def appointment_query(queries) -> tuple[str, tuple]:
    """The one recorded query that reads the appointments table."""
    found = [(sql, params) for sql, params in queries if f'FROM "{TABLE}"' in sql]
    assert len(found) == 1, found
    return found[0]


def indexes_led_by(*columns: str) -> set[str]:
    """The names of the appointments table's indexes whose first column is one of these."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, TABLE)
    return {name for name, c in constraints.items() if c["index"] and c["columns"] and c["columns"][0] in columns}


def indexes_used(plan: str) -> set[str]:
    """The indexes the plan reads through (on PostgreSQL a bitmap scan names only its index: the
    names compared with are those of the appointments table)."""
    if postgres():
        pattern = rf"Index (?:Only )?Scan (?:Backward )?using (\w+) on {TABLE}\b|Bitmap Index Scan on (\w+)"
    else:
        pattern = rf"SEARCH {TABLE} USING (?:COVERING )?INDEX (\w+) \("
    return {name for found in re.finditer(pattern, plan) for name in found.groups() if name}


def assert_reads_through(plan: str, *, wanted: set[str]) -> None:
    assert wanted, "the appointments table has lost the index this query needs"
    assert indexes_used(plan) & wanted, plan
    # Neither a sequential scan of the table nor a full walk of an index (SQLite: "SCAN <table>").
    assert f"Seq Scan on {TABLE}" not in plan, plan
    assert not re.search(rf"\bSCAN (TABLE )?{TABLE}\b", plan), plan


def test_the_slot_search_reads_busy_times_through_a_resource_or_start_index(calendar):
    since = FIRST_DAY + dt.timedelta(days=10)
    until = since + dt.timedelta(days=2)
    # The busy-time query of appointments/slots.py (_busy), built as it is built there.
    queryset = Appointment.objects.filter(
        resource_id__in=[r.pk for r in calendar["resources"][:5]],
        status__in=ACTIVE_STATUSES,
        start__gt=since - MAX_APPOINTMENT_LENGTH,
        start__lt=until,
        end__gt=since,
    ).values_list("resource_id", "start", "end")

    plan = queryset.explain()

    assert_reads_through(plan, wanted=indexes_led_by("resource_id", "start"))
    assert "appointment_resource_start" in indexes_led_by("resource_id")
    expected = [
        (calendar["resources"][doctor].pk, start)
        for doctor, _, start, status in planned()
        if doctor < 5 and status in ACTIVE_STATUSES and start < until and start + LENGTH > since
    ]
    assert len(expected) > 10
    assert sorted((r, s) for r, s, _ in queryset) == sorted(expected)


def test_a_patients_appointments_are_read_through_a_patient_index(calendar):
    patient = calendar["patients"][42]
    with recorded_queries() as queries:
        found = appointments_for(patient=patient, centers=None)
    sql, params = appointment_query(queries)

    plan = explain(sql, params)

    assert_reads_through(plan, wanted=indexes_led_by("patient_id"))
    assert "appointment_patient_start" in indexes_led_by("patient_id")
    assert len(found) == APPOINTMENTS // PATIENTS
    assert {a.patient_id for a in found} == {patient.pk}
    assert [a.start for a in found] == sorted(a.start for a in found)


def test_changes_since_a_moment_are_read_through_the_modified_index(calendar):
    # Changed after the first appointment of the last two days was stamped.
    since = FIRST_DAY + dt.timedelta(days=DAYS - 2, minutes=-1) - MODIFIED_BEFORE_START
    queryset = Appointment.objects.filter(modified__gt=since).order_by("modified")

    plan = queryset.explain()

    assert_reads_through(plan, wanted=indexes_led_by("modified"))
    assert indexes_led_by("modified") == {"appointment_modified"}
    assert queryset.count() == 2 * RESOURCES * PER_DAY


def test_the_reminder_batch_is_read_through_the_start_index(calendar):
    day = (FIRST_DAY + dt.timedelta(days=15)).date()
    with recorded_queries() as queries:
        found = appointments_for(patient=None, centers=None, start_date=day, end_date=day)
    sql, params = appointment_query(queries)

    plan = explain(sql, params)

    assert_reads_through(plan, wanted=indexes_led_by("start"))
    assert indexes_led_by("start") == {"appointment_start"}
    assert len(found) == RESOURCES * PER_DAY
    assert {a.start.date() for a in found} == {day}


def test_the_database_itself_holds_the_no_overlap_guard():
    with connection.cursor() as cursor:
        if postgres():
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE contype = 'x' AND conrelid = %s::regclass",
                [TABLE],
            )
            constraints = dict(cursor.fetchall())
            assert list(constraints) == ["appointment_overlap"]
            definition = constraints["appointment_overlap"]
            assert (
                "EXCLUDE USING gist (resource_id WITH =, tstzrange(start, \"end\", '[)'::text) WITH &&)" in definition
            )
            assert "'PENDING'" in definition and "'APPROVED'" in definition
            assert "CANCELLED" not in definition
            cursor.execute("SELECT extname FROM pg_extension WHERE extname = 'btree_gist'")
            assert cursor.fetchall() == [("btree_gist",)]
        else:
            cursor.execute(
                "SELECT name, tbl_name, sql FROM sqlite_master "
                "WHERE type = 'trigger' AND name LIKE 'appointment_overlap%' ORDER BY name"
            )
            triggers = cursor.fetchall()
            assert [(name, table) for name, table, _ in triggers] == [
                ("appointment_overlap_insert", TABLE),
                ("appointment_overlap_update", TABLE),
            ]
            assert all("RAISE(ABORT, 'appointment_overlap')" in sql for _, _, sql in triggers)
            assert "BEFORE INSERT" in triggers[0][2] and "BEFORE UPDATE OF" in triggers[1][2]
