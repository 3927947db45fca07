"""Builds the benchmark hospital in PostgreSQL: drop, create, migrate, then bulk-load with COPY.

    python bench/build.py --database his_bench --appointments 1000000
    python bench/build.py --database his_bench_10k --appointments 10000
    python bench/build.py --database his_bench --appointments 1000000 --reuse   # keep it if still usable
    python bench/build.py --database his_bench_3k --appointments 3000000 --doctors 3000   # a hospital group

The hospital: 2 centers (Europe/Madrid, Atlantic/Canary), 6 locations, 300 doctors (--doctors), 40 activities
in 10 groups, 10 insurances with every relation (resource-activity with some duration and price
overrides, insurance-activity, insurance-resource), weekly morning/afternoon rules, absences (per
doctor and center holidays), 200,000 patients and the asked number of appointments over two years
(one back, one forward). Appointments are laid back to back on each doctor's rule hours and a random
subset of them is kept, so no two active ones of a doctor ever overlap; 1 in 20 is cancelled.

Activity FULL (offered only by the doctors D0297-D0300) is booked solid from a week ago to
FULL_DAYS ahead: its 31-day search answers empty. Everything is deterministic for a seed and a
build day. The build records what the driver needs (the client secret, the lids to search) in the
table bench_meta.
"""

import argparse
import datetime as dt
import io
import json
import os
import random
import sys
import time
import zoneinfo
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"

CENTERS = [("MAD", "Hospital Bench Madrid", "Europe/Madrid"), ("LPA", "Clinica Bench Las Palmas", "Atlantic/Canary")]
LOCATIONS_PER_CENTER = 3
DOCTORS = 300
GROUPS = 10
ACTIVITIES = 40
INSURANCES = 10
PATIENTS = 200_000
FULL_DOCTORS = 4  # the last four doctors offer only the fully booked activity
FULL_ACTIVITY = "FULL"
FULL_DAYS = 45  # booked solid this many days ahead (the 31-day search stays empty for two weeks)
DURATIONS = (15, 15, 20, 30, 30, 45)
MORNING, AFTERNOON = (dt.time(8, 0), dt.time(14, 0)), (dt.time(15, 0), dt.time(20, 0))
CANCELLED_SHARE = 20  # one in N
MAX_AGE_DAYS = 7  # --reuse rebuilds a database older than this (the booked-solid window moves)

FIRST_NAMES = "Maria Jose Antonio Carmen Manuel Ana Francisco Laura David Lucia Javier Elena Daniel Sara Carlos Paula "
FIRST_NAMES += "Miguel Marta Rafael Cristina Pablo Isabel Sergio Raquel Jorge Pilar Alberto Nuria Fernando Rosa"
SURNAMES = "Garcia Rodriguez Gonzalez Fernandez Lopez Martinez Sanchez Perez Gomez Martin Jimenez Ruiz Hernandez "
SURNAMES += "Diaz Moreno Munoz Alvarez Romero Alonso Gutierrez Navarro Torres Dominguez Vazquez Ramos Gil Ramirez "
SURNAMES += "Serrano Blanco Molina Morales Suarez Ortega Delgado Castro Ortiz Rubio Marin Sanz Nunez Iglesias Medina"
DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[build +{time.monotonic() - STARTED:6.1f} s] {message}", flush=True)


def server_url() -> str:
    return os.environ.get("BENCH_PG", DEFAULT_SERVER).rstrip("/")


def existing_build(database: str, appointments: int, doctors: int = DOCTORS) -> dict | None:
    """The metadata of a usable earlier build of that size, else None."""
    try:
        with psycopg.connect(f"{server_url()}/{database}", autocommit=True) as conn:
            row = conn.execute("SELECT value FROM bench_meta WHERE key = 'meta'").fetchone()
    except psycopg.Error:
        return None
    if row is None:
        return None
    meta = row[0]
    age = (dt.date.today() - dt.date.fromisoformat(meta["built_on"])).days
    if (
        meta.get("appointments") != appointments
        or meta.get("doctors", DOCTORS) != doctors
        or not 0 <= age <= MAX_AGE_DAYS
    ):
        return None
    return meta


