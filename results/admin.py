"""The desk's view of medical results: uploaded, corrected and withdrawn through results.services,
never deleted, and their files never linked (they are served only through the webservices)."""

import datetime as dt
import secrets
from pathlib import PurePath

from django import forms
from django.contrib import admin, messages
from django.core import signing
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clients.models import AuditEntry
from core.admin import ExternalIdReadOnlyMixin
from core.errors import DomainError
from results.models import MedicalResult
from results.selectors import missing_delivery_credentials
from results.services import (
    details_problems,
    detected_type,
    update_result_details,
    upload_problems,
    upload_result,
    withdraw_result,
)

DOWNLOAD_METHOD = "getTestResultContent"
DOWNLOADS_SHOWN = 20
HELD_FOLDER = "held-uploads"  # files chosen on a form that had an error, kept a day for the next attempt
HELD_SALT = "results.admin.held-upload"
HELD_MAX_AGE = 24 * 3600
MSG_NAME_NEEDED = _("Give the file name, or upload a file to take its name from.")
MSG_FILE_NEEDED = _("Choose the result's file.")
MSG_NOT_A_RESULT = _(
    "The file is not a medical result this hospital delivers (PDF, image, DICOM, XML or ZIP): "
    "its content was checked, not its name."
)
MSG_WITHDRAWN = _("{count} result(s) withdrawn: they are no longer offered to patients.")
MSG_NOTHING_WITHDRAWN = _("The selected results were already withdrawn: nothing changed.")
MSG_NO_DELETE = _("Results are never deleted: withdraw them (action below) and tuOtempO lists them as Cancelled.")
MSG_REPLACE_HELP = _("Optional: a new file replaces the stored one and makes the result valid again.")
MSG_HELD = _("Kept from your previous attempt: {name} ({size}). Choose another file only to replace it.")
MSG_FROM_FILE = _("Empty: taken from the uploaded file.")


def forget_stale_held() -> None:
    """Files held longer than HELD_MAX_AGE belong to forms nobody sent again: deleted."""
    storage = default_storage
    if not storage.exists(HELD_FOLDER):
        return
    limit = timezone.now() - dt.timedelta(seconds=HELD_MAX_AGE)
    for folder in storage.listdir(HELD_FOLDER)[0]:
        for name in storage.listdir(f"{HELD_FOLDER}/{folder}")[1]:
            path = f"{HELD_FOLDER}/{folder}/{name}"
            if storage.get_modified_time(path) < limit:
                storage.delete(path)


def hold_upload(upload) -> str:
    """Keeps a chosen file for the form's next attempt (a browser never sends it twice); a signed token names it."""
    storage = default_storage
    forget_stale_held()
    name = storage.save(f"{HELD_FOLDER}/{secrets.token_hex(8)}/{PurePath(upload.name).name}", upload)
    upload.seek(0)
    return signing.dumps({"name": name, "file": PurePath(upload.name).name}, salt=HELD_SALT)


def held_upload(token: str) -> File | None:
    """The file a token of hold_upload names, if it is still kept."""
    try:
        held = signing.loads(token, salt=HELD_SALT, max_age=HELD_MAX_AGE)
    except signing.BadSignature:
        return None
    if not default_storage.exists(held["name"]):
        return None
    content = File(default_storage.open(held["name"], "rb"), name=held["file"])
    content.held_name = held["name"]
    return content


def forget_held(content) -> None:
    name = getattr(content, "held_name", None)
    if name:
        content.close()
        default_storage.delete(name)


