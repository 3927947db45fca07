"""import_cancellations: tuOtempO's A.1.2.1 files applied row by row through the domain, over FTP,
SFTP and a local folder; a file applied twice changes nothing; every row's outcome is logged."""

import pytest

from appointments.models import Appointment, AppointmentStatus
from exchange.imports import (
    MSG_ALREADY_CANCELLED,
    MSG_ALREADY_CONFIRMED,
    MSG_BAD_STATUS,
    MSG_CONFIRMED,
    MSG_EMPTY_FIELD,
    MSG_OTHER_RESOURCE,
    MSG_PENDING,
)
from exchange.models import ExchangeRow, ExchangeRun, RowOutcome, RunOutcome
from exchange.runs import EXIT_PARTIAL
from tests.exchange.helpers import run

pytestmark = pytest.mark.django_db

HEADER = "APP_LID;USER_LANDLINE_PHONE;USER_MOBILE_PHONE;USER_EMAIL;RESOURCE_LID;STATUS"


def write(folder, name: str, lines: list[str], encoding="utf-8"):
    (folder / name).write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))


def state() -> dict:
    """What the rows could change: status, cancellation and confirmation of every appointment."""
    return {
        a.lid: (a.status, a.cancelled_at, a.patient_confirmed_at, a.modified)
        for a in Appointment.objects.order_by("lid")
    }


MIXED = [
    HEADER,
    "A-in_2h;;+34 600 000 001;p1@example.org;D1;CANCELLED by USER",  # 2: applied
    "A-in_30h;;;p2@example.org;D2;APPROVED",  # 3: confirmed
    "A-in_60h_cancelled_by_admin;;;;D2;CANCELLED by ADMIN",  # 4: already cancelled
    "A-in_80h;;;;D1;CANCELLED by USER",  # 5: the appointment is with D2
    "A-nope;;;;D1;CANCELLED by USER",  # 6: unknown
    "A-in_80h;;;;D2;MAYBE",  # 7: not a status
    "A-ago_10h;;;;D2;CANCELLED by ADMIN",  # 8: already started
    "A-in_80h;;;;D2;PENDING",  # 9: nothing to do
    ";;;;D2;APPROVED",  # 10: no APP_LID
]


@pytest.fixture(params=["ftp", "sftp", "file"])
def inbox(request, tmp_path):
    """(folder on disk, URL) of the folder tuOtempO drops its files in."""
    if request.param == "file":
        folder = tmp_path / "inbox"
        folder.mkdir()
        return folder, f"file://{folder}"
    server = request.getfixturevalue(f"{request.param}_server")
    return server.root, server.url("/")


def test_each_row_is_applied_on_its_own_and_reported(inbox, hospital):
    folder, url = inbox
    write(folder, "replies.csv", MIXED)

    status, _, error = run("import_cancellations", "--from", url)

    assert status == EXIT_PARTIAL
    assert error == "1 file(s), 9 row(s): 2 applied, 1 unchanged, 1 ignored, 5 refused. 1 file(s) moved to failed/: " \
        "see their .report.txt and the exchange log."  # fmt: skip
    appointments = {a.lid: a for a in Appointment.objects.all()}
    assert appointments["A-in_2h"].status == AppointmentStatus.CANCELLED_BY_USER
    assert appointments["A-in_2h"].cancelled_at is not None
    assert appointments["A-in_30h"].patient_confirmed_at is not None
    assert appointments["A-in_30h"].status == AppointmentStatus.PENDING  # the patient confirmed; the desk approves
    assert appointments["A-in_80h"].status == AppointmentStatus.APPROVED
    assert appointments["A-ago_10h"].status == AppointmentStatus.APPROVED
    outcomes = {row.line: (row.app_lid, row.outcome, row.message) for row in ExchangeRow.objects.all()}
    assert outcomes == {
        2: ("A-in_2h", RowOutcome.APPLIED, "Cancelled (by the patient)."),
        3: ("A-in_30h", RowOutcome.APPLIED, MSG_CONFIRMED),
        4: ("A-in_60h_cancelled_by_admin", RowOutcome.UNCHANGED, MSG_ALREADY_CANCELLED),
        5: ("A-in_80h", RowOutcome.REFUSED, MSG_OTHER_RESOURCE.format(app="A-in_80h", actual="D2", sent="D1")),
        6: ("A-nope", RowOutcome.REFUSED, "APP_LID 'A-nope' does not exist."),
        7: ("A-in_80h", RowOutcome.REFUSED, MSG_BAD_STATUS.format(status="MAYBE")),
        8: ("A-ago_10h", RowOutcome.REFUSED, outcomes[8][2]),
        9: ("A-in_80h", RowOutcome.IGNORED, MSG_PENDING),
        10: ("", RowOutcome.REFUSED, MSG_EMPTY_FIELD.format(field="APP_LID")),
    }
    assert "has already started" in outcomes[8][2]
    assert sorted(p.name for p in folder.iterdir()) == ["failed"]
    assert sorted(p.name for p in (folder / "failed").iterdir()) == ["replies.csv", "replies.csv.report.txt"]
    assert (folder / "failed" / "replies.csv").read_text().splitlines() == MIXED
    report = (folder / "failed" / "replies.csv.report.txt").read_text()
    assert (
        "line 5: APP_LID A-in_80h, RESOURCE_LID D1, STATUS CANCELLED by USER: REFUSED. Appointment A-in_80h" in report
    )
    assert "9 row(s), 5 refused." in report
    assert "600 000 001" not in report and "p1@example.org" not in report  # contact data is not kept
    logged = ExchangeRun.objects.get()
    assert (logged.outcome, logged.rows, logged.errors) == (RunOutcome.PARTIAL, 9, 5)
    assert logged.files == "replies.csv -> failed/replies.csv"


