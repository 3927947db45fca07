"""export_catalog (guide B.2.1.3) against KeyEntities over REST, and export_campaign (A.6)."""

import io

import pytest
from openpyxl import load_workbook

from demo.factories import (
    ActivityFactory,
    AppointmentFactory,
    InsuranceActivityFactory,
    InsuranceFactory,
    InsuranceResourceFactory,
    PatientFactory,
    ResourceActivityFactory,
)
from exchange.exports import CAMPAIGN_FIELDS, CATALOG_FIELDS
from tests.exchange.helpers import header_of, only_file, read_csv, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(hospital):
    """D1 (Madrid) offers ACT1 at its own price and accepts INS1, which covers ACT1 at its own price;
    D2 (Las Palmas) offers ACT1 and a second activity whose name holds a tab."""
    d1, d2 = (hospital.appointments[n].resource for n in ("in_2h", "in_30h"))
    act1 = ActivityFactory(lid="ACT1")
    act2 = ActivityFactory(lid="ACT2", name="Eco\tgrafía", price=None)
    ResourceActivityFactory(resource=d1, activity=act1, price="55.00", duration=25)
    ResourceActivityFactory(resource=d2, activity=act1)
    ResourceActivityFactory(resource=d2, activity=act2)
    ins = InsuranceFactory(lid="INS1", name="Aseguradora Uno")
    InsuranceActivityFactory(insurance=ins, activity=act1, price="40.00")
    InsuranceResourceFactory(insurance=ins, resource=d1)
    return hospital


def read_txt(path) -> list[dict]:
    text = path.read_bytes().decode("utf-8")
    assert text.endswith("\r\n")
    header, *lines = text[:-2].split("\r\n")
    names = header.split("\t")
    return [dict(zip(names, line.split("\t"), strict=True)) for line in lines]


@pytest.mark.django_db(transaction=True)
def test_the_catalogue_is_key_entities_tab_separated(tmp_path, catalogue, rest_surface, make_client):
    creds = make_client(name="everything")
    answer = rest_surface.call("KeyEntities", {}, authorization=creds.basic())
    assert answer.ok

    status, out, error = run("export_catalog", "--to", f"file://{tmp_path}")

    assert (status, error) == (0, "")
    path = only_file(tmp_path, "catalog_*.txt")
    assert header_of(path, "\t") == list(CATALOG_FIELDS)
    rows = read_txt(path)
    expected = [{k: ("" if v is None else v.replace("\t", " ")) for k, v in row.items()} for row in answer.payload]
    assert rows == expected
    prices = {(r["RESOURCE_LID"], r["ACTIVITY_LID"], r["INSURANCE_LID"]): r["ACTIVITY_PRICE"] for r in rows}
    assert prices[("D1", "ACT1", "")] == "55.00"  # the resource's price
    assert prices[("D1", "ACT1", "INS1")] == "40.00"  # the insurance's price
    assert next(r for r in rows if r["ACTIVITY_LID"] == "ACT2")["ACTIVITY_NAME"] == "Eco grafía"
    assert out.startswith(f"{len(rows)} catalogue row(s) written to file://")


def test_the_catalogue_of_one_center_holds_only_its_resources(tmp_path, catalogue):
    assert run("export_catalog", "--to", f"file://{tmp_path}", "--center", "LPA")[0] == 0

    rows = read_txt(only_file(tmp_path, "catalog_*.txt"))
    assert {r["RESOURCE_LID"] for r in rows} == {"D2"}
    assert len(rows) == 2


@pytest.fixture
def patients(hospital):
    """Patients of each kind for a campaign; P1 and P2 (the hospital's) have appointments in both centers."""
    make = PatientFactory
    people = {
        "sms": make(lid="C-SMS", contact_by_sms=True, contact_by_email=False, mobile_phone="+34 600 1", email="a@x.es"),
        "email": make(lid="C-EMAIL", contact_by_sms=False, contact_by_email=True, email="=HYPERLINK(1)@x.es"),
        "tel": make(
            lid="C-TEL", contact_by_sms=False, contact_by_email=False, contact_by_landline=True, landline_phone="0928"
        ),
        "no_privacy": make(lid="C-NOPRIV", privacy_accepted=False),
        "no_channel": make(lid="C-NONE", contact_by_sms=False, contact_by_email=False),
        "sms_without_mobile": make(lid="C-NOMOB", contact_by_sms=True, contact_by_email=False, mobile_phone=""),
    }
    survivor = make(lid="C-SURV", contact_by_sms=True, mobile_phone="+34 600 9")
    people["merged"] = make(lid="C-MERGED", merged_into=survivor)
    people["survivor"] = survivor
    lpa_resource = hospital.appointments["in_30h"].resource
    AppointmentFactory(lid="A-merged", resource=lpa_resource, patient=people["merged"], start=hospital.now)
    return people


