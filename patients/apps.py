from django.apps import AppConfig


class PatientsConfig(AppConfig):
    """Patients: their records, matching a newcomer to a known patient, merges."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "patients"