def test_a_file_applied_twice_changes_nothing(inbox, hospital):
    folder, url = inbox
    write(folder, "replies.csv", MIXED)
    run("import_cancellations", "--from", url)
    after_first = state()
    (folder / "failed" / "replies.csv").rename(folder / "replies.csv")

    status, _, error = run("import_cancellations", "--from", url)

    assert status == EXIT_PARTIAL
    assert error.startswith("1 file(s), 9 row(s): 0 applied, 3 unchanged, 1 ignored, 5 refused.")
    assert state() == after_first
    second = ExchangeRun.objects.latest("pk")
    assert {r.line: r.outcome for r in second.row_outcomes.all() if r.line in (2, 3, 4)} == dict.fromkeys(
        (2, 3, 4), RowOutcome.UNCHANGED
    )
    assert second.row_outcomes.get(line=3).message == MSG_ALREADY_CONFIRMED
    # The first report stays: the second run's file and report take the next free name.
    assert sorted(p.name for p in (folder / "failed").iterdir()) == [
        "replies.2.csv",
        "replies.2.csv.report.txt",
        "replies.csv.report.txt",
    ]


def test_a_file_of_good_rows_goes_to_processed(ftp_server, hospital):
    write(
        ftp_server.root,
        "ok.csv",
        ["app_lid,resource_lid,status", "A-in_2h,D1,CANCELLED by ADMIN", "A-in_80h,D2,approved"],  # commas, any case
    )

    status, out, error = run("import_cancellations", "--from", ftp_server.url("/"))

    assert (status, error) == (0, "")
    assert out.strip() == "1 file(s), 2 row(s): 2 applied, 0 unchanged, 0 ignored, 0 refused."
    assert Appointment.objects.get(lid="A-in_2h").status == AppointmentStatus.CANCELLED_BY_ADMIN
    assert Appointment.objects.get(lid="A-in_80h").patient_confirmed_at is not None
    assert sorted(p.name for p in (ftp_server.root / "processed").iterdir()) == ["ok.csv", "ok.csv.report.txt"]
    assert not (ftp_server.root / "ok.csv").exists()
    assert ExchangeRun.objects.get().outcome == RunOutcome.OK


