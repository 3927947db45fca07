"""The catalogue version: one row changed by the database itself, in the same transaction, whenever
a table of the catalogue changes, so that every process can keep its catalogue answers per version
and check the version (one primary-key read) on every call.

PostgreSQL: a BEFORE ... FOR EACH STATEMENT trigger on every catalogue table (TRUNCATE included)
sets the version to the next value of a sequence. Taking the version row's lock before the
statement's own row locks puts every catalogue writer in line at its first write, so two of them
cannot each hold a row the other needs. A sequence never gives a value twice, rolled back or not.

SQLite: AFTER INSERT / UPDATE / DELETE triggers per row set a random 64-bit value (SQLite runs one
writer at a time, so there is no lock order to care about).

Either way the row is written with an upsert, so it comes back if the table was emptied.
"""

from django.db import migrations, models

VERSION_TABLE = "appointments_catalogueversion"
CATALOGUE_TABLES = (
    "centers_center",
    "centers_location",
    "appointments_resource",
    "appointments_activitygroup",
    "appointments_activity",
    "appointments_insurance",
    "appointments_resourceactivity",
    "appointments_insuranceactivity",
    "appointments_insuranceresource",
    "appointments_availabilityrule",
    "appointments_availabilityrule_activities",
    "appointments_absence",
)
SEQUENCE = "catalogue_version_seq"
FUNCTION = "catalogue_version_bump"

POSTGRES_UP = [
    f"CREATE SEQUENCE {SEQUENCE}",
    f"""CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO {VERSION_TABLE} (id, version) VALUES (1, nextval('{SEQUENCE}'))
            ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version;
        RETURN NULL;
    END $$""",
    f"INSERT INTO {VERSION_TABLE} (id, version) VALUES (1, nextval('{SEQUENCE}'))",
    *(
        f"""CREATE TRIGGER {table}_catalogue BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"""
        for table in CATALOGUE_TABLES
    ),
]
POSTGRES_DOWN = [
    *(f"DROP TRIGGER {table}_catalogue ON {table}" for table in CATALOGUE_TABLES),
    f"DROP FUNCTION {FUNCTION}()",
    f"DROP SEQUENCE {SEQUENCE}",
]

SQLITE_BUMP = (
    f"INSERT INTO {VERSION_TABLE} (id, version) VALUES (1, random()) "
    "ON CONFLICT (id) DO UPDATE SET version = excluded.version;"
)
SQLITE_UP = [
    f"INSERT INTO {VERSION_TABLE} (id, version) VALUES (1, random())",
    *(
        f"CREATE TRIGGER {table}_catalogue_{event.lower()} AFTER {event} ON {table} BEGIN {SQLITE_BUMP} END"
        for table in CATALOGUE_TABLES
        for event in ("INSERT", "UPDATE", "DELETE")
    ),
]
SQLITE_DOWN = [
    f"DROP TRIGGER {table}_catalogue_{event.lower()}"
    for table in CATALOGUE_TABLES
    for event in ("INSERT", "UPDATE", "DELETE")
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise RuntimeError(f"No catalogue version triggers for database vendor {schema_editor.connection.vendor!r}.")
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("appointments", "0007_hospital_words"),
        ("centers", "0003_hospital_words"),
    ]

    operations = [
        migrations.CreateModel(
            name="CatalogueVersion",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("version", models.BigIntegerField()),
            ],
            options={"verbose_name": "catalogue version"},
        ),
        migrations.RunPython(
            _run({"postgresql": POSTGRES_UP, "sqlite": SQLITE_UP}),
            _run({"postgresql": POSTGRES_DOWN, "sqlite": SQLITE_DOWN}),
        ),
    ]