class MedicalResultForm(forms.ModelForm):
    """Name and type default to those of the uploaded file, the type told by its content; the checks are
    those of the services, so a refusal is shown on the form. A file chosen is kept when the form is
    shown again with an error."""

    upload = forms.FileField(label=_("File"), required=False)
    held = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound:
            self.data = self.data.copy()  # `held` is set when a file is kept for the next attempt
        for name in ("filename", "file_type"):
            if name in self.fields:
                self.fields[name].required = False
                self.fields[name].help_text = f"{self.fields[name].help_text} {MSG_FROM_FILE}"
        if "lid" in self.fields and self.instance.pk is None:
            self.fields["lid"].required = False
        if "upload" in self.fields and self.instance.pk is not None:
            self.fields["upload"].label = _("Replace file")
            self.fields["upload"].help_text = MSG_REPLACE_HELP

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("upload")
        if not upload and cleaned.get("held"):
            upload = cleaned["upload"] = held_upload(cleaned["held"])
        if not upload and self.instance.pk is None:
            self.add_error("upload", MSG_FILE_NEEDED)
            return cleaned
        name = PurePath(upload.name).name if upload else ""
        if not cleaned.get("filename"):
            if not name:
                self.add_error("filename", MSG_NAME_NEEDED)
            cleaned["filename"] = name
        detected = None
        if upload:
            upload.seek(0)
            detected = detected_type(upload)
            upload.seek(0)
            if detected is None:
                cleaned.pop("upload", None)  # not kept for the next attempt
                self.add_error("upload", MSG_NOT_A_RESULT)
                return cleaned
        if not cleaned.get("file_type"):
            cleaned["file_type"] = detected or self.instance.file_type
        if self.errors:
            return cleaned
        details = {k: cleaned.get(k) or "" for k in ("code", "filename", "file_type")}
        if upload:
            lid = cleaned.get("lid") or self.instance.lid or ""
            problems = upload_problems(lid=lid, content=upload, **details)
        else:
            problems = details_problems(result=self.instance, **details)
        if problems:
            raise forms.ValidationError(problems)
        return cleaned

    def full_clean(self):
        super().full_clean()
        upload = getattr(self, "cleaned_data", {}).get("upload")
        if self._errors and upload:
            # Shown again with an error: the browser will not send the file twice, so the server keeps it.
            if not getattr(upload, "held_name", None):
                self.data["held"] = hold_upload(upload)
            kept = MSG_HELD.format(name=PurePath(upload.name).name, size=filesizeformat(upload.size))
            self.fields["upload"].help_text = self["upload"].help_text = kept  # the bound field copied it


class DeliverableFilter(admin.SimpleListFilter):
    """Results whose patient lacks the mobile phone or ID number a delivery needs."""

    title = _("deliverable")
    parameter_name = "deliverable"

    def lookups(self, request, model_admin):
        return [("no", _("No: the patient lacks a mobile phone or ID number"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(Q(patient__mobile_phone="") | Q(patient__id_number=""))
        return queryset


@admin.register(MedicalResult)
class MedicalResultAdmin(ExternalIdReadOnlyMixin, admin.ModelAdmin):
    form = MedicalResultForm
    list_display = ("lid", "code", "filename", "patient", "center", "status", "deliverable", "size", "created_local")
    list_filter = ("status", DeliverableFilter, "center", "file_type", "created")
    list_select_related = ("patient", "center")
    search_fields = ("=lid", "code", "filename", "=patient__lid", "=patient__links__tid", "patient__id_number")
    autocomplete_fields = ("patient",)
    date_hierarchy = "created"
    show_full_result_count = False
    actions = ("withdraw_results",)

    @admin.display(description=_("created (center time)"), ordering="created")
    def created_local(self, obj: MedicalResult) -> str:
        """On the result's center's clock (the hospital's default zone when it names none)."""
        zone = obj.center.zone if obj.center_id else timezone.get_default_timezone()
        return f"{timezone.localtime(obj.created, zone):%d/%m/%Y %H:%M}"

    @admin.display(description=_("deliverable"), boolean=True)
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
        "held",
        "filename",
        "file_type",
        "created",
        "modified",
        "downloads",
    )
    readonly_fields = ("status", "stored_file", "created", "modified", "downloads")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("upload", "held", "patient", "center", "code", "lid", "filename", "file_type")
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
            saved = upload_result(lid=obj.lid or "", content=upload, **details)
            transaction.on_commit(lambda: forget_held(upload))
        else:
            saved = update_result_details(result=obj, **details)
        # The admin goes on with the form's own instance (its log entry, the redirect): make it the saved one.
        obj.pk = saved.pk
        obj.refresh_from_db()
        obj._state.adding = False

    @admin.action(description=_("Withdraw selected results"))
    def withdraw_results(self, request, queryset):
        count = sum(withdraw_result(result=result) for result in queryset)
        if count:
            self.message_user(request, MSG_WITHDRAWN.format(count=count), messages.SUCCESS)
        else:
            self.message_user(request, MSG_NOTHING_WITHDRAWN, messages.WARNING)

    @admin.display(description=_("file"))
    def stored_file(self, obj: MedicalResult) -> str:
        # Plain text on purpose: media files are not served; patients get them through the webservices.
        if not obj.file:
            return "-"
        return f"{PurePath(obj.file.name).name} ({filesizeformat(obj.size)})"

    @admin.display(description=_("last downloads"))
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
            return gettext("never downloaded")
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{} {} ({}) {}</li>", rows))
