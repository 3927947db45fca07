"""The TT_* views and, on PostgreSQL, the insert triggers that wake the worker (sincro/viewsql.py)."""

from django.db import migrations

from sincro import viewsql


def create(apps, schema_editor):
    for statement in viewsql.create_statements(schema_editor.connection.vendor):
        schema_editor.execute(statement)


def drop(apps, schema_editor):
    for statement in viewsql.drop_statements(schema_editor.connection.vendor):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("sincro", "0001_initial"),
        ("appointments", "0006_names_fit_the_guide"),
        ("patients", "0002_patient_links_possible_duplicates"),
        ("results", "0002_patient_moved"),
        ("clients", "0005_auditentry_surface_sincro"),
        ("centers", "0002_names_fit_the_guide"),
    ]

    operations = [migrations.RunPython(create, drop)]
