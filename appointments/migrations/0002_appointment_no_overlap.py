"""No two active appointments of one resource overlap, guaranteed by the database.

PostgreSQL: an exclusion constraint over (resource, [start, end)) for active rows, served by a
GiST index (btree_gist lets the resource id take part with `=`).

SQLite has no exclusion constraints. Triggers refuse an insert or update that would overlap an
active appointment of the same resource. SQLite runs one writer at a time and a trigger runs
inside the writing statement, so the check and the write are one atomic step: two concurrent
writers cannot both pass it. Both raise an IntegrityError in Django, named appointment_overlap.
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

ACTIVE = "('PENDING', 'APPROVED')"
OVERLAP = "appointment_overlap"

POSTGRES_UP = f"""
ALTER TABLE appointments_appointment ADD CONSTRAINT {OVERLAP}
    EXCLUDE USING gist (resource_id WITH =, tstzrange(start, "end", '[)') WITH &&)
    WHERE (status IN {ACTIVE});
"""
POSTGRES_DOWN = f"ALTER TABLE appointments_appointment DROP CONSTRAINT {OVERLAP};"

SQLITE_CHECK = f"""
    SELECT RAISE(ABORT, '{OVERLAP}') WHERE EXISTS (
        SELECT 1 FROM appointments_appointment AS other
        WHERE other.resource_id = NEW.resource_id
          AND other.id IS NOT NEW.id
          AND other.status IN {ACTIVE}
          AND other.start < NEW."end"
          AND other."end" > NEW.start
    );
"""
SQLITE_UP = [
    f"""CREATE TRIGGER {OVERLAP}_insert BEFORE INSERT ON appointments_appointment
        WHEN NEW.status IN {ACTIVE} BEGIN {SQLITE_CHECK} END;""",
    f"""CREATE TRIGGER {OVERLAP}_update BEFORE UPDATE OF resource_id, start, "end", status
        ON appointments_appointment WHEN NEW.status IN {ACTIVE} BEGIN {SQLITE_CHECK} END;""",
]
SQLITE_DOWN = [f"DROP TRIGGER {OVERLAP}_insert;", f"DROP TRIGGER {OVERLAP}_update;"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise RuntimeError(f"No overlap guard for database vendor {schema_editor.connection.vendor!r}.")
        for sql in [statements] if isinstance(statements, str) else statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("appointments", "0001_initial")]

    operations = [
        BtreeGistExtension(),
        migrations.RunPython(
            _run({"postgresql": POSTGRES_UP, "sqlite": SQLITE_UP}),
            _run({"postgresql": POSTGRES_DOWN, "sqlite": SQLITE_DOWN}),
        ),
    ]
