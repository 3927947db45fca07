"""The support tables' rows with their outcome: to find the rows that failed, and why."""

from django.contrib import admin
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyModelAdmin
from sincro.models import ERROR, OK, PENDING, CancellationRow, DownloadFile, DownloadRow, ReservationRow

MSG_APPLY_AGAIN = _("{count} failed row(s) will be applied again by the Sincro worker.")


class OutcomeFilter(admin.SimpleListFilter):
    title = _("outcome")
    parameter_name = "outcome"

    def lookups(self, request, model_admin):
        return [(PENDING, _("pending")), (OK, OK), (ERROR, ERROR)]  # OK and ERROR: the guide's STATUS_TRIGGER

    def queryset(self, request, queryset):
        if self.value() == "pending":
            return queryset.filter(Q(status_trigger__isnull=True) | Q(status_trigger=""))
        if self.value() == "OK":
            return queryset.filter(status_trigger="OK")
        if self.value() == "ERROR":
            return queryset.filter(status_trigger__startswith="ERROR")
        return queryset


class SupportRowAdmin(ReadOnlyModelAdmin):
    """Rows are the agent's: shown, never edited here. A failed row may be applied again once its cause
    is fixed (a doctor's rule added, a center granted...)."""

    list_filter = (OutcomeFilter, ("insert_time", admin.DateFieldListFilter))
    date_hierarchy = "insert_time"
    actions = ["apply_again"]

    @admin.display(description=_("outcome"))
    def outcome(self, row):
        return _("pending") if row.outcome == PENDING else row.outcome

    @admin.action(description=_("Apply the selected failed rows again"))
    def apply_again(self, request, queryset):
        count = queryset.filter(status_trigger__startswith="ERROR").update(status_trigger=None)
        self.message_user(request, MSG_APPLY_AGAIN.format(count=count))


@admin.register(ReservationRow)
class ReservationRowAdmin(SupportRowAdmin):
    list_display = (
        "app_tmp_id", "insert_time", "app_action", "app_lid", "resource_lid", "activity_lid", "app_date",
        "app_start_time", "outcome", "status_trigger",
    )  # fmt: skip
    search_fields = ("app_lid", "app_tid", "resource_lid", "user_lid", "user_tid")


@admin.register(CancellationRow)
class CancellationRowAdmin(SupportRowAdmin):
    list_display = ("app_tmp_id", "insert_time", "app_lid", "app_status", "outcome", "status_trigger")
    search_fields = ("app_lid",)


@admin.register(DownloadRow)
class DownloadRowAdmin(SupportRowAdmin):
    list_display = (
        "download_tmp_id", "insert_time", "download_action", "download_lid", "user_lid", "outcome", "status_trigger",
    )  # fmt: skip
    search_fields = ("download_lid", "user_lid")


@admin.register(DownloadFile)
class DownloadFileAdmin(admin.ModelAdmin):
    list_display = ("download_lid", "file_name", "file_type", "status", "requested", "modified")
    list_filter = ("status",)
    exclude = ("file_content",)  # patient data: never shown here
    readonly_fields = ("download_lid", "file_name", "file_path", "file_type", "status", "status_trigger",
                       "requested", "created", "modified")  # fmt: skip

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
