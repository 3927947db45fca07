from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PatientsConfig(AppConfig):
    """Patients: their records, matching a newcomer to a known patient, merges."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "patients"
    verbose_name = _("Patients")
