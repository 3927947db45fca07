import os
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from demo.factories import CenterFactory, PatientFactory
from results import services
from results.models import MedicalResult, ResultStatus
from results.services import (
    MSG_BAD_STATUS,
    MSG_DUPLICATE_LID,
    MSG_FILE_MISSING,
    MSG_NOT_DELIVERABLE,
    MSG_TYPE_MISMATCH,
    MSG_UNKNOWN_CENTER,
    MSG_UNKNOWN_PATIENT,
    ResultImportError,
    import_manifest,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% lab report\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
HEADER = "DOWNLOAD_LID,USER_LID,DOWNLOAD_CODE,DOWNLOAD_FILENAME,DOWNLOAD_TYPE,FILE_PATH,STATUS,CENTER_LID"


def write_manifest(folder: Path, lines: list[str], *, name="manifest.csv", encoding="utf-8") -> Path:
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def run(path: Path) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_results", str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_imports_every_row_with_its_file(tmp_path):
    patient = PatientFactory(lid="P1")
    center = CenterFactory(lid="C1")
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "r1.pdf").write_bytes(PDF)
    (tmp_path / "files" / "r2.png").write_bytes(PNG)
    manifest = write_manifest(
        tmp_path,
        [
            HEADER,
            "R1,P1,0001,informe.pdf,pdf,files/r1.pdf,Valid,C1",
            f"R2,P1,0002,placa.png,PNG,{tmp_path / 'files' / 'r2.png'},,",
        ],
    )

    out, err = run(manifest)

    assert "2 imported (2 new, 0 updated, 0 withdrawn)" in out
    assert err == ""
    r1, r2 = MedicalResult.objects.order_by("lid")
    assert (r1.patient, r1.center, r1.code, r1.filename, r1.file_type) == (
        patient,
        center,
        "0001",
        "informe.pdf",
        "pdf",
    )
    assert (r2.center, r2.file_type, r2.status) == (None, "png", ResultStatus.VALID)
    with default_storage.open(r1.file.name, "rb") as stored:
        assert stored.read() == PDF
    with default_storage.open(r2.file.name, "rb") as stored:
        assert stored.read() == PNG
    assert (r1.size, r2.size) == (len(PDF), len(PNG))


def test_it_imports_nothing_and_names_every_bad_row(tmp_path):
    PatientFactory(lid="P1")
    CenterFactory(lid="C1")
    (tmp_path / "ok.pdf").write_bytes(PDF)
    (tmp_path / "image.png").write_bytes(PNG)
    manifest = write_manifest(
        tmp_path,
        [
            HEADER,
            "R1,P1,0001,ok.pdf,pdf,ok.pdf,Valid,C1",  # line 2: good
            "R2,NOBODY,0002,a.pdf,pdf,ok.pdf,,",  # line 3: unknown patient
            "R3,P1,0003,b.pdf,pdf,missing.pdf,,",  # line 4: missing file
            "R4,P1,0004,c.pdf,pdf,image.png,,",  # line 5: pdf type on a PNG file
            "R1,P1,0005,d.pdf,pdf,ok.pdf,,",  # line 6: duplicate id
            "R6,P1,0006,e.pdf,pdf,ok.pdf,Deleted,",  # line 7: bad STATUS
            "R7,P1,0007,f.pdf,pdf,ok.pdf,,C99",  # line 8: unknown center
        ],
    )
    err = StringIO()

    with pytest.raises(CommandError, match="Nothing imported: 6 bad row"):
        call_command("import_results", str(manifest), stdout=StringIO(), stderr=err)

    assert MedicalResult.objects.count() == 0
    assert stored_files() == []
    assert err.getvalue().splitlines() == [
        f"line 3, DOWNLOAD_LID R2: {MSG_UNKNOWN_PATIENT.format(lid='NOBODY')}",
        f"line 4, DOWNLOAD_LID R3: {MSG_FILE_MISSING.format(path='missing.pdf')}",
        f"line 5, DOWNLOAD_LID R4: FILE_PATH image.png: {MSG_TYPE_MISMATCH.format(type='pdf')}",
        f"line 6, DOWNLOAD_LID R1: {MSG_DUPLICATE_LID.format(lid='R1', line=2)}",
        f"line 7, DOWNLOAD_LID R6: {MSG_BAD_STATUS.format(value='Deleted')}",
        f"line 8, DOWNLOAD_LID R7: {MSG_UNKNOWN_CENTER.format(lid='C99')}",
    ]


