"""A patient's page in the admin shows their appointments (on their centers' clocks) and results, with
links, and leads to the desk to book."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from demo import factories as f


@pytest.mark.django_db
def test_a_patients_page_lists_their_appointments_and_results_and_links_the_desk(admin_client):
    patient = f.PatientFactory()
    center = f.CenterFactory(time_zone="Atlantic/Canary")
    doctor = f.ResourceFactory(location=f.LocationFactory(center=center))
    day = timezone.localdate() + dt.timedelta(days=6)
    appointment = f.AppointmentFactory(
        patient=patient, resource=doctor, start=dt.datetime.combine(day, dt.time(9), center.zone)
    )
    result = f.MedicalResultFactory(patient=patient)
    someone_else = f.AppointmentFactory()

    page = admin_client.get(reverse("admin:patients_patient_change", args=[patient.pk])).content.decode()

    assert reverse("admin:appointments_appointment_change", args=[appointment.pk]) in page
    assert f"{day:%d/%m/%Y} 09:00 (Atlantic/Canary)" in page
    assert reverse("admin:results_medicalresult_change", args=[result.pk]) in page
    assert reverse("admin:appointments_appointment_change", args=[someone_else.pk]) not in page
    assert f'href="{reverse("desk:day")}"' in page


@pytest.mark.django_db
def test_the_patient_form_uses_the_hospitals_words(admin_client):
    page = admin_client.get(reverse("admin:patients_patient_add")).content.decode()

    assert "First surname" in page and "Second surname" in page and "Patient no." in page
    assert "USER_LID in tuOtempO" in page  # tuOtempO's names only as help
    assert "Second name" not in page and "Third name" not in page
