"""A database made by the previous release migrates to the current layout with nothing lost.

The test goes back to the schema of the previous release (its last migrations), fills it through the
historical models of that release, migrates forward, and compares row counts and rows, read through
today's models, which now live in other apps (patients, clients) on the same tables.
"""

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from appointments.models import Appointment
from clients.models import AuditEntry, IntegrationClient
from patients.models import Patient
from results.models import MedicalResult

PREVIOUS_RELEASE = [
    ("centers", "0001_initial"),
    ("appointments", "0003_patient_id_key"),
    ("results", "0001_initial"),
    ("his", "0004_audit_failure_partial_indexes"),
    ("contenttypes", "0002_remove_content_type_name"),
    ("auth", "0012_alter_user_first_name_max_length"),
]
NEW_APPS = [("patients", None), ("clients", None)]  # did not exist then
START = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)


def _migrate(targets):
    """Migrates to the targets; returns the models as they were at that point."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


def _fill_previous_release(apps) -> dict:
    Center, Location = apps.get_model("centers", "Center"), apps.get_model("centers", "Location")
    Resource, Activity = apps.get_model("appointments", "Resource"), apps.get_model("appointments", "Activity")
    Patient, Appointment = apps.get_model("appointments", "Patient"), apps.get_model("appointments", "Appointment")
    Result = apps.get_model("results", "MedicalResult")
    Client, Audit = apps.get_model("his", "IntegrationClient"), apps.get_model("his", "AuditEntry")
    ContentTypeThen = apps.get_model("contenttypes", "ContentType")

    mad = Center.objects.create(lid="MAD", name="Madrid", time_zone="Europe/Madrid")
    lpa = Center.objects.create(lid="LPA", name="Las Palmas", time_zone="Atlantic/Canary")
    floor = Location.objects.create(lid="L1", name="Planta 1", center=mad)
    doctor = Resource.objects.create(lid="D1", first_name="Ana", second_name="Ruiz", location=floor)
    visit = Activity.objects.create(lid="V1", name="Visita", duration=20)
    survivor = Patient.objects.create(
        lid="P1", tid="T1", first_name="José", second_name="García", id_number="1-Z", id_key="1Z"
    )
    Patient.objects.create(lid="P2", first_name="Jose", second_name="Garcia", merged_into=survivor)
    for n in range(3):
        Appointment.objects.create(
            lid=f"A{n + 1}", resource=doctor, activity=visit, patient=survivor, location=floor,
            start=START + dt.timedelta(hours=n), end=START + dt.timedelta(hours=n, minutes=20), origin="ONLINE",
        )  # fmt: skip
    Result.objects.create(
        lid="R1",
        code="0001",
        filename="r1.pdf",
        file_type="pdf",
        patient=survivor,
        center=mad,
        file="results/R1/r1.pdf",
    )
    client = Client.objects.create(name="tuotempo", secret_hash="a" * 64, patient_pattern="tid")
    client.centers.set([mad, lpa])
    Audit.objects.create(time=timezone.now(), client=client, client_name="tuotempo", surface="REST",
                         method="GetCenters", outcome="OK", ids={"CENTER_LID": "MAD"})  # fmt: skip
    Audit.objects.create(time=timezone.now(), client_name="intruder", surface="SOAP", method="", outcome="UNAUTHORIZED")
    ContentTypeThen.objects.filter(app_label__in=["patients", "clients"]).delete()  # apps unknown back then
    patient_type = ContentTypeThen.objects.get_or_create(app_label="appointments", model="patient")[0].pk
    client_type = ContentTypeThen.objects.get_or_create(app_label="his", model="integrationclient")[0].pk
    return {"patient_type": patient_type, "client_type": client_type}


@pytest.mark.django_db(transaction=True)
def test_a_database_of_the_previous_release_migrates_with_nothing_lost():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        _migrate(NEW_APPS)
        kept = _fill_previous_release(_migrate(PREVIOUS_RELEASE))
        _migrate(latest)
    finally:
        _migrate(latest)  # whatever happened, later tests find the current schema

    assert (Patient.objects.count(), Appointment.objects.count(), MedicalResult.objects.count()) == (2, 3, 1)
    assert (IntegrationClient.objects.count(), AuditEntry.objects.count()) == (1, 2)
    survivor = Patient.objects.get(lid="P1")
    assert (survivor.first_name, survivor.id_key) == ("José", "1Z")
    # USER_TIDs became links of the client that sent them; the audit log did not tell, so of every client
    # with the tid pattern.
    assert list(survivor.links.values_list("client__name", "tid")) == [("tuotempo", "T1")]
    assert Patient.objects.get(lid="P2").merged_into == survivor
    assert list(Appointment.objects.order_by("lid").values_list("lid", "patient__lid", "resource__lid", "start")) == [
        (f"A{n + 1}", "P1", "D1", START + dt.timedelta(hours=n)) for n in range(3)
    ]
    assert MedicalResult.objects.get(lid="R1").patient == survivor
    client = IntegrationClient.objects.get(name="tuotempo")
    assert (client.patient_pattern, sorted(c.lid for c in client.centers.all())) == ("tid", ["LPA", "MAD"])
    assert AuditEntry.objects.get(client_name="tuotempo").client == client
    assert AuditEntry.objects.get(client_name="intruder").outcome == "UNAUTHORIZED"
    # Permissions and admin history follow the models to their new apps.
    assert ContentType.objects.get(pk=kept["patient_type"]).app_label == "patients"
    assert ContentType.objects.get(pk=kept["client_type"]).app_label == "clients"
