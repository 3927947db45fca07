from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientsConfig(AppConfig):
    """Who may call the hospital from outside: integration clients, their scope, and the audit log."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "clients"
    verbose_name = _("Integration")

    def ready(self):
        from clients import backends  # noqa: F401  (connects the failed-login audit)
