"""The request inspector: for an integrator testing its own client against this server, the calls each
integration client made lately, with the parameter names they sent and what they relied on of the
server's leniency (leniency.py). Read from the audit log; never a value the caller sent."""

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from clients.models import InspectedCall, Surface
from core.admin import ReadOnlyModelAdmin

PERMISSION = "clients.view_auditentry"  # whoever may read the audit log may read its inspector


class HasWarningsFilter(admin.SimpleListFilter):
    title = _("has warnings")
    parameter_name = "has_warnings"

    def lookups(self, request, model_admin):
        return (("yes", _("Yes")), ("no", _("No")))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(warnings=[])
        if self.value() == "no":
            return queryset.filter(warnings=[])
        return queryset


@admin.register(InspectedCall)
class InspectedCallAdmin(ReadOnlyModelAdmin):
    """Read-only, like the audit log it reads; open to whoever may read that log."""

    list_display = ("time", "client_name", "surface", "method", "outcome", "parameter_names", "warning_list")
    list_filter = ("client", "method", HasWarningsFilter, "surface", "outcome")
    search_fields = ("client_name", "method", "request_id")
    date_hierarchy = "time"
    show_full_result_count = False
    fields = (
        "time", "client_name", "surface", "method", "outcome", "request_id", "parameter_names", "warning_list",
        "message",
    )  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(surface=Surface.ADMIN)

    @admin.display(description=_("parameter names"))
    def parameter_names(self, obj: InspectedCall) -> str:
        return ", ".join(obj.params) or "—"

    @admin.display(description=_("warnings"))
    def warning_list(self, obj: InspectedCall) -> str:
        if not obj.warnings:
            return "—"
        items = format_html_join(
            "", "<li><code>{}</code> {}</li>", ((w.get("code", ""), w.get("message", "")) for w in obj.warnings)
        )
        return format_html('<ul class="request-warnings">{}</ul>', items)

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff and request.user.has_perm(PERMISSION)

    def has_module_permission(self, request):
        return self.has_view_permission(request)
