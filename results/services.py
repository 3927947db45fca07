"""Writes of the medical results domain: importing a lab's manifest, uploading and withdrawing results.

Files only ever go through the result's FileField (Django's storage API), copied in chunks, so the
storage backend (local disk, S3-compatible...) is a settings choice, not a code change.
"""

import codecs
import csv
import functools
import io
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from django.core.files import File
from django.db import transaction
from django.utils import timezone

from centers.models import Center
from core.errors import INVALID_INPUT, DomainError, Term
from patients.models import Patient
from patients.selectors import follow_merges, patient_by_lid
from results.models import MedicalResult, ResultStatus
from results.selectors import missing_delivery_credentials

REQUIRED_COLUMNS = ("DOWNLOAD_LID", "USER_LID", "DOWNLOAD_CODE", "DOWNLOAD_FILENAME", "DOWNLOAD_TYPE", "FILE_PATH")
OPTIONAL_COLUMNS = ("STATUS", "CENTER_LID")
MANIFEST_STATUSES = {"": ResultStatus.VALID, "valid": ResultStatus.VALID, "cancelled": ResultStatus.WITHDRAWN}
CHUNK_SIZE = 1024 * 1024

MSG_MANIFEST_UNREADABLE = "the manifest {path} cannot be read: {error}."
MSG_MANIFEST_NOT_UTF8 = "the manifest is not UTF-8 text."
MSG_MANIFEST_EMPTY = "the manifest has no header line."
MSG_MANIFEST_NO_ROWS = "the manifest has no result rows."
MSG_MISSING_COLUMNS = "the header lacks the column(s) {columns}."
MSG_UNKNOWN_COLUMNS = "unknown column(s) {columns} in the header; expected {expected}."
MSG_DUPLICATE_COLUMNS = "the header names the column(s) {columns} more than once."
MSG_FIELD_COUNT = "the row has {found} fields but the header has {expected}."
MSG_EMPTY_FIELD = "{column} is empty."
MSG_TOO_LONG = "{column} is longer than {limit} characters."
MSG_BAD_LID = "DOWNLOAD_LID must not contain '/' or '\\' nor be '.' or '..'."
MSG_BAD_TYPE = "DOWNLOAD_TYPE {value!r} is not a file extension (letters and digits only, e.g. pdf)."
MSG_DUPLICATE_LID = "DOWNLOAD_LID {lid} already appears on line {line}."
MSG_BAD_STATUS = "STATUS {value!r} is neither Valid nor Cancelled."
MSG_UNKNOWN_PATIENT = "USER_LID {lid} is not a known patient."
MSG_UNKNOWN_CENTER = "CENTER_LID {lid} is not a known center."
MSG_NOT_DELIVERABLE = (
    "patient {lid} has no {fields}, which the delivery of a result needs (the patient gives it, with the "
    "result's code, to receive it): complete the patient's record first."
)
# The manifest names things by the guide's columns (its own format): these are the columns of the credentials.
FIELD_NAMES_OF_TERMS = {Term.MOBILE_PHONE: "USER_MOBILE_PHONE", Term.ID_NUMBER: "USER_ID_NUMBER"}
MSG_FILE_MISSING = "FILE_PATH {path} does not exist or is not a file."
MSG_FILE_UNREADABLE = "FILE_PATH {path} cannot be read: {error}."
MSG_FILE_NEEDED = "FILE_PATH is empty and DOWNLOAD_LID {lid} is not already imported; give the file."
MSG_FILE_EMPTY = "the file is empty."
MSG_TYPE_MISMATCH = "the file is not a {type} file (its content does not start like one)."
MSG_NOT_TEXT = "the file is not UTF-8 text, so it is not a txt file."
MSG_EXTENSION_MISMATCH = "DOWNLOAD_TYPE {type} cannot be checked by content and the file's extension is not .{type}."
MSG_IMPORT_REFUSED = "Nothing imported: {count} bad row(s) in the manifest."
MSG_UPLOAD_REFUSED = "Result {lid} was not stored: {problems}"
MSG_DETAILS_REFUSED = "Result {lid} was not changed: {problems}"
MSG_STORED_UNREADABLE = "the stored file {name} cannot be read to check its type: {error}."


@dataclass(frozen=True)
class RowProblem:
    line: int
    lid: str
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}, DOWNLOAD_LID {self.lid}" if self.lid else f"line {self.line}"
        return f"{where}: {self.reason}"


