"""The desk's view of medical results: uploaded, corrected and withdrawn through results.services,
never deleted, and their files never linked (they are served only through the webservices)."""

from pathlib import PurePath

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from clients.models import AuditEntry
from core.admin import ExternalIdReadOnlyMixin
from core.errors import DomainError
from results.models import MedicalResult, ResultStatus
from results.selectors import missing_delivery_credentials
from results.services import (
    details_problems,
    update_result_details,
    upload_problems,
    upload_result,
    withdraw_result,
)

DOWNLOAD_METHOD = "getTestResultContent"
DOWNLOADS_SHOWN = 20
MSG_NAME_NEEDED = "Give the file name, or upload a file to take its name from."
MSG_TYPE_NEEDED = "Give the file type (its extension, e.g. pdf)."
MSG_WITHDRAWN = "{count} result(s) withdrawn: they are no longer offered to patients."
MSG_NO_DELETE = "Results are never deleted: withdraw them (action below) and tuOtempO lists them as Cancelled."
MSG_REPLACE_HELP = "Optional: a new file replaces the stored one and makes the result valid again."


class MedicalResultForm(forms.ModelForm):
    """Name and type default to those of the uploaded file; the checks are those of the services,
    so a refusal is shown on the form."""

    upload = forms.FileField(label="File", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("filename", "file_type"):
            if name in self.fields:
                self.fields[name].required = False
                self.fields[name].help_text = "Empty: taken from the uploaded file."
        if "upload" in self.fields:
            if self.instance.pk is None:
                self.fields["upload"].required = True
            else:
                self.fields["upload"].label = "Replace file"
                self.fields["upload"].help_text = MSG_REPLACE_HELP

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("upload")
        name = PurePath(upload.name).name if upload else ""
        if not cleaned.get("filename"):
            if not name:
                self.add_error("filename", MSG_NAME_NEEDED)
            cleaned["filename"] = name
        if not cleaned.get("file_type"):
            cleaned["file_type"] = PurePath(cleaned.get("filename") or name).suffix.lstrip(".").lower()
            if not cleaned["file_type"]:
                self.add_error("file_type", MSG_TYPE_NEEDED)
        if self.errors:
            return cleaned
        details = {k: cleaned.get(k) or "" for k in ("code", "filename", "file_type")}
        if upload:
            lid = cleaned.get("lid") or self.instance.lid
            problems = upload_problems(lid=lid, content=upload, **details)
        else:
            problems = details_problems(result=self.instance, **details)
        if problems:
            raise forms.ValidationError(problems)
        return cleaned


class DeliverableFilter(admin.SimpleListFilter):
    """Results whose patient lacks the mobile phone or ID number a delivery needs."""

    title = "deliverable"
    parameter_name = "deliverable"

    def lookups(self, request, model_admin):
        return [("no", "No: the patient lacks a mobile phone or ID number")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(Q(patient__mobile_phone="") | Q(patient__id_number=""))
        return queryset


@admin.register(MedicalResult)
class MedicalResultAdmin(ExternalIdReadOnlyMixin, admin.ModelAdmin):
    form = MedicalResultForm
    list_display = ("lid", "code", "filename", "patient", "center", "status", "deliverable", "size", "created")
    list_filter = ("status", DeliverableFilter, "center", "file_type", "created")
    list_select_related = ("patient", "center")
    search_fields = ("=lid", "code", "filename", "=patient__lid", "=patient__links__tid", "patient__id_number")
    autocomplete_fields = ("patient",)
    date_hierarchy = "created"
    show_full_result_count = False
    actions = ("withdraw_results",)

    @admin.display(description="deliverable", boolean=True)
    def deliverable(self, obj: MedicalResult) -> bool:
        return not missing_delivery_credentials(obj.patient)

    fields = (
        "lid",
        "code",
        "patient",
        "center",
        "status",
        "stored_file",
        "upload",
        "filename",
        "file_type",
        "created",
        "modified",
        "downloads",
    )
    readonly_fields = ("status", "stored_file", "created", "modified", "downloads")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("lid", "code", "patient", "center", "upload", "filename", "file_type")
        return super().get_fields(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"subtitle": MSG_NO_DELETE, **(extra_context or {})})

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            # The form's checks passed but the stored result changed meanwhile: everything was rolled back.
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        details = {
            "code": obj.code,
            "filename": obj.filename,
            "file_type": obj.file_type,
            "patient": obj.patient,
            "center": obj.center,
        }
        upload = form.cleaned_data.get("upload")
        if upload:
            saved = upload_result(lid=obj.lid, content=upload, **details)
        else:
            saved = update_result_details(result=obj, **details)
        # The admin goes on with the form's own instance (its log entry, the redirect): make it the saved one.
        obj.pk = saved.pk
        obj.refresh_from_db()
        obj._state.adding = False

    @admin.action(description="Withdraw selected results")
    def withdraw_results(self, request, queryset):
        count = 0
        for result in queryset.exclude(status=ResultStatus.WITHDRAWN):
            withdraw_result(result=result)
            count += 1
        self.message_user(request, MSG_WITHDRAWN.format(count=count), messages.SUCCESS)

    @admin.display(description="file")
    def stored_file(self, obj: MedicalResult) -> str:
        # Plain text on purpose: media files are not served; patients get them through the webservices.
        if not obj.file:
            return "-"
        return f"{PurePath(obj.file.name).name} ({filesizeformat(obj.size)})"

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
