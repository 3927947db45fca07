from pathlib import PurePath

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from his.admin import ExternalIdReadOnlyMixin
from his.models import AuditEntry
from results.models import MedicalResult, ResultStatus

DOWNLOAD_METHOD = "getTestResultContent"
DOWNLOADS_SHOWN = 20
MSG_NAME_NEEDED = "Give the file name, or upload a file to take its name from."
MSG_WITHDRAWN = "{count} result(s) withdrawn: they are no longer offered to patients."


class MedicalResultForm(forms.ModelForm):
    """Name and type default to those of the uploaded file."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("filename", "file_type"):
            if name in self.fields:
                self.fields[name].required = False
                self.fields[name].help_text = "Empty: taken from the uploaded file."

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        name = PurePath(upload.name).name if upload else ""
        if not cleaned.get("filename"):
            if not name:
                self.add_error("filename", MSG_NAME_NEEDED)
            cleaned["filename"] = name
        if not cleaned.get("file_type"):
            suffix = PurePath(cleaned.get("filename") or name).suffix
            cleaned["file_type"] = suffix.lstrip(".").lower()
            if not cleaned["file_type"]:
                self.add_error("file_type", "Give the file type (its extension, e.g. pdf).")
        return cleaned


@admin.register(MedicalResult)
class MedicalResultAdmin(ExternalIdReadOnlyMixin, admin.ModelAdmin):
    form = MedicalResultForm
    list_display = ("lid", "code", "filename", "patient", "center", "status", "size", "created")
    list_filter = ("status", "center", "file_type", "created")
    list_select_related = ("patient", "center")
    search_fields = ("=lid", "code", "filename", "=patient__lid", "=patient__tid", "patient__id_number")
    autocomplete_fields = ("patient",)
    date_hierarchy = "created"
    show_full_result_count = False
    actions = ("withdraw_results",)
    fields = (
        "lid",
        "code",
        "patient",
        "center",
        "status",
        "file",
        "filename",
        "file_type",
        "size",
        "created",
        "modified",
        "downloads",
    )
    readonly_fields = ("size", "created", "modified", "downloads")

    def save_model(self, request, obj, form, change):
        if "file" in form.changed_data and obj.file:
            obj.size = obj.file.size
        super().save_model(request, obj, form, change)

    @admin.action(description="Withdraw selected results")
    def withdraw_results(self, request, queryset):
        # update() skips auto_now: stamp modified so incremental readers see the change.
        count = queryset.exclude(status=ResultStatus.WITHDRAWN).update(
            status=ResultStatus.WITHDRAWN, modified=timezone.now()
        )
        self.message_user(request, MSG_WITHDRAWN.format(count=count), messages.SUCCESS)

    @admin.display(description=f"last {DOWNLOADS_SHOWN} downloads")
    def downloads(self, obj: MedicalResult):
        if obj.pk is None:
            return "-"
        entries = AuditEntry.objects.filter(method=DOWNLOAD_METHOD, ids__DOWNLOAD_LID=obj.lid).order_by("-time")[
            :DOWNLOADS_SHOWN
        ]
        rows = [
            (f"{timezone.localtime(e.time):%d/%m/%Y %H:%M:%S}", e.client_name or "-", e.surface, e.outcome)
            for e in entries
        ]
        if not rows:
            return "never downloaded"
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{} {} ({}) {}</li>", rows))