def folder(parent, name):
    (parent / name).mkdir()
    return parent / name


def campaign(tmp_path, *args) -> tuple[list[dict], list[list[str]]]:
    status, _, error = run("export_campaign", "--to", f"file://{tmp_path}", *args)
    assert (status, error) == (0, "")
    csv_path = only_file(tmp_path, "campaign_*.csv")
    xlsx_path = only_file(tmp_path, "campaign_*.xlsx")
    assert csv_path.stem == xlsx_path.stem
    assert header_of(csv_path) == list(CAMPAIGN_FIELDS)
    sheet = load_workbook(io.BytesIO(xlsx_path.read_bytes()), read_only=True).active
    return read_csv(csv_path), [[c.value for c in row] for row in sheet.iter_rows()]


def test_the_campaign_lists_those_who_accepted_and_chose_the_channel(tmp_path, patients):
    rows, sheet = campaign(tmp_path, "--channel", "sms")

    by_lid = {r["USER_LID"]: r for r in rows}
    assert "C-SMS" in by_lid and "C-SURV" in by_lid
    for absent in ("C-EMAIL", "C-TEL", "C-NOPRIV", "C-NONE", "C-NOMOB", "C-MERGED"):
        assert absent not in by_lid
    assert by_lid["C-SMS"] == {
        "USER_LID": "C-SMS",
        "USER_LANDLINE_PHONE": "",
        "USER_MOBILE_PHONE": "+34 600 1",
        "USER_EMAIL": "",  # the patient did not choose e-mail: the address is not sent
        "PRIVACY": "1",
        "COMMUNICATION_PREFERENCES": "100",
        "USER_LANGUAGE": "es",
    }
    assert sheet[0] == list(CAMPAIGN_FIELDS)
    assert [[v or "" for v in row] for row in sheet[1:]] == [[r[f] for f in CAMPAIGN_FIELDS] for r in rows]


def test_each_channel_and_any_channel(tmp_path, patients):
    email_rows, email_sheet = campaign(folder(tmp_path, "e"), "--channel", "email")
    tel_rows, _ = campaign(folder(tmp_path, "t"), "--channel", "tel")
    any_rows, _ = campaign(folder(tmp_path, "a"))

    assert "C-EMAIL" in {r["USER_LID"] for r in email_rows}
    assert {r["USER_LID"]: r["USER_EMAIL"] for r in email_rows}["C-EMAIL"] == "=HYPERLINK(1)@x.es"
    email_cell = next(row for row in email_sheet if row[0] == "C-EMAIL")[3]
    assert email_cell == "=HYPERLINK(1)@x.es"  # text in the workbook, never a formula
    assert {r["USER_LID"]: r["USER_LANDLINE_PHONE"] for r in tel_rows} == {"C-TEL": "0928"}
    lids = {r["USER_LID"] for r in any_rows}
    assert {"C-SMS", "C-EMAIL", "C-TEL", "C-SURV"} <= lids
    assert not lids & {"C-NOPRIV", "C-NONE", "C-NOMOB", "C-MERGED"}


def test_the_campaign_text_cells_are_not_formulas(tmp_path, patients):
    campaign(tmp_path, "--channel", "email")

    book = load_workbook(only_file(tmp_path, "campaign_*.xlsx"))
    cells = [cell for row in book.active.iter_rows() for cell in row if cell.value == "=HYPERLINK(1)@x.es"]
    assert len(cells) == 1 and cells[0].data_type == "s"


def test_a_centers_campaign_holds_only_its_patients(tmp_path, patients):
    lpa, _ = campaign(folder(tmp_path, "lpa"), "--center", "LPA")
    mad, _ = campaign(folder(tmp_path, "mad"), "--center", "MAD")

    # The survivor counts for Las Palmas through the appointment of the record merged into it.
    assert {r["USER_LID"] for r in lpa} == {"P1", "P2", "C-SURV"}
    assert {r["USER_LID"] for r in mad} == {"P1", "P2"}
    text = only_file(tmp_path / "mad", "campaign_*.csv").read_text(encoding="utf-8")
    assert "Lucía" not in text and "12345678Z" not in text


def test_an_unknown_channel_is_refused(tmp_path, patients):
    status, _, error = run("export_campaign", "--to", f"file://{tmp_path}", "--channel", "fax")

    assert status == 1
    assert "--channel" in error and "'fax'" in error
    assert list(tmp_path.iterdir()) == []
