"""tuOtempO's replies to reminders (guide A.1.2.1): files of APP_LID, phones, e-mail, RESOURCE_LID
and STATUS. Each row is applied on its own through the domain: "CANCELLED by USER" / "CANCELLED by
ADMIN" cancel the appointment, "APPROVED" records the patient's confirmation, "PENDING" needs
nothing. A row is applied only when its APP_LID and RESOURCE_LID name the same appointment.

Applying a file again changes nothing. A bad row is refused and reported without stopping the
others; a file that cannot be read as a whole (not UTF-8, no header, a column missing) applies
nothing. Each file is then moved to processed/ (every row applied, or already in effect) or
failed/ (anything refused), with NAME.report.txt beside it; every row's outcome is in the exchange
log. Contact data in the file is not used, nor kept anywhere.
"""

import csv
import io
from dataclasses import dataclass

from django.utils import timezone

from exchange import domain
from exchange.models import ExchangeRow, ExchangeRun, RowOutcome
from exchange.runs import RunReport
from exchange.transports import Folder
from tuotempo.words import FIELD_NAMES

REQUIRED = ("APP_LID", "RESOURCE_LID", "STATUS")
MAX_FILE_BYTES = 64 * 1024 * 1024
PROCESSED, FAILED = "processed", "failed"

CANCEL_BY_USER, CANCEL_BY_ADMIN, CONFIRM, NOTHING = "cancel by user", "cancel by admin", "confirm", "nothing"
STATUS_ACTIONS = {
    "CANCELLED BY USER": CANCEL_BY_USER,
    "CANCELLED BY ADMIN": CANCEL_BY_ADMIN,
    "APPROVED": CONFIRM,
    "PENDING": NOTHING,
}

MSG_TOO_LARGE = "The file is larger than {limit} MB: not applied."
MSG_NOT_UTF8 = "The file is not UTF-8 text (byte {byte} at position {position}): not applied."
MSG_EMPTY = "The file is empty: no header row, nothing applied."
MSG_MISSING_COLUMNS = "The header lacks {columns} (it has {found}): not applied."
MSG_BAD_CSV = "The file cannot be read as CSV ({reason}): not applied."
MSG_EMPTY_FIELD = "{field} is empty."
MSG_BAD_STATUS = "STATUS {status!r} is not one of PENDING, APPROVED, CANCELLED by USER, CANCELLED by ADMIN."
MSG_OTHER_RESOURCE = "Appointment {app} is with RESOURCE_LID {actual}, not {sent}: nothing changed."
MSG_CANCELLED = "Cancelled ({by})."
MSG_ALREADY_CANCELLED = "Already cancelled: nothing changed."
MSG_CONFIRMED = "Confirmed by the patient."
MSG_ALREADY_CONFIRMED = "The patient's confirmation was already recorded: nothing changed."
MSG_PENDING = "PENDING is not a reply: nothing to do."
MSG_SUMMARY = (
    "{files} file(s), {rows} row(s): {applied} applied, {unchanged} unchanged, {ignored} ignored, {refused} refused."
)
MSG_FILES_FAILED = " {failed} file(s) moved to failed/: see their .report.txt and the exchange log."


class FileRefused(Exception):
    """The file cannot be applied as a whole."""


@dataclass(frozen=True)
class RowResult:
    line: int
    app_lid: str
    resource_lid: str
    status: str
    outcome: str
    message: str