class ResultImportError(DomainError):
    """A manifest that cannot be imported; `problems` names every bad row."""

    def __init__(self, problems: list[RowProblem]):
        super().__init__(INVALID_INPUT, MSG_IMPORT_REFUSED, count=len(problems))
        self.problems = problems


@dataclass(frozen=True)
class ImportReport:
    new: int = 0
    updated: int = 0
    withdrawn: int = 0
    lids: tuple[str, ...] = ()

    @property
    def imported(self) -> int:
        return self.new + self.updated + self.withdrawn

    def __str__(self) -> str:
        return f"{self.imported} imported ({self.new} new, {self.updated} updated, {self.withdrawn} withdrawn)"


# --- content checks ---------------------------------------------------------------------------


def _starts_like_xml(head: bytes) -> bool:
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if head.startswith(bom):
            return head[len(bom) :].decode(encoding, errors="ignore").lstrip().startswith("<")
    return head.lstrip().startswith(b"<")


SIGNATURES = {
    "pdf": lambda h: h.startswith(b"%PDF-"),
    "png": lambda h: h.startswith(b"\x89PNG\r\n\x1a\n"),
    "jpg": lambda h: h.startswith(b"\xff\xd8\xff"),
    "jpeg": lambda h: h.startswith(b"\xff\xd8\xff"),
    "gif": lambda h: h.startswith((b"GIF87a", b"GIF89a")),
    "zip": lambda h: h.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")),
    "xml": _starts_like_xml,
    "dcm": lambda h: h[128:132] == b"DICM",
    "tif": lambda h: h.startswith((b"II*\x00", b"MM\x00*")),
    "tiff": lambda h: h.startswith((b"II*\x00", b"MM\x00*")),
}
HEAD_SIZE = 512
# What a medical result is, told by its content: the types SIGNATURES recognises, most specific first.
RESULT_TYPES = ("pdf", "png", "jpg", "gif", "tif", "dcm", "xml", "zip")


def detected_type(stream: IO[bytes]) -> str | None:
    """The result type (an extension of RESULT_TYPES) the content is, by its first bytes, whatever its
    name says; None when it is none of them (a text file, a document of another kind...). Reads from
    the stream's current position; the caller rewinds it."""
    head = stream.read(HEAD_SIZE)
    return next((kind for kind in RESULT_TYPES if head and SIGNATURES[kind](head)), None)


def new_result_lid() -> str:
    """An id for a result the hospital uploads by hand: the day and six random hex digits (R20261129-3FA9C1)."""
    return f"R{timezone.localdate():%Y%m%d}-{secrets.token_hex(3).upper()}"


def _is_utf8_text(stream: IO[bytes], head: bytes) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    chunk = head
    try:
        while chunk:
            if b"\x00" in chunk:  # UTF-8 allows NUL, but no text report contains one: it is binary
                return False
            decoder.decode(chunk)
            chunk = stream.read(CHUNK_SIZE)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def content_problem(*, file_type: str, file_name: str, stream: IO[bytes]) -> str | None:
    """Why the content read from `stream` is not a `file_type` file, or None when it is.
    Reads from the stream's current position, in chunks; the caller rewinds it afterwards."""
    head = stream.read(HEAD_SIZE)
    if not head:
        return MSG_FILE_EMPTY
    if file_type == "txt":
        return None if _is_utf8_text(stream, head) else MSG_NOT_TEXT
    check = SIGNATURES.get(file_type)
    if check is not None:
        return None if check(head) else MSG_TYPE_MISMATCH.format(type=file_type)
    if Path(file_name).suffix.lower().lstrip(".") != file_type:
        return MSG_EXTENSION_MISMATCH.format(type=file_type)
    return None


# --- fields ------------------------------------------------------------------------------------


def normalise_type(value: str) -> str:
    return value.strip().lower().removeprefix(".")


def field_problems(*, lid: str, code: str, filename: str, file_type: str) -> list[str]:
    """Why these values cannot be stored in a MedicalResult (empty, too long, unsafe)."""
    problems = []
    values = {"DOWNLOAD_LID": lid, "DOWNLOAD_CODE": code, "DOWNLOAD_FILENAME": filename, "DOWNLOAD_TYPE": file_type}
    names = {
        "DOWNLOAD_LID": "lid",
        "DOWNLOAD_CODE": "code",
        "DOWNLOAD_FILENAME": "filename",
        "DOWNLOAD_TYPE": "file_type",
    }
    for column, value in values.items():
        limit = MedicalResult._meta.get_field(names[column]).max_length
        if not value:
            problems.append(MSG_EMPTY_FIELD.format(column=column))
        elif len(value) > limit:
            problems.append(MSG_TOO_LONG.format(column=column, limit=limit))
    # The id becomes a folder of the storage path.
    if lid and ("/" in lid or "\\" in lid or lid in (".", "..")):
        problems.append(MSG_BAD_LID)
    if file_type and not re.fullmatch(r"[a-z0-9]+", file_type):
        problems.append(MSG_BAD_TYPE.format(value=file_type))
    return problems