def recreate_database(database: str) -> None:
    with psycopg.connect(f"{server_url()}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')


def setup_django(database: str) -> None:
    os.environ["DATABASE_URL"] = f"{server_url()}/{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "his.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


# ---------------------------------------------------------------- the structure (Django bulk_create)


def build_structure(rng: random.Random, doctors: int = DOCTORS) -> dict:
    from appointments.models import (
        Absence,
        Activity,
        ActivityGroup,
        AvailabilityRule,
        Insurance,
        InsuranceActivity,
        InsuranceResource,
        Resource,
        ResourceActivity,
    )
    from centers.models import Center, Location

    centers = Center.objects.bulk_create([Center(lid=lid, name=name, time_zone=zone) for lid, name, zone in CENTERS])
    locations = Location.objects.bulk_create(
        [
            Location(lid=f"{center.lid}-L{n}", name=f"{center.name}, planta {n}", center=center)
            for center in centers
            for n in range(1, LOCATIONS_PER_CENTER + 1)
        ]
    )
    groups = ActivityGroup.objects.bulk_create(
        [ActivityGroup(lid=f"G{g:02d}", name=f"Especialidad {g:02d}") for g in range(1, GROUPS + 1)]
    )
    activities = []
    for n in range(1, ACTIVITIES):
        activities.append(
            Activity(
                lid=f"ACT{n:02d}",
                name=f"Consulta {n:02d}",
                group=groups[(n - 1) // 4],
                duration=rng.choice(DURATIONS),
                price=rng.choice([None, 40, 55, 60, 80, 95, 120]),
            )
        )
    activities.append(Activity(lid=FULL_ACTIVITY, name="Consulta completa", group=groups[-1], duration=30, price=70))
    activities = Activity.objects.bulk_create(activities)
    full = activities[-1]
    insurances = Insurance.objects.bulk_create(
        [Insurance(lid=f"INS{n:02d}", name=f"Aseguradora {n:02d}") for n in range(1, INSURANCES + 1)]
    )
    InsuranceActivity.objects.bulk_create(
        [
            InsuranceActivity(insurance=insurance, activity=activity, price=rng.choice([None, 30, 45, 50]))
            for insurance in insurances
            for activity in activities
            if rng.random() < 0.6 or activity is full
        ]
    )
    resources = Resource.objects.bulk_create(
        [
            Resource(
                lid=f"D{n:04d}",
                first_name=rng.choice(FIRST_NAMES.split()),
                second_name=rng.choice(SURNAMES.split()),
                location=locations[(n - 1) % len(locations)],
            )
            for n in range(1, doctors + 1)
        ]
    )
    normal, full_doctors = resources[:-FULL_DOCTORS], resources[-FULL_DOCTORS:]
    offers, durations = [], {}
    for index, resource in enumerate(normal):
        group = index % GROUPS
        own = [a for a in activities[group * 4 : group * 4 + 4] if a is not full and rng.random() < 0.8]
        own = own or [activities[group * 4]]
        for activity in own:
            duration = rng.choice([None, None, None, 30, 45]) if activity.duration < 30 else None
            price = rng.choice([None, None, 65, 90])
            offers.append(ResourceActivity(resource=resource, activity=activity, duration=duration, price=price))
            durations.setdefault(resource.pk, []).append((activity.pk, duration or activity.duration))
    for resource in full_doctors:
        offers.append(ResourceActivity(resource=resource, activity=full))
        durations[resource.pk] = [(full.pk, full.duration)]
    ResourceActivity.objects.bulk_create(offers)
    accepted = {}
    links = []
    for resource in resources:
        chosen = rng.sample(insurances, rng.randint(3, 7))
        accepted[resource.pk] = [i.pk for i in chosen]
        links += [InsuranceResource(insurance=i, resource=resource) for i in chosen]
    InsuranceResource.objects.bulk_create(links)

    rules, hours = [], {}
    for resource in resources:
        if resource in full_doctors:
            days = [(weekday, [MORNING]) for weekday in (1, 2, 3, 4, 5)]
        else:
            weekdays = sorted(rng.sample([1, 2, 3, 4, 5], rng.randint(3, 5)))
            if rng.random() < 0.15:
                weekdays.append(6)
            days = []
            for weekday in weekdays:
                kind = rng.random()
                periods = [MORNING] if kind < 0.5 else [AFTERNOON] if kind < 0.8 else [MORNING, AFTERNOON]
                days.append((weekday, periods))
        for weekday, periods in days:
            for start, end in periods:
                rules.append(
                    AvailabilityRule(
                        lid=f"R{len(rules) + 1}", resource=resource, weekday=weekday, start_time=start, end_time=end
                    )
                )
                hours.setdefault(resource.pk, {}).setdefault(weekday, []).append((start, end))
    AvailabilityRule.objects.bulk_create(rules)

    today = dt.date.today()
    absences = []
    for center in centers:
        for day in (
            dt.date(y, m, d) for y in (today.year - 1, today.year, today.year + 1) for m, d in ((1, 1), (12, 25))
        ):
            start = dt.datetime.combine(day, dt.time(), center.zone)
            absences.append(Absence(center=center, start=start, end=start + dt.timedelta(days=1), reason="Festivo"))
    for resource in normal:
        zone = zoneinfo.ZoneInfo(resource.location.center.time_zone)
        for _ in range(2):  # two weeks of leave somewhere in the two years, none in the next 31 days
            first = today + dt.timedelta(days=rng.choice([rng.randint(-360, -14), rng.randint(40, 350)]))
            start = dt.datetime.combine(first, dt.time(), zone)
            absences.append(
                Absence(resource=resource, start=start, end=start + dt.timedelta(days=7), reason="Vacaciones")
            )
    Absence.objects.bulk_create(absences)
    return {
        "centers": {c.pk: c.time_zone for c in centers},
        "resources": [(r.pk, r.lid, r.location_id, r.location.center.time_zone) for r in resources],
        "full_doctors": {r.pk for r in full_doctors},
        "durations": durations,
        "accepted": accepted,
        "hours": hours,
        "absences": absences,
        "full_activity": full.lid,
        "search_activity": activities[0].lid,
        "one_doctor": next(r.lid for r in normal if any(a == activities[0].pk for a, _ in durations[r.pk])),
    }


# ---------------------------------------------------------------- patients and appointments (COPY)


def copy_rows(conn: psycopg.Connection, table: str, columns: list[str], lines) -> int:
    """COPY text-format lines (already escaped: our generated values hold no tab, newline or backslash)."""
    count = 0
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        buffer = io.StringIO()
        for line in lines:
            buffer.write(line)
            count += 1
            if count % 20000 == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())
    return count


def without_indexes(conn: psycopg.Connection, table: str) -> list[str]:
    """Drops the table's secondary indexes and its constraints (but the primary key) and returns the
    statements that recreate them: one bulk index build beats a million index inserts."""
    recreate = []
    constraints = conn.execute(
        "SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype <> 'p' ORDER BY contype = 'f'",
        [table],
    ).fetchall()
    for name, definition, _kind in constraints:
        conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        recreate.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    indexes = conn.execute(
        "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "WHERE x.indrelid = %s::regclass AND NOT x.indisprimary",
        [table],
    ).fetchall()
    for name, definition in indexes:
        conn.execute(f'DROP INDEX "{name}"')
        recreate.insert(0, definition)
    return recreate


def patient_lines(rng: random.Random, now: str):
    from patients.models import normalise_id_number, normalise_name

    firsts, lasts = FIRST_NAMES.split(), SURNAMES.split()
    for n in range(1, PATIENTS + 1):
        first, second, third = rng.choice(firsts), rng.choice(lasts), rng.choice(lasts)
        number = rng.randint(10_000_000, 99_999_999)
        id_number = f"{number}{DNI_LETTERS[number % 23]}"
        born = dt.date(1935, 1, 1) + dt.timedelta(days=rng.randint(0, 32000))
        mobile = f"6{rng.randint(10_000_000, 99_999_999)}"
        email = f"{first.lower()}.{second.lower()}{n}@example.org"
        gender = rng.choice("MF")
        yield (
            f"{n}\tP{n}\t{first}\t{second}\t{third}\t{id_number}\t\t{mobile}\t\t{email}\t{born.isoformat()}\t"
            f"{gender}\t{rng.randint(28001, 35999)}\tes\tt\tt\tt\tf\t\\N\t{normalise_name(first, second, third)}\t"
            f"{normalise_id_number(id_number)}\t{now}\t{now}\n"
        )


PATIENT_COLUMNS = [
    "id", "lid", "first_name", "second_name", "third_name", "id_number", "landline_phone", "mobile_phone",
    "work_phone", "email", "date_of_birth", "gender", "zip_code", "language", "privacy_accepted", "contact_by_sms",
    "contact_by_email", "contact_by_landline", "merged_into_id", "name_key", "id_key", "created", "modified",
]  # fmt: skip

APPOINTMENT_COLUMNS = [
    "id", "lid", "tid", "resource_id", "activity_id", "insurance_id", "location_id", "patient_id", "start", '"end"',
    "status", "origin", "owner_lid", "owner_tid", "owner_name", "notes", "created", "modified", "cancelled_at",
]  # fmt: skip


def packed_calendar(structure: dict, rng: random.Random, first: dt.date, last: dt.date):
    """Every doctor's rule hours filled back to back with its activities: (resource, activity, start, end,
    solid) with UTC epoch seconds. `solid` marks the fully booked doctors' appointments in their window."""
    today = dt.date.today()
    solid_from, solid_to = today - dt.timedelta(days=7), today + dt.timedelta(days=FULL_DAYS)
    closed = {}
    for absence in structure["absences"]:
        day = absence.start.date()
        while dt.datetime.combine(day, dt.time(), absence.start.tzinfo) < absence.end:
            key = absence.resource.pk if absence.resource_id else ("center", absence.center_id)
            closed.setdefault(key, set()).add(day)
            day += dt.timedelta(days=1)
    offsets = {}
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    for resource_id, _lid, location_id, zone_name in structure["resources"]:
        zone = zoneinfo.ZoneInfo(zone_name)
        center_id = next(pk for pk, name in structure["centers"].items() if name == zone_name)
        choices = structure["durations"][resource_id]
        hours = structure["hours"].get(resource_id, {})
        is_full = resource_id in structure["full_doctors"]
        holidays = closed.get(resource_id, set()) | closed.get(("center", center_id), set())
        for day in days:
            periods = hours.get((day.weekday() + 1) % 7)
            if not periods or day in holidays:
                continue
            offset = offsets.get((zone_name, day))
            if offset is None:
                offset = offsets[(zone_name, day)] = int(
                    dt.datetime.combine(day, dt.time(12), zone).utcoffset().total_seconds()
                )
            midnight = (day - dt.date(1970, 1, 1)).days * 86400 - offset
            solid = is_full and solid_from <= day <= solid_to
            for start, end in periods:
                cursor = midnight + start.hour * 3600 + start.minute * 60
                stop = midnight + end.hour * 3600 + end.minute * 60
                while True:
                    activity_id, minutes = rng.choice(choices)
                    if cursor + minutes * 60 > stop:
                        break
                    yield resource_id, activity_id, location_id, cursor, cursor + minutes * 60, solid
                    cursor += minutes * 60


def appointment_lines(structure: dict, count: int, rng: random.Random, now: dt.datetime):
    today = dt.date.today()
    calendar = list(packed_calendar(structure, rng, today - dt.timedelta(days=365), today + dt.timedelta(days=365)))
    solid = [i for i, row in enumerate(calendar) if row[5]]
    others = [i for i, row in enumerate(calendar) if not row[5]]
    wanted = count - len(solid)
    if wanted < 0 or wanted > len(others):
        raise SystemExit(f"cannot lay {count} appointments: {len(solid)} are booked solid, room for {len(others)} more")
    keep = sorted(solid + rng.sample(others, wanted))
    log(f"calendar: {len(calendar)} places, {len(solid)} booked solid, keeping {count}")
    patients = PATIENTS
    statuses = ("APPROVED", "APPROVED", "PENDING")
    origins = ("ONLINE", "ONLINE", "DESK", "PHONE")
    for n, index in enumerate(keep, start=1):
        resource_id, activity_id, location_id, start, end, is_solid = calendar[index]
        accepted = structure["accepted"][resource_id]
        insurance = rng.choice(accepted) if rng.random() < 0.7 else None
        start_dt, end_dt = dt.datetime.fromtimestamp(start, dt.UTC), dt.datetime.fromtimestamp(end, dt.UTC)
        created = min(now, start_dt - dt.timedelta(days=rng.randint(1, 60)))
        cancelled = not is_solid and rng.randrange(CANCELLED_SHARE) == 0
        status = rng.choice(["CANCELLED_BY_USER", "CANCELLED_BY_ADMIN"]) if cancelled else rng.choice(statuses)
        cancelled_at = created.isoformat() if cancelled else "\\N"
        yield (
            f"{n}\tA{n}\t\t{resource_id}\t{activity_id}\t{insurance or chr(92) + 'N'}\t{location_id}\t"
            f"{rng.randint(1, patients)}\t{start_dt.isoformat()}\t{end_dt.isoformat()}\t"
            f"{status}\t{rng.choice(origins)}\t\t\t\t\t{created.isoformat()}\t{created.isoformat()}\t{cancelled_at}\n"
        )


def load_bulk(database: str, structure: dict, appointments: int, rng: random.Random) -> dict:
    now = dt.datetime.now(dt.UTC)
    timings = {}
    with psycopg.connect(f"{server_url()}/{database}") as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SET synchronous_commit = off")
        for table, columns, lines in (
            ("appointments_patient", PATIENT_COLUMNS, patient_lines(rng, now.isoformat())),
            ("appointments_appointment", APPOINTMENT_COLUMNS, appointment_lines(structure, appointments, rng, now)),
        ):
            started = time.monotonic()
            recreate = without_indexes(conn, table)
            rows = copy_rows(conn, table, columns, lines)
            copied = time.monotonic()
            for statement in recreate:
                conn.execute(statement)
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            conn.commit()
            timings[table] = {
                "rows": rows,
                "copy_s": round(copied - started, 1),
                "indexes_s": round(time.monotonic() - copied, 1),
            }
            log(f"{table}: {rows} rows, COPY {copied - started:.1f} s, indexes {time.monotonic() - copied:.1f} s")
    return timings


def analyse(database: str) -> float:
    started = time.monotonic()
    with psycopg.connect(f"{server_url()}/{database}", autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return time.monotonic() - started


def write_meta(database: str, meta: dict) -> None:
    with psycopg.connect(f"{server_url()}/{database}", autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value jsonb NOT NULL)")
        conn.execute(
            "INSERT INTO bench_meta VALUES ('meta', %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            [json.dumps(meta)],
        )


def build(database: str, appointments: int, seed: int, doctors: int = DOCTORS) -> dict:
    started = time.monotonic()
    rng = random.Random(seed)
    log(f"building {database}: {doctors} doctors, {appointments} appointments")
    recreate_database(database)
    setup_django(database)
    from django.core.management import call_command

    from clients.services import create_integration_client

    call_command("migrate", verbosity=0)
    migrated = time.monotonic()
    log(f"migrated in {migrated - started:.1f} s")
    structure = build_structure(rng, doctors)
    timings = load_bulk(database, structure, appointments, rng)
    client, secret = create_integration_client(name="bench")
    # The load is far beyond a client's default rate: the bench measures the server, not its throttle.
    type(client).objects.filter(pk=client.pk).update(rate_limit=0)
    vacuum = analyse(database)
    log(f"VACUUM ANALYZE {vacuum:.1f} s")
    meta = {
        "built_on": dt.date.today().isoformat(),
        "appointments": appointments,
        "patients": PATIENTS,
        "doctors": doctors,
        "secret": secret,
        "full_activity": structure["full_activity"],
        "search_activity": structure["search_activity"],
        "one_doctor": structure["one_doctor"],
        "build_seconds": round(time.monotonic() - started, 1),
        "steps": {"migrate_s": round(migrated - started, 1), **timings, "vacuum_analyze_s": round(vacuum, 1)},
    }
    write_meta(database, meta)
    log(f"built {database} in {meta['build_seconds']} s")
    return meta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="his_bench")
    parser.add_argument("--appointments", type=int, default=1_000_000)
    parser.add_argument("--doctors", type=int, default=DOCTORS)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="keep an existing build of the same size and day range")
    args = parser.parse_args()
    meta = existing_build(args.database, args.appointments, args.doctors) if args.reuse else None
    if meta is not None:
        log(f"reusing {args.database}, built on {meta['built_on']} in {meta['build_seconds']} s")
        return
    build(args.database, args.appointments, args.seed, args.doctors)


if __name__ == "__main__":
    main()
