import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from core.errors import INVALID_INPUT, NOT_FOUND, SERVICE_UNAVAILABLE, DomainError
from demo.factories import CenterFactory, MedicalResultFactory, PatientFactory
from patients.selectors import patient_by_lid
from results.models import MedicalResult, ResultStatus
from results.selectors import (
    MSG_CONTENT_UNAVAILABLE,
    MSG_RESULT_NOT_FOUND,
    open_result_content,
    result_for_download,
    results_for_patient,
)
from results.services import MSG_TYPE_MISMATCH, upload_result, withdraw_result
from tests.messages import said

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% report\n%%EOF\n"


def make_result(*, days_ago: float, **kwargs) -> MedicalResult:
    result = MedicalResultFactory(**kwargs)
    # `created` is auto_now_add: set the past through an update.
    MedicalResult.objects.filter(pk=result.pk).update(created=timezone.now() - dt.timedelta(days=days_ago))
    result.refresh_from_db()
    return result


def test_results_for_patient_defaults_to_the_last_7_days_newest_first():
    patient = PatientFactory()
    old = make_result(patient=patient, days_ago=10)
    week = make_result(patient=patient, days_ago=5)
    today = make_result(patient=patient, days_ago=0)
    make_result(patient=PatientFactory(), days_ago=1)  # another patient's

    results = results_for_patient(patient=patient, since=None, centers=None)

    assert results == [today, week]
    assert old not in results


def test_results_for_patient_from_a_given_date():
    patient = PatientFactory()
    old = make_result(patient=patient, days_ago=30)
    recent = make_result(patient=patient, days_ago=2)
    since = timezone.localdate() - dt.timedelta(days=40)

    assert results_for_patient(patient=patient, since=since, centers=None) == [recent, old]
    assert results_for_patient(patient=patient, since=timezone.localdate(), centers=None) == []


def test_results_for_patient_lists_withdrawn_results():
    patient = PatientFactory()
    withdrawn = make_result(patient=patient, days_ago=1, status=ResultStatus.WITHDRAWN)

    [listed] = results_for_patient(patient=patient, since=None, centers=None)

    assert listed == withdrawn
    assert listed.status == ResultStatus.WITHDRAWN


def test_results_for_patient_keeps_to_the_callers_centers(django_assert_num_queries):
    patient = PatientFactory()
    c1, c2 = CenterFactory(), CenterFactory()
    in_c1 = make_result(patient=patient, days_ago=1, center=c1)
    in_c2 = make_result(patient=patient, days_ago=2, center=c2)
    no_center = make_result(patient=patient, days_ago=3, center=None)

    assert results_for_patient(patient=patient, since=None, centers=[c1]) == [in_c1]
    assert results_for_patient(patient=patient, since=None, centers=[c1, c2]) == [in_c1, in_c2]
    # One query for the merged records, one for the results with their patients.
    with django_assert_num_queries(2):
        everything = results_for_patient(patient=patient, since=None, centers=None)
        assert [r.patient.lid for r in everything] == [patient.lid] * 3
    assert everything == [in_c1, in_c2, no_center]


def test_results_for_patient_includes_results_of_records_merged_into_it():
    survivor = PatientFactory()
    merged = PatientFactory(merged_into=survivor)
    on_merged = make_result(patient=merged, days_ago=1)
    on_survivor = make_result(patient=survivor, days_ago=2)

    assert results_for_patient(patient=survivor, since=None, centers=None) == [on_merged, on_survivor]


def test_patient_lookup_follows_merges_and_stops_on_unknown():
    final = PatientFactory(lid="P3")
    middle = PatientFactory(lid="P2", merged_into=final)
    PatientFactory(lid="P1", merged_into=middle)

    assert patient_by_lid("P1") == final
    assert patient_by_lid("P3") == final
    assert patient_by_lid("NOPE") is None


def test_result_for_download_finds_a_result_in_scope():
    center = CenterFactory()
    result = MedicalResultFactory(lid="R1", center=center)

    assert result_for_download(lid="R1", centers=[center]) == result
    assert result_for_download(lid="R1", centers=None) == result


@pytest.mark.parametrize("scoped", [False, True])
def test_result_for_download_answers_not_found_for_unknown_or_out_of_scope(scoped):
    c1, c2 = CenterFactory(), CenterFactory()
    MedicalResultFactory(lid="R1", center=c1)
    MedicalResultFactory(lid="R2", center=None)
    lid = "R1" if scoped else "R404"

    with pytest.raises(DomainError) as caught:
        result_for_download(lid=lid, centers=[c2])

    assert caught.value.code == NOT_FOUND
    assert caught.value.message == said(MSG_RESULT_NOT_FOUND, lid=lid)
    with pytest.raises(DomainError):
        result_for_download(lid="R2", centers=[c1])  # no center: only for all-center clients


def test_open_result_content_streams_the_stored_bytes():
    result = MedicalResultFactory(file__data=PDF)

    with open_result_content(result=result) as stream:
        assert stream.read() == PDF


def test_open_result_content_answers_unavailable_when_storage_lost_the_file():
    result = MedicalResultFactory(lid="R9")
    default_storage.delete(result.file.name)

    with pytest.raises(DomainError) as caught:
        open_result_content(result=result)

    assert caught.value.code == SERVICE_UNAVAILABLE
    assert caught.value.message == MSG_CONTENT_UNAVAILABLE.format(lid="R9")


def test_withdraw_result_marks_it_withdrawn():
    result = MedicalResultFactory()

    withdraw_result(result=result)
    withdraw_result(result=result)

    result.refresh_from_db()
    assert result.status == ResultStatus.WITHDRAWN
    assert default_storage.exists(result.file.name)


def test_upload_result_stores_the_file_for_the_surviving_patient(django_capture_on_commit_callbacks):
    survivor = PatientFactory()
    merged = PatientFactory(merged_into=survivor)
    center = CenterFactory()

    result = upload_result(
        patient=merged,
        lid="U1",
        code="1234",
        filename="informe.pdf",
        file_type="PDF",
        content=ContentFile(PDF, name="informe.pdf"),
        center=center,
    )

    result.refresh_from_db()
    assert (result.patient, result.center, result.file_type, result.size) == (survivor, center, "pdf", len(PDF))
    with default_storage.open(result.file.name, "rb") as stored:
        assert stored.read() == PDF


def test_upload_result_refuses_content_of_another_type():
    with pytest.raises(DomainError) as caught:
        upload_result(
            patient=PatientFactory(),
            lid="U1",
            code="1",
            filename="x.pdf",
            file_type="pdf",
            content=ContentFile(b"\x89PNG\r\n\x1a\nxxxx", name="x.pdf"),
        )

    assert caught.value.code == INVALID_INPUT
    assert MSG_TYPE_MISMATCH.format(type="pdf") in caught.value.message
    assert MedicalResult.objects.count() == 0