def storage_basename(*, filename: str, file_type: str) -> str:
    """A safe last path segment for the stored file; DOWNLOAD_FILENAME is kept as given in the row."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[^-\w.]", "_", base).strip("._")
    return base or f"result.{file_type}"


def _delete_stored(names: Iterable[str], storage) -> None:
    for name in names:
        storage.delete(name)


def _store_file(*, result: MedicalResult, content: File, written: list[str]) -> None:
    """Copies the content into storage (in chunks, by the storage backend) as the result's file;
    the previous file is deleted only once the transaction commits."""
    old_name = result.file.name if result.pk else ""
    content.seek(0)
    result.file.save(storage_basename(filename=result.filename, file_type=result.file_type), content, save=False)
    written.append(result.file.name)
    result.size = result.file.size
    if old_name and old_name != result.file.name:
        transaction.on_commit(functools.partial(_delete_stored, [old_name], result.file.storage))


# --- the manifest ------------------------------------------------------------------------------


@dataclass
class ManifestRow:
    line: int
    lid: str
    user_lid: str
    code: str
    filename: str
    file_type: str
    file_path: str
    status: str
    center_lid: str
    patient: Patient | None = None
    center: Center | None = None
    path: Path | None = None
    problems: list[str] = field(default_factory=list)


def _read_manifest(path: Path) -> tuple[list[ManifestRow], list[RowProblem]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return [], [RowProblem(0, "", MSG_MANIFEST_UNREADABLE.format(path=path, error=exc.strerror or exc))]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [RowProblem(1, "", MSG_MANIFEST_NOT_UTF8)]
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        return [], [RowProblem(1, "", MSG_MANIFEST_EMPTY)]
    columns = [h.strip().upper() for h in header]
    header_problems = []
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        header_problems.append(MSG_MISSING_COLUMNS.format(columns=", ".join(missing)))
    unknown = [c for c in columns if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        expected = ", ".join(REQUIRED_COLUMNS) + " and optionally " + ", ".join(OPTIONAL_COLUMNS)
        header_problems.append(MSG_UNKNOWN_COLUMNS.format(columns=", ".join(unknown), expected=expected))
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        header_problems.append(MSG_DUPLICATE_COLUMNS.format(columns=", ".join(repeated)))
    if header_problems:
        return [], [RowProblem(1, "", " ".join(header_problems))]

    rows, problems = [], []
    last_line = reader.line_num
    for values in reader:
        line, last_line = last_line + 1, reader.line_num
        if not any(v.strip() for v in values):
            continue
        # Spreadsheets often add empty trailing cells; those are harmless.
        while len(values) > len(columns) and not values[-1].strip():
            values = values[:-1]
        record = {c: v.strip() for c, v in zip(columns, values, strict=False)}
        row = ManifestRow(
            line=line,
            lid=record.get("DOWNLOAD_LID", ""),
            user_lid=record.get("USER_LID", ""),
            code=record.get("DOWNLOAD_CODE", ""),
            filename=record.get("DOWNLOAD_FILENAME", ""),
            file_type=normalise_type(record.get("DOWNLOAD_TYPE", "")),
            file_path=record.get("FILE_PATH", ""),
            status=record.get("STATUS", ""),
            center_lid=record.get("CENTER_LID", ""),
        )
        if len(values) != len(columns):
            problems.append(RowProblem(line, row.lid, MSG_FIELD_COUNT.format(found=len(values), expected=len(columns))))
            continue
        rows.append(row)
    if not rows and not problems:
        problems.append(RowProblem(last_line, "", MSG_MANIFEST_NO_ROWS))
    return rows, problems


def _check_row(row: ManifestRow, *, base: Path, seen: dict[str, int], existing: set[str], patients, centers) -> None:
    row.problems.extend(field_problems(lid=row.lid, code=row.code, filename=row.filename, file_type=row.file_type))
    if row.user_lid == "":
        row.problems.append(MSG_EMPTY_FIELD.format(column="USER_LID"))
    if row.lid:
        if row.lid in seen:
            row.problems.append(MSG_DUPLICATE_LID.format(lid=row.lid, line=seen[row.lid]))
        else:
            seen[row.lid] = row.line
    if row.status.lower() not in MANIFEST_STATUSES:
        row.problems.append(MSG_BAD_STATUS.format(value=row.status))
    if row.user_lid:
        if row.user_lid not in patients:
            try:
                patients[row.user_lid] = patient_by_lid(row.user_lid)
            except DomainError as exc:  # a merge cycle
                patients[row.user_lid] = exc.message
        found = patients[row.user_lid]
        if found is None:
            row.problems.append(MSG_UNKNOWN_PATIENT.format(lid=row.user_lid))
        elif isinstance(found, str):
            row.problems.append(found)
        else:
            row.patient = found
            missing = missing_delivery_credentials(found)
            if missing:
                names = " and ".join(FIELD_NAMES_OF_TERMS[term] for term in missing)
                row.problems.append(MSG_NOT_DELIVERABLE.format(lid=row.user_lid, fields=names))
    if row.center_lid:
        if row.center_lid not in centers:
            centers[row.center_lid] = Center.objects.filter(lid=row.center_lid).first()
        row.center = centers[row.center_lid]
        if row.center is None:
            row.problems.append(MSG_UNKNOWN_CENTER.format(lid=row.center_lid))
    if not row.file_path:
        # Withdrawing a result already imported needs no file: the stored one is kept.
        if not (MANIFEST_STATUSES.get(row.status.lower()) == ResultStatus.WITHDRAWN and row.lid in existing):
            row.problems.append(
                MSG_FILE_NEEDED.format(lid=row.lid) if row.lid else MSG_EMPTY_FIELD.format(column="FILE_PATH")
            )
        return
    path = Path(row.file_path)
    path = path if path.is_absolute() else base / path
    if not path.is_file():
        row.problems.append(MSG_FILE_MISSING.format(path=row.file_path))
        return
    try:
        with path.open("rb") as stream:
            problem = (
                content_problem(file_type=row.file_type, file_name=path.name, stream=stream) if row.file_type else None
            )
    except OSError as exc:
        row.problems.append(MSG_FILE_UNREADABLE.format(path=row.file_path, error=exc.strerror or exc))
        return
    if problem:
        row.problems.append(f"FILE_PATH {row.file_path}: {problem}")
    row.path = path


def import_manifest(*, path: Path) -> ImportReport:
    """Loads every result of a lab's CSV manifest, or none: a manifest with any bad row changes
    nothing and raises ResultImportError naming each bad row. A DOWNLOAD_LID already imported is
    updated (its new file replaces the old one); STATUS Cancelled withdraws it. Results of merged
    patients go to the surviving record."""
    path = Path(path)
    rows, problems = _read_manifest(path)
    base = path.resolve().parent
    existing = set(MedicalResult.objects.filter(lid__in=[r.lid for r in rows]).values_list("lid", flat=True))
    seen: dict[str, int] = {}
    patients: dict = {}
    centers: dict = {}
    for row in rows:
        _check_row(row, base=base, seen=seen, existing=existing, patients=patients, centers=centers)
        if row.problems:
            problems.append(RowProblem(row.line, row.lid, " ".join(row.problems)))
    if problems:
        raise ResultImportError(sorted(problems, key=lambda p: p.line))
    return _write_rows(rows)


def _write_rows(rows: list[ManifestRow]) -> ImportReport:
    written: list[str] = []
    storage = MedicalResult._meta.get_field("file").storage
    counts = {"new": 0, "updated": 0, "withdrawn": 0}
    try:
        with transaction.atomic():
            current = {
                r.lid: r for r in MedicalResult.objects.select_for_update().filter(lid__in=[r.lid for r in rows])
            }
            for row in rows:
                result = current.get(row.lid) or MedicalResult(lid=row.lid)
                is_new = result.pk is None
                if is_new and row.path is None:  # imported rows vanished since the check
                    raise ResultImportError([RowProblem(row.line, row.lid, MSG_FILE_NEEDED.format(lid=row.lid))])
                result.code, result.filename, result.file_type = row.code, row.filename, row.file_type
                result.patient, result.center = row.patient, row.center
                result.status = MANIFEST_STATUSES[row.status.lower()]
                if row.path is not None:
                    with row.path.open("rb") as stream:
                        _store_file(result=result, content=File(stream), written=written)
                result.save()
                if result.status == ResultStatus.WITHDRAWN:
                    counts["withdrawn"] += 1
                else:
                    counts["new" if is_new else "updated"] += 1
    except BaseException:
        _delete_stored(written, storage)
        raise
    return ImportReport(**counts, lids=tuple(r.lid for r in rows))


# --- single results ----------------------------------------------------------------------------


def upload_problems(*, lid: str, code: str, filename: str, file_type: str, content: File) -> list[str]:
    """Why upload_result would refuse these details and content (empty, too long or unsafe values,
    content not of DOWNLOAD_TYPE); empty when it would store them. Leaves the content rewound."""
    lid, code, filename, file_type = lid.strip(), code.strip(), filename.strip(), normalise_type(file_type)
    # An empty id is one upload_result makes: checked as one.
    problems = field_problems(lid=lid or new_result_lid(), code=code, filename=filename, file_type=file_type)
    if file_type and not problems:
        content.seek(0)
        problem = content_problem(file_type=file_type, file_name=content.name or filename, stream=content)
        content.seek(0)
        if problem:
            problems.append(problem)
    return problems


@transaction.atomic
def upload_result(
    *,
    patient: Patient,
    lid: str,
    code: str,
    filename: str,
    file_type: str,
    content: File,
    center: Center | None = None,
) -> MedicalResult:
    """Stores one result for the patient (its surviving record if merged), or replaces the file and
    details of the result with that DOWNLOAD_LID (an empty one: a new id, new_result_lid). The content
    must match DOWNLOAD_TYPE, checked as the import checks it."""
    lid, code, filename, file_type = lid.strip(), code.strip(), filename.strip(), normalise_type(file_type)
    lid = lid or new_result_lid()
    problems = upload_problems(lid=lid, code=code, filename=filename, file_type=file_type, content=content)
    if problems:
        raise DomainError(
            INVALID_INPUT, MSG_UPLOAD_REFUSED, lid=lid or "(no DOWNLOAD_LID)", problems=" ".join(problems)
        )
    result = MedicalResult.objects.select_for_update().filter(lid=lid).first() or MedicalResult(lid=lid)
    result.code, result.filename, result.file_type = code, filename, file_type
    result.patient, result.center, result.status = follow_merges(patient), center, ResultStatus.VALID
    written: list[str] = []
    try:
        with transaction.atomic():
            _store_file(result=result, content=content, written=written)
            result.save()
    except BaseException:
        _delete_stored(written, result.file.storage)
        raise
    return result


def details_problems(*, result: MedicalResult, code: str, filename: str, file_type: str) -> list[str]:
    """Why update_result_details would refuse these details of the stored result; empty when it would
    save them. A new DOWNLOAD_TYPE must describe the file already stored."""
    code, filename, file_type = code.strip(), filename.strip(), normalise_type(file_type)
    problems = field_problems(lid=result.lid, code=code, filename=filename, file_type=file_type)
    if not problems and file_type != result.file_type:
        try:
            with result.file.open("rb") as stream:
                problem = content_problem(file_type=file_type, file_name=result.file.name, stream=stream)
        except OSError as exc:
            problem = MSG_STORED_UNREADABLE.format(name=result.file.name, error=exc.strerror or exc)
        if problem:
            problems.append(problem)
    return problems


@transaction.atomic
def update_result_details(
    *, result: MedicalResult, code: str, filename: str, file_type: str, patient: Patient, center: Center | None = None
) -> MedicalResult:
    """Corrects what is said about a result (code, name, type, patient, center) keeping its file and
    status; the patient becomes its surviving record if merged."""
    # Compare with what is stored, not with an instance a form may already have changed.
    current = MedicalResult.objects.select_for_update().get(pk=result.pk)
    problems = details_problems(result=current, code=code, filename=filename, file_type=file_type)
    if problems:
        raise DomainError(INVALID_INPUT, MSG_DETAILS_REFUSED, lid=current.lid, problems=" ".join(problems))
    current.code, current.filename, current.file_type = code.strip(), filename.strip(), normalise_type(file_type)
    current.patient, current.center = follow_merges(patient), center
    current.save(update_fields=["code", "filename", "file_type", "patient", "center", "modified"])
    return current


@transaction.atomic
def withdraw_result(*, result: MedicalResult) -> bool:
    """Withdraws the result: tuOtempO lists it as Cancelled and no longer delivers its content.
    The file is kept. Withdrawing a withdrawn result changes nothing. True when this call withdrew it."""
    updated = MedicalResult.objects.filter(pk=result.pk).exclude(status=ResultStatus.WITHDRAWN)
    if not updated.update(status=ResultStatus.WITHDRAWN, modified=timezone.now()):
        return False
    result.status = ResultStatus.WITHDRAWN
    return True
