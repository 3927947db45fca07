"""The exchange log in the admin: read only, since it records what happened."""

from django.contrib import admin

from core.admin import ReadOnlyModelAdmin
from exchange.models import ExchangeRow, ExchangeRun


class ExchangeRowInline(admin.TabularInline):
    model = ExchangeRow
    fields = ("file_name", "line", "app_lid", "resource_lid", "status", "outcome", "message")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ExchangeRun)
class ExchangeRunAdmin(ReadOnlyModelAdmin):
    list_display = ("started", "command", "destination", "options", "outcome", "rows", "errors", "duration_ms")
    list_filter = ("command", "outcome")
    search_fields = ("destination", "files", "message")
    date_hierarchy = "started"
    inlines = [ExchangeRowInline]


@admin.register(ExchangeRow)
class ExchangeRowAdmin(ReadOnlyModelAdmin):
    list_display = ("run", "file_name", "line", "app_lid", "resource_lid", "status", "outcome", "message")
    list_filter = ("outcome", "run__command")
    search_fields = ("app_lid", "file_name")
    list_select_related = ("run",)