def test_an_unreadable_file_applies_nothing_and_the_others_still_run(sftp_server, hospital):
    write(sftp_server.root, "a-latin1.csv", [HEADER, "A-in_2h;;;;D1;CANCELLED by USER  (señal)"], encoding="latin-1")
    write(sftp_server.root, "b-columns.csv", ["APP_LID;STATUS", "A-in_2h;CANCELLED by USER"])
    write(sftp_server.root, "c-empty.csv", [""])
    write(sftp_server.root, "d-good.csv", [HEADER, "A-in_30h;;;;D2;CANCELLED by USER"])
    (sftp_server.root / "notes.txt").write_text("not a csv")
    before = state()

    status, _, error = run("import_cancellations", "--from", sftp_server.url("/"))

    assert status == EXIT_PARTIAL
    assert error.startswith("4 file(s), 1 row(s): 1 applied")
    changed = {lid for lid, value in state().items() if before[lid] != value}
    assert changed == {"A-in_30h"}
    failed = sftp_server.root / "failed"
    assert "is not UTF-8 text (byte 0xf1" in (failed / "a-latin1.csv.report.txt").read_text()
    assert (
        "The header lacks RESOURCE_LID (it has APP_LID, STATUS): not applied."
        in (failed / "b-columns.csv.report.txt").read_text()
    )
    assert "The file is empty" in (failed / "c-empty.csv.report.txt").read_text()
    assert (sftp_server.root / "processed" / "d-good.csv").exists()
    assert (sftp_server.root / "notes.txt").exists()
    assert ExchangeRun.objects.get().errors == 3


def test_center_option_keeps_other_centers_appointments_out_of_reach(tmp_path, hospital):
    write(tmp_path, "replies.csv", [HEADER, "A-in_2h;;;;D1;CANCELLED by USER", "A-in_30h;;;;D2;CANCELLED by USER"])

    status, _, _ = run("import_cancellations", "--from", f"file://{tmp_path}", "--center", "LPA")

    assert status == EXIT_PARTIAL
    assert Appointment.objects.get(lid="A-in_2h").status == AppointmentStatus.APPROVED  # MAD's: untouched
    assert Appointment.objects.get(lid="A-in_30h").status == AppointmentStatus.CANCELLED_BY_USER
    refused = ExchangeRow.objects.get(outcome=RowOutcome.REFUSED)
    assert (refused.app_lid, refused.message) == ("A-in_2h", "APP_LID 'A-in_2h' does not exist.")


def test_a_confirmation_of_a_cancelled_appointment_is_refused(tmp_path, hospital):
    write(tmp_path, "replies.csv", [HEADER, "A-in_50h_cancelled;;;;D1;APPROVED"])

    assert run("import_cancellations", "--from", f"file://{tmp_path}")[0] == EXIT_PARTIAL

    row = ExchangeRow.objects.get()
    assert (row.outcome, row.message) == (
        RowOutcome.REFUSED,
        "Appointment A-in_50h_cancelled is cancelled: the patient's confirmation cannot be recorded.",
    )
    assert Appointment.objects.get(lid="A-in_50h_cancelled").patient_confirmed_at is None


def test_overlong_values_are_logged_cut_to_their_columns(tmp_path, hospital):
    write(tmp_path, "replies.csv", [HEADER, f"{'X' * 80};;;;{'D' * 70};{'S' * 90}"])

    assert run("import_cancellations", "--from", f"file://{tmp_path}")[0] == EXIT_PARTIAL

    row = ExchangeRow.objects.get()
    assert (len(row.app_lid), len(row.resource_lid), len(row.status)) == (50, 50, 50)


def test_an_empty_folder_is_a_quiet_success(tmp_path, hospital):
    status, out, _ = run("import_cancellations", "--from", f"file://{tmp_path}")

    assert status == 0
    assert out.strip() == "0 file(s), 0 row(s): 0 applied, 0 unchanged, 0 ignored, 0 refused."
    assert ExchangeRun.objects.get().outcome == RunOutcome.OK


def test_the_admin_shows_each_run_and_each_rows_outcome(tmp_path, hospital, admin_client):
    write(tmp_path, "replies.csv", MIXED)
    run("import_cancellations", "--from", f"file://{tmp_path}")
    logged = ExchangeRun.objects.get()

    listing = admin_client.get("/admin/exchange/exchangerun/")
    page = admin_client.get(f"/admin/exchange/exchangerun/{logged.pk}/change/")
    rows = admin_client.get("/admin/exchange/exchangerow/?outcome__exact=REFUSED")

    assert listing.status_code == page.status_code == rows.status_code == 200
    assert "import_cancellations" in listing.content.decode()
    content = page.content.decode()
    assert "A-nope" in content and "Cancelled (by the patient)." in content
    assert rows.content.decode().count("A-in_80h") >= 2
    assert admin_client.get("/admin/exchange/exchangerun/add/").status_code == 403