def test_a_result_whose_patient_lacks_the_delivery_credential_is_refused_naming_it(tmp_path):
    """The guide has USER_MOBILE_PHONE and USER_ID_NUMBER NOT NULL in a result: the patient gives them to
    receive it, so a result the patient could never receive is refused at import."""
    PatientFactory(lid="P1", mobile_phone="", id_number="")
    PatientFactory(lid="P2", mobile_phone="600000002", id_number="")
    (tmp_path / "ok.pdf").write_bytes(PDF)
    manifest = write_manifest(tmp_path, [HEADER, "R1,P1,0001,ok.pdf,pdf,ok.pdf,,", "R2,P2,0002,ok.pdf,pdf,ok.pdf,,"])
    err = StringIO()

    with pytest.raises(CommandError, match="Nothing imported: 2 bad row"):
        call_command("import_results", str(manifest), stdout=StringIO(), stderr=err)

    both = "USER_MOBILE_PHONE and USER_ID_NUMBER"
    assert err.getvalue().splitlines() == [
        f"line 2, DOWNLOAD_LID R1: {MSG_NOT_DELIVERABLE.format(lid='P1', fields=both)}",
        f"line 3, DOWNLOAD_LID R2: {MSG_NOT_DELIVERABLE.format(lid='P2', fields='USER_ID_NUMBER')}",
    ]
    assert MedicalResult.objects.count() == 0


def test_it_reports_empty_and_too_long_fields(tmp_path):
    PatientFactory(lid="P1")
    (tmp_path / "ok.pdf").write_bytes(PDF)
    manifest = write_manifest(
        tmp_path,
        [
            "DOWNLOAD_LID,USER_LID,DOWNLOAD_CODE,DOWNLOAD_FILENAME,DOWNLOAD_TYPE,FILE_PATH",
            f"R1,P1,,{'x' * 300},pdf,ok.pdf",
        ],
    )

    with pytest.raises(ResultImportError) as caught:
        import_manifest(path=manifest)

    [problem] = caught.value.problems
    assert (problem.line, problem.lid) == (2, "R1")
    assert "DOWNLOAD_CODE is empty." in problem.reason
    assert "DOWNLOAD_FILENAME is longer than 255 characters." in problem.reason
    assert MedicalResult.objects.count() == 0


def test_reimport_replaces_the_file_and_cancelled_withdraws(tmp_path, django_capture_on_commit_callbacks):
    PatientFactory(lid="P1")
    (tmp_path / "v1.pdf").write_bytes(PDF)
    (tmp_path / "other.pdf").write_bytes(PDF)
    with django_capture_on_commit_callbacks(execute=True):
        run(write_manifest(tmp_path, [HEADER, "R1,P1,0001,r.pdf,pdf,v1.pdf,,", "R2,P1,0002,o.pdf,pdf,other.pdf,,"]))
    first_name = MedicalResult.objects.get(lid="R1").file.name
    new_content = b"%PDF-1.7\n% corrected report\n%%EOF\n"
    (tmp_path / "v2.pdf").write_bytes(new_content)

    with django_capture_on_commit_callbacks(execute=True):
        out, _ = run(
            write_manifest(
                tmp_path,
                [HEADER, "R1,P1,0099,r.pdf,pdf,v2.pdf,Valid,", "R2,P1,0002,o.pdf,pdf,,Cancelled,"],
                name="second.csv",
            )
        )

    assert "2 imported (0 new, 1 updated, 1 withdrawn)" in out
    r1, r2 = MedicalResult.objects.order_by("lid")
    assert (r1.code, r1.status, r1.size) == ("0099", ResultStatus.VALID, len(new_content))
    with default_storage.open(r1.file.name, "rb") as stored:
        assert stored.read() == new_content
    assert not default_storage.exists(first_name)
    assert r2.status == ResultStatus.WITHDRAWN
    assert default_storage.exists(r2.file.name)  # a withdrawn result keeps its file
    assert len(stored_files()) == 2


def test_it_accepts_semicolons_a_bom_and_lower_case_headers(tmp_path):
    PatientFactory(lid="P1")
    (tmp_path / "nota.txt").write_text("Resultado: normal. Año 2026\n", encoding="utf-8")
    manifest = write_manifest(
        tmp_path,
        [
            "download_lid;user_lid;download_code;download_filename;download_type;file_path;status",
            "R1;P1;0001;nota.txt;txt;nota.txt;valid",
        ],
        encoding="utf-8-sig",
    )

    out, _ = run(manifest)

    assert "1 imported (1 new, 0 updated, 0 withdrawn)" in out
    result = MedicalResult.objects.get()
    assert (result.lid, result.file_type, result.status) == ("R1", "txt", ResultStatus.VALID)


