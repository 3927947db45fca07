from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """Operations: health checks, metrics, the request log, and the integration dashboard in the admin."""

    name = "ops"
    verbose_name = _("Operations")

    def ready(self):
        from django.contrib import admin
        from django.core.signals import got_request_exception, request_finished

        from clients.signals import call_recorded
        from core.operations import database_unavailable
        from ops import metrics, middleware

        call_recorded.connect(metrics.count_call, dispatch_uid="ops-count-call")
        call_recorded.connect(middleware.remember_call, dispatch_uid="ops-remember-call")
        database_unavailable.connect(metrics.count_database_error, dispatch_uid="ops-database-error")
        request_finished.connect(middleware.request_finished, dispatch_uid="ops-request-finished")
        got_request_exception.connect(metrics.count_page_database_error, dispatch_uid="ops-page-database-error")
        # The admin's index links the integration dashboard.
        admin.site.index_template = "ops/admin_index.html"
