from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SincroConfig(AppConfig):
    """Sincro (guide A.2, B.1, C.1): the TT_* views tuOtempO's agent reads and the support tables it
    writes, applied by `manage.py sincro_worker` through the same domain services as the webservices."""

    name = "sincro"
    verbose_name = _("Sincro (database integration)")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.conf import settings

        from core.operations import register_figures, register_readiness_check
        from sincro import health, signals

        signals.connect()
        if settings.HIS_SINCRO_CLIENT:
            register_readiness_check("sincro", health.worker_heartbeat)
            register_figures("sincro", health.row_figures)