def test_it_attaches_a_merged_patients_result_to_the_surviving_record(tmp_path):
    survivor = PatientFactory(lid="P2")
    PatientFactory(lid="P1", merged_into=survivor)
    (tmp_path / "r.pdf").write_bytes(PDF)

    run(write_manifest(tmp_path, [HEADER, "R1,P1,0001,r.pdf,pdf,r.pdf,,"]))

    assert MedicalResult.objects.get().patient == survivor


@pytest.mark.parametrize(
    ("file_type", "content", "accepted"),
    [
        ("jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 20, True),
        ("gif", b"GIF89a" + b"\x00" * 20, True),
        ("zip", b"PK\x03\x04" + b"\x00" * 20, True),
        ("xml", b"\xef\xbb\xbf<?xml version='1.0'?><r/>", True),
        ("dcm", b"\x00" * 128 + b"DICM" + b"\x00" * 20, True),
        ("dcm", b"\x00" * 200, False),
        ("txt", b"caf\xe9 latin-1", False),
        ("txt", PNG, False),
        ("png", PDF, False),
    ],
)
def test_it_checks_the_content_against_the_type(tmp_path, file_type, content, accepted):
    PatientFactory(lid="P1")
    (tmp_path / f"file.{file_type}").write_bytes(content)
    manifest = write_manifest(tmp_path, [HEADER, f"R1,P1,0001,f.{file_type},{file_type},file.{file_type},,"])

    if accepted:
        import_manifest(path=manifest)
        assert MedicalResult.objects.get().file_type == file_type
    else:
        with pytest.raises(ResultImportError):
            import_manifest(path=manifest)
        assert MedicalResult.objects.count() == 0


def test_an_unchecked_type_needs_a_matching_extension(tmp_path):
    PatientFactory(lid="P1")
    (tmp_path / "report.docx").write_bytes(b"anything")
    (tmp_path / "report.bin").write_bytes(b"anything")

    with pytest.raises(ResultImportError):
        import_manifest(path=write_manifest(tmp_path, [HEADER, "R1,P1,1,r.docx,docx,report.bin,,"]))
    report = import_manifest(path=write_manifest(tmp_path, [HEADER, "R1,P1,1,r.docx,docx,report.docx,,"], name="b.csv"))

    assert report.new == 1
    assert MedicalResult.objects.get().file_type == "docx"


def test_it_removes_written_files_when_the_database_write_fails(tmp_path, monkeypatch):
    PatientFactory(lid="P1")
    (tmp_path / "r.pdf").write_bytes(PDF)
    manifest = write_manifest(tmp_path, [HEADER, "R1,P1,1,a.pdf,pdf,r.pdf,,", "R2,P1,2,b.pdf,pdf,r.pdf,,"])
    original_save, calls = MedicalResult.save, []

    def failing_save(self, *args, **kwargs):
        calls.append(self.lid)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return original_save(self, *args, **kwargs)

    monkeypatch.setattr(MedicalResult, "save", failing_save)

    with pytest.raises(RuntimeError):
        import_manifest(path=manifest)

    assert calls == ["R1", "R2"]
    assert MedicalResult.objects.count() == 0
    assert stored_files() == []


def test_a_20_mb_file_is_stored_whole_in_chunks(tmp_path, monkeypatch):
    PatientFactory(lid="P1")
    big = tmp_path / "scan.pdf"
    size = 20 * 1024 * 1024 + 17
    with big.open("wb") as handle:
        handle.write(b"%PDF-1.4\n")
        handle.truncate(size)  # sparse: fast to make
    reads = []
    original_content_problem = services.content_problem

    def counting(**kwargs):
        stream = kwargs["stream"]
        original_read = stream.read
        stream.read = lambda n=-1: reads.append(n) or original_read(n)
        return original_content_problem(**kwargs)

    monkeypatch.setattr(services, "content_problem", counting)

    run(write_manifest(tmp_path, [HEADER, "R1,P1,1,scan.pdf,pdf,scan.pdf,,"]))

    result = MedicalResult.objects.get()
    assert result.size == size
    assert default_storage.size(result.file.name) == size
    assert os.path.getsize(Path(settings.MEDIA_ROOT) / result.file.name) == size
    assert reads == [services.HEAD_SIZE]  # the type check read the head only
