"""With HIS_SINCRO_DAYS_AHEAD set, TT_AVAILABILITIES and TT_ACTIVITIES_AVAILABILITIES end on the last
day TT_RESERVATIONS covers (sincro/viewsql.py). The views are redefined in place: on PostgreSQL the
agent's role keeps its grants. Going back leaves them as they are now."""

from django.db import migrations

from sincro import viewsql


def replace(apps, schema_editor):
    for statement in viewsql.replace_statements(schema_editor.connection.vendor):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("sincro", "0003_words_translated")]

    operations = [migrations.RunPython(replace, migrations.RunPython.noop)]
