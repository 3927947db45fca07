"""An attacker holding the Sincro tables of a client limited to one center cannot book, move, cancel
or read results of another center through them: those rows get an ERROR and change nothing."""

import pytest

from appointments.models import Appointment, AppointmentStatus
from clients.services import create_integration_client
from demo.factories import AppointmentFactory, MedicalResultFactory
from sincro.models import DownloadFile
from sincro.worker import Worker
from tests.sincro.conftest import ddmmyyyy, future_day


@pytest.fixture
def madrid_only(clinic, agent, settings, transactional_db):
    create_integration_client(name="sincro-mad", center_lids=["MAD"])
    settings.HIS_SINCRO_CLIENT = "sincro-mad"
    Worker().run(once=True)
    return clinic


def status(agent, table, row_id, id_column="APP_TMP_ID"):
    return agent.row(table, id_column, row_id)["STATUS_TRIGGER"]


def test_another_centers_appointments_and_results_cannot_be_reached(madrid_only, agent):
    clinic = madrid_only
    theirs = AppointmentFactory(resource=clinic["D2"], activity=clinic["visit"])
    ours = AppointmentFactory(resource=clinic["D1"], activity=clinic["visit"])
    result = MedicalResultFactory(patient=theirs.patient, center=clinic["lpa"])
    day = ddmmyyyy(future_day())
    base = {"APP_TID": "X", "APP_DATE": day, "APP_START_TIME": "10:00", "ACTIVITY_LID": "V1",
            "USER_FIRST_NAME": "Eve", "USER_SECOND_NAME": "Attacker"}  # fmt: skip
    rows = {
        "book": agent.add(**base, APP_ACTION="ADD", RESOURCE_LID="D2"),
        "move theirs": agent.add(**base, APP_ACTION="UPDATE", RESOURCE_LID="D2", APP_LID=theirs.lid),
        "move ours there": agent.add(**base, APP_ACTION="UPDATE", RESOURCE_LID="D2", APP_LID=ours.lid),
        "cancel theirs": agent.add(**base, APP_ACTION="DELETE", RESOURCE_LID="D2", APP_LID=theirs.lid),
    }
    reminder = agent.insert("TT_DELETE_RESERVATION", "APP_TMP_ID", APP_LID=theirs.lid)
    download = agent.insert(
        "TT_DOWNLOADS_TMP", "DOWNLOAD_TMP_ID", DOWNLOAD_LID=result.lid, DOWNLOAD_TID="X", DOWNLOAD_ACTION="UPDATE",
        REQ_DATE=day, REQ_TIME="10:00", USER_LID=theirs.patient.lid,
    )  # fmt: skip

    assert Worker().run(once=True) == 6
    assert status(agent, "TT_RESERVATIONS_TMP", rows["book"]) == "ERROR: RESOURCE_LID 'D2' does not exist."
    assert status(agent, "TT_RESERVATIONS_TMP", rows["move theirs"]) == f"ERROR: APP_LID '{theirs.lid}' does not exist."
    assert status(agent, "TT_RESERVATIONS_TMP", rows["move ours there"]) == "ERROR: RESOURCE_LID 'D2' does not exist."
    assert (
        status(agent, "TT_RESERVATIONS_TMP", rows["cancel theirs"]) == f"ERROR: APP_LID '{theirs.lid}' does not exist."
    )
    assert status(agent, "TT_DELETE_RESERVATION", reminder) == f"ERROR: APP_LID '{theirs.lid}' does not exist."
    assert agent.row("TT_DELETE_RESERVATION", "APP_TMP_ID", reminder)["APP_STATUS"] is None
    assert status(agent, "TT_DOWNLOADS_TMP", download, "DOWNLOAD_TMP_ID").startswith("ERROR: No result")

    assert Appointment.objects.count() == 2
    theirs.refresh_from_db()
    ours.refresh_from_db()
    assert (theirs.status, theirs.start, ours.resource_id) == (
        AppointmentStatus.APPROVED,
        theirs.start,
        clinic["D1"].pk,
    )
    assert not DownloadFile.objects.exists()
    assert not agent.rows("SELECT * FROM TT_RESERVATIONS WHERE APP_LID = %s", (theirs.lid,))
    assert agent.rows("SELECT * FROM TT_RESERVATIONS WHERE APP_LID = %s", (ours.lid,))
    assert not agent.rows("SELECT * FROM TT_DOWNLOADS WHERE DOWNLOAD_LID = %s", (result.lid,))
