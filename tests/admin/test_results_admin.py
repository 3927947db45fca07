"""The results admin as a clerk uses it: the server gives the id, the file chosen survives a form error,
the file is told by its content (a text file is no medical result), and withdrawing says when nothing
changed."""

import os
import re
import time
import zoneinfo
from html import escape

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from demo import factories as f
from results import admin as results_admin
from results.models import MedicalResult, ResultStatus

PDF = b"%PDF-1.4\n% lab report\n%%EOF\n"
ADD = "/admin/results/medicalresult/add/"


def form(patient, **changes):
    data = {"lid": "", "code": "4711", "patient": patient.pk, "center": "", "filename": "", "file_type": ""}
    data.update(changes)
    return data


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.mark.django_db
def test_a_result_uploaded_without_an_id_gets_one_from_the_server(admin_client):
    patient = f.PatientFactory()

    response = admin_client.post(ADD, form(patient, upload=SimpleUploadedFile("informe.pdf", PDF)))

    assert response.status_code == 302
    result = MedicalResult.objects.get()
    assert re.fullmatch(r"R\d{8}-[0-9A-F]{6}", result.lid)
    assert (result.file_type, result.filename, result.file.read()) == ("pdf", "informe.pdf", PDF)


@pytest.mark.django_db
def test_the_type_is_told_by_the_content_not_the_name(admin_client):
    patient = f.PatientFactory()

    response = admin_client.post(
        ADD, form(patient, upload=SimpleUploadedFile("scan.bin", b"\x89PNG\r\n\x1a\n" + b"0" * 20))
    )

    assert response.status_code == 302
    assert MedicalResult.objects.get().file_type == "png"


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["notas.txt", "informe.pdf"])
def test_a_text_file_is_no_medical_result_whatever_its_name(admin_client, name):
    patient = f.PatientFactory()

    response = admin_client.post(ADD, form(patient, upload=SimpleUploadedFile(name, b"just some notes\n")))

    assert response.status_code == 200
    assert escape(results_admin.MSG_NOT_A_RESULT) in response.content.decode()
    assert not MedicalResult.objects.exists()


@pytest.mark.django_db
def test_the_file_chosen_is_kept_when_the_form_is_shown_again_with_an_error(admin_client):
    patient = f.PatientFactory()

    first = admin_client.post(ADD, form(patient, code="", upload=SimpleUploadedFile("informe.pdf", PDF)))

    assert first.status_code == 200
    page = first.content.decode()
    assert "Kept from your previous attempt: informe.pdf" in page
    token = re.search(r'name="held" value="([^"]+)"', page).group(1)
    assert not MedicalResult.objects.exists()

    second = admin_client.post(ADD, form(patient, code="4711", held=token))  # no file sent this time

    assert second.status_code == 302
    result = MedicalResult.objects.get()
    assert (result.filename, result.file.read()) == ("informe.pdf", PDF)


@pytest.mark.django_db
def test_a_forged_token_holds_no_file(admin_client):
    patient = f.PatientFactory()
    default_storage.save("secret/other.pdf", SimpleUploadedFile("other.pdf", PDF))

    response = admin_client.post(ADD, form(patient, held='{"name": "secret/other.pdf"}'))

    assert response.status_code == 200
    assert escape(results_admin.MSG_FILE_NEEDED) in response.content.decode()
    assert not MedicalResult.objects.exists()


@pytest.mark.django_db
def test_withdrawing_withdrawn_results_says_nothing_changed(admin_client):
    withdrawn = f.MedicalResultFactory(status=ResultStatus.WITHDRAWN)
    url = "/admin/results/medicalresult/"

    response = admin_client.post(url, {"action": "withdraw_results", "_selected_action": [withdrawn.pk]}, follow=True)

    shown = [(str(m), m.level_tag) for m in response.context["messages"]]
    assert shown == [(str(results_admin.MSG_NOTHING_WITHDRAWN), "warning")]


@pytest.mark.django_db
def test_withdrawing_counts_only_those_it_withdrew(admin_client):
    withdrawn, valid = f.MedicalResultFactory(status=ResultStatus.WITHDRAWN), f.MedicalResultFactory()
    url = "/admin/results/medicalresult/"

    response = admin_client.post(
        url, {"action": "withdraw_results", "_selected_action": [withdrawn.pk, valid.pk]}, follow=True
    )

    shown = [(str(m), m.level_tag) for m in response.context["messages"]]
    assert shown == [(results_admin.MSG_WITHDRAWN.format(count=1), "success")]
    valid.refresh_from_db()
    assert valid.status == ResultStatus.WITHDRAWN


@pytest.mark.django_db
def test_files_held_longer_than_a_day_are_deleted_when_another_is_held(admin_client, settings):
    patient = f.PatientFactory()
    stale = default_storage.save("held-uploads/old/informe.pdf", SimpleUploadedFile("informe.pdf", PDF))
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(default_storage.path(stale), (two_days_ago, two_days_ago))

    admin_client.post(ADD, form(patient, code="", upload=SimpleUploadedFile("nuevo.pdf", PDF)))

    assert not default_storage.exists(stale)
    held = [p.name for p in (settings.MEDIA_ROOT / "held-uploads").rglob("*") if p.is_file()]
    assert held == ["nuevo.pdf"]


@pytest.mark.django_db
def test_the_list_shows_when_a_result_was_created_on_its_centers_clock(admin_client):
    result = f.MedicalResultFactory(center=f.CenterFactory(time_zone="Atlantic/Canary"))

    listing = admin_client.get("/admin/results/medicalresult/").content.decode()

    local = timezone.localtime(result.created, zoneinfo.ZoneInfo("Atlantic/Canary"))
    assert f"{local:%d/%m/%Y %H:%M}" in listing
