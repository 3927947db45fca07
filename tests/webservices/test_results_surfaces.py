"""getTestResultsList and getTestResultContent through zeep against a live server and over REST."""

import base64
import datetime as dt
import os
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from clients.models import AuditEntry, IntegrationClient
from demo.factories import CenterFactory, PatientFactory
from patients.models import Patient, PatientLink
from results.models import MedicalResult
from results.selectors import MSG_WITHDRAWN

pytestmark = pytest.mark.live

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def lab(db, tmp_path):
    """Two centers, a patient, and a manifest importer writing files into tmp_path."""
    CenterFactory(lid="MAD")
    CenterFactory(lid="LPA")
    patient = PatientFactory(lid="P100", mobile_phone="600000001", email="p@example.org", id_number="11111111H")

    def import_rows(*rows):
        lines = ["DOWNLOAD_LID,USER_LID,DOWNLOAD_CODE,DOWNLOAD_FILENAME,DOWNLOAD_TYPE,FILE_PATH,STATUS,CENTER_LID"]
        for lid, content, status, center in rows:
            path = tmp_path / f"{lid}.pdf"
            if content is not None:
                path.write_bytes(content)
            lines.append(
                f"{lid},P100,C-{lid},{lid}.pdf,pdf,{path.name if content is not None else ''},{status},{center}"
            )
        manifest = tmp_path / "manifest.csv"
        manifest.write_text("\n".join(lines) + "\n")
        call_command("import_results", str(manifest), stdout=StringIO(), stderr=StringIO())

    return {"patient": patient, "import": import_rows}


def test_import_then_list_then_content_byte_for_byte(surface, lab, creds):
    lab["import"](("R1", PDF, "Valid", "MAD"))
    listed = surface.call("getTestResultsList", {"USER_LID": "P100"}, authorization=creds.basic())
    assert listed.payload == [{
        "DOWNLOAD_LID": "R1", "STATUS": "Valid", "DOWNLOAD_CODE": "C-R1", "DOWNLOAD_FILENAME": "R1.pdf",
        "DOWNLOAD_TYPE": "pdf", "USER_LID": "P100", "USER_TID": None, "USER_MOBILE_PHONE": "600000001",
        "USER_EMAIL": "p@example.org", "USER_ID_NUMBER": "11111111H",
    }]  # fmt: skip
    content = surface.call("getTestResultContent", {"DOWNLOAD_LID": "R1"}, authorization=creds.basic())
    assert content.ok and content.payload["STATUS"] == "Valid" and content.payload["ERROR_MESSAGE"] is None
    assert base64.b64decode(content.payload["DOWNLOAD_CONTENT"]) == PDF
    audited = AuditEntry.objects.get(method="getTestResultContent")
    assert audited.ids == {"DOWNLOAD_LID": "R1", "USER_LID": "P100"} and audited.outcome == "OK"


def test_a_20_mb_result_is_served_whole(surface, lab, creds):
    big = PDF[:9] + os.urandom(20 * 1024 * 1024) + b"\n%%EOF\n"
    lab["import"](("BIG", big, "Valid", "MAD"))
    content = surface.call("getTestResultContent", {"DOWNLOAD_LID": "BIG"}, authorization=creds.basic())
    assert content.ok, content
    assert base64.b64decode(content.payload["DOWNLOAD_CONTENT"]) == big


def test_a_withdrawn_result_is_listed_as_cancelled_and_gives_no_content(surface, lab, creds):
    lab["import"](("R1", PDF, "Valid", "MAD"))
    lab["import"](("R1", None, "Cancelled", "MAD"))  # withdrawn by re-import
    listed = surface.call("getTestResultsList", {"USER_LID": "P100"}, authorization=creds.basic())
    assert [(r["DOWNLOAD_LID"], r["STATUS"]) for r in listed.payload] == [("R1", "Cancelled")]
    content = surface.call("getTestResultContent", {"DOWNLOAD_LID": "R1"}, authorization=creds.basic())
    assert content.payload == {"DOWNLOAD_LID": "R1", "DOWNLOAD_CONTENT": None, "STATUS": "Cancelled",
                               "ERROR_MESSAGE": MSG_WITHDRAWN.format(lid="R1")}  # fmt: skip


def test_tid_clients_name_the_patient_by_user_tid(surface, lab, make_client):
    lab["import"](("R1", PDF, "Valid", "MAD"))
    tid_client = make_client(name="tid", pattern="tid")
    client = IntegrationClient.objects.get(name="tid")
    PatientLink.objects.create(client=client, tid="T100", patient=Patient.objects.get(lid="P100"))
    listed = surface.call("getTestResultsList", {"USER_TID": "T100"}, authorization=tid_client.basic())
    assert [(r["DOWNLOAD_LID"], r["USER_TID"]) for r in listed.payload] == [("R1", "T100")]
    other = make_client(name="other-tid", pattern="tid")
    assert surface.call("getTestResultsList", {"USER_TID": "T100"}, authorization=other.basic()).code == "NOT_FOUND"
    wrong = surface.call("getTestResultsList", {"USER_LID": "P100"}, authorization=tid_client.basic())
    assert wrong.code == "INVALID_INPUT"
    missing = surface.call("getTestResultsList", {}, authorization=tid_client.basic())
    assert missing.code == "INVALID_INPUT" and "USER_TID" in missing.message


def test_another_centers_result_is_unreachable(surface, lab, make_client):
    lab["import"](("R1", PDF, "Valid", "MAD"), ("R2", PDF, "Valid", "LPA"))
    canarias = make_client(name="canarias", centers=["LPA"])
    listed = surface.call("getTestResultsList", {"USER_LID": "P100"}, authorization=canarias.basic())
    assert [r["DOWNLOAD_LID"] for r in listed.payload] == ["R2"]
    hidden = surface.call("getTestResultContent", {"DOWNLOAD_LID": "R1"}, authorization=canarias.basic())
    unknown = surface.call("getTestResultContent", {"DOWNLOAD_LID": "NOPE"}, authorization=canarias.basic())
    assert (hidden.code, unknown.code) == ("NOT_FOUND", "NOT_FOUND")
    assert hidden.message.replace("R1", "X") == unknown.message.replace("NOPE", "X")  # same answer


def test_the_list_starts_seven_days_ago_unless_told(surface, lab, creds):
    lab["import"](("OLD", PDF, "Valid", "MAD"), ("NEW", PDF, "Valid", "MAD"))
    MedicalResult.objects.filter(lid="OLD").update(created=timezone.now() - dt.timedelta(days=10))
    recent = surface.call("getTestResultsList", {"USER_LID": "P100"}, authorization=creds.basic())
    assert [r["DOWNLOAD_LID"] for r in recent.payload] == ["NEW"]
    since = (timezone.localdate() - dt.timedelta(days=11)).strftime("%d/%m/%Y")
    everything = surface.call(
        "getTestResultsList", {"USER_LID": "P100", "RESULT_START_DATE": since}, authorization=creds.basic()
    )
    assert sorted(r["DOWNLOAD_LID"] for r in everything.payload) == ["NEW", "OLD"]


def test_an_unknown_patient_is_not_found(surface, lab, creds):
    outcome = surface.call("getTestResultsList", {"USER_LID": "P404"}, authorization=creds.basic())
    assert outcome.code == "NOT_FOUND" and "P404" in outcome.message