def read_rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """The data rows of a file with their line numbers; the separator (`;`, `,` or tab) is the one
    the header uses, and header names count in any letter case."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRefused(MSG_NOT_UTF8.format(byte=f"0x{data[exc.start]:02x}", position=exc.start)) from None
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise FileRefused(MSG_EMPTY)
    header_line = lines[0]
    separator = max((";", ",", "\t"), key=header_line.count)
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=separator))
    except csv.Error as exc:
        raise FileRefused(MSG_BAD_CSV.format(reason=exc)) from None
    header = [name.strip().strip("[]").upper() for name in records[0]]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise FileRefused(MSG_MISSING_COLUMNS.format(columns=", ".join(missing), found=", ".join(header) or "nothing"))
    rows = []
    for number, record in enumerate(records[1:], start=2):
        if not any(value.strip() for value in record):
            continue
        rows.append((number, {name: value.strip() for name, value in zip(header, record, strict=False)}))
    return rows


def apply_row(line: int, row: dict[str, str], centers) -> RowResult:
    """Applies one row through the domain and says what it did."""
    app_lid, resource_lid, status = row.get("APP_LID", ""), row.get("RESOURCE_LID", ""), row.get("STATUS", "")

    def result(outcome: str, message: str) -> RowResult:
        return RowResult(line, app_lid, resource_lid, status, outcome, message)

    for name, value in (("APP_LID", app_lid), ("RESOURCE_LID", resource_lid), ("STATUS", status)):
        if not value:
            return result(RowOutcome.REFUSED, MSG_EMPTY_FIELD.format(field=name))
    action = STATUS_ACTIONS.get(" ".join(status.replace("_", " ").split()).upper())
    if action is None:
        return result(RowOutcome.REFUSED, MSG_BAD_STATUS.format(status=status))
    try:
        appointment = domain.appointment_named(lid=app_lid, centers=centers)
        if appointment.resource.lid != resource_lid:
            return result(
                RowOutcome.REFUSED,
                MSG_OTHER_RESOURCE.format(app=app_lid, actual=appointment.resource.lid, sent=resource_lid),
            )
        if action == NOTHING:
            return result(RowOutcome.IGNORED, MSG_PENDING)
        if action == CONFIRM:
            if domain.confirm(appointment=appointment):
                return result(RowOutcome.APPLIED, MSG_CONFIRMED)
            return result(RowOutcome.UNCHANGED, MSG_ALREADY_CONFIRMED)
        by_admin = action == CANCEL_BY_ADMIN
        if domain.cancel(appointment=appointment, by_admin=by_admin):
            return result(
                RowOutcome.APPLIED, MSG_CANCELLED.format(by="by the hospital" if by_admin else "by the patient")
            )
        return result(RowOutcome.UNCHANGED, MSG_ALREADY_CANCELLED)
    except domain.DomainError as exc:
        return result(RowOutcome.REFUSED, exc.render(FIELD_NAMES))  # the file's own words: APP_LID...


def import_folder(*, folder: Folder, run: ExchangeRun, center: str | None) -> RunReport:
    """Applies every *.csv file of the folder, in name order, and files each away with its report."""
    centers = domain.center_named(center)
    report = RunReport()
    counts = dict.fromkeys(RowOutcome.values, 0)
    names = [n for n in folder.files() if n.lower().endswith(".csv") and not n.startswith(".")]
    failed_files = 0
    for name in names:
        results, problem = _apply_file(folder, name, centers)
        for row in results:
            counts[row.outcome] += 1
        ExchangeRow.objects.bulk_create(
            [
                ExchangeRow(
                    run=run,
                    file_name=name[:255],
                    line=row.line,
                    app_lid=row.app_lid[:50],
                    resource_lid=row.resource_lid[:50],
                    status=row.status[:50],
                    outcome=row.outcome,
                    message=row.message[:500],
                )
                for row in results
            ]
        )
        refused = problem is not None or any(row.outcome == RowOutcome.REFUSED for row in results)
        subfolder = FAILED if refused else PROCESSED
        target = folder.free_name(name, subfolder)
        text = _report_text(name, results, problem)
        folder.write(f"{target}.report.txt", io.BytesIO(text.encode("utf-8")), subfolder)
        folder.move(name, subfolder, target)
        report.rows += len(results)
        report.errors += sum(row.outcome == RowOutcome.REFUSED for row in results) + (problem is not None)
        failed_files += refused
        report.files.append(f"{name} -> {subfolder}/{target}")
    report.summary = MSG_SUMMARY.format(
        files=len(names),
        rows=report.rows,
        applied=counts[RowOutcome.APPLIED],
        unchanged=counts[RowOutcome.UNCHANGED],
        ignored=counts[RowOutcome.IGNORED],
        refused=counts[RowOutcome.REFUSED],
    ) + (MSG_FILES_FAILED.format(failed=failed_files) if failed_files else "")
    return report


class _Limited(io.BytesIO):
    def write(self, data) -> int:
        if self.tell() + len(data) > MAX_FILE_BYTES:
            raise FileRefused(MSG_TOO_LARGE.format(limit=MAX_FILE_BYTES // (1024 * 1024)))
        return super().write(data)


def _apply_file(folder: Folder, name: str, centers) -> tuple[list[RowResult], str | None]:
    buffer = _Limited()
    try:
        folder.read(name, buffer)
        rows = read_rows(buffer.getvalue())
    except FileRefused as exc:
        return [], str(exc)
    return [apply_row(line, row, centers) for line, row in rows], None


def _report_text(name: str, results: list[RowResult], problem: str | None) -> str:
    lines = [f"{name}, read {timezone.localtime():%d/%m/%Y %H:%M:%S}"]
    if problem:
        lines.append(problem)
    for row in results:
        lines.append(
            f"line {row.line}: APP_LID {row.app_lid or '-'}, RESOURCE_LID {row.resource_lid or '-'}, "
            f"STATUS {row.status or '-'}: {row.outcome}. {row.message}"
        )
    if not problem:
        refused = sum(row.outcome == RowOutcome.REFUSED for row in results)
        lines.append(f"{len(results)} row(s), {refused} refused.")
    return "\n".join(lines) + "\n"
