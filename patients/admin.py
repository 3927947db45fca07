"""The desk's admin of patients: found by id, name, ID number or any phone as typed; merged through the
merge service; possible duplicates compared side by side, then merged or dismissed."""

import re

from django.contrib import admin, messages
from django.db.models import F, Q, Value
from django.db.models.functions import Replace
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin import ExternalIdReadOnlyMixin
from core.errors import DomainError
from patients.models import DuplicateStatus, Patient, PatientLink, PossibleDuplicate, normalise_phone
from patients.services import dismiss_duplicate, merge_patients

MSG_MERGED = _("{count} pair(s) merged: the newer record now leads to the existing one.")
MSG_DISMISSED = _("{count} pair(s) marked as two different people.")
COMPARED = (
    ("lid", _("Patient no.")),
    ("first_name", _("First name")),
    ("second_name", _("First surname")),
    ("third_name", _("Second surname")),
    ("id_number", _("ID number")),
    ("date_of_birth", _("Date of birth")),
    ("mobile_phone", _("Mobile phone")),
    ("landline_phone", _("Landline")),
    ("email", _("E-mail")),
    ("created", _("Registered")),
)

PATIENT_ROWS = 100  # the latest appointments and results shown on a patient's page
PHONE_TERM = re.compile(r"^[\d\s+\-./()]+$")
PHONE_NOISE = (" ", "-", ".", "/", "(", ")", "+")


def digits_only(field: str):
    expression = F(field)
    for char in PHONE_NOISE:
        expression = Replace(expression, Value(char), Value(""))
    return expression


class PatientLinkInline(admin.TabularInline):
    """tuOtempO's own ids of the patient, one per integration client: made by bookings, never typed."""

    model = PatientLink
    extra = 0
    fields = ("client", "tid", "created")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Patient)
class PatientAdmin(ExternalIdReadOnlyMixin, admin.ModelAdmin):
    list_display = ("lid", "full_name", "id_number", "date_of_birth", "mobile_phone", "landline_phone")
    list_filter = ("gender", "privacy_accepted")
    inlines = (PatientLinkInline,)
    # Names are matched on each word; phones also as digits only (see get_search_results).
    search_fields = (
        "=lid",
        "=links__tid",
        "id_number",
        "name_key",
        "first_name",
        "second_name",
        "third_name",
        "mobile_phone",
        "landline_phone",
        "email",
    )
    raw_id_fields = ("merged_into",)
    readonly_fields = ("created", "modified", "book", "appointments_of_patient", "results_of_patient")
    show_full_result_count = False  # no COUNT(*) over every patient on each page
    fieldsets = (
        (None, {"fields": ("lid", "first_name", "second_name", "third_name", "id_number", "date_of_birth")}),
        (_("Contact"), {"fields": ("mobile_phone", "landline_phone", "work_phone", "email", "zip_code", "language")}),
        (
            _("Consent and preferences"),
            {"fields": ("gender", "privacy_accepted", "contact_by_sms", "contact_by_email", "contact_by_landline")},
        ),
        (_("Appointments and results"), {"fields": ("book", "appointments_of_patient", "results_of_patient")}),
        (_("Record"), {"fields": ("merged_into", "created", "modified")}),
    )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:  # a new patient has none yet
            return [fs for fs in fieldsets if "book" not in fs[1]["fields"]]
        return fieldsets

    @admin.display(description=_("book"))
    def book(self, obj: Patient):
        return format_html(
            '<a class="button" href="{}">{}</a>', reverse("desk:day"), gettext("Book an appointment at the desk")
        )

    @admin.display(description=_("appointments"))
    def appointments_of_patient(self, obj: Patient):
        appointments = obj.appointments.select_related("resource__location__center", "activity").order_by("-start")
        rows = [
            (
                reverse("admin:appointments_appointment_change", args=[a.pk]),
                a.lid,
                f"{a.start.astimezone(a.resource.location.center.zone):%d/%m/%Y %H:%M}",
                a.resource.location.center.time_zone,
                a.resource,
                a.activity.name,
                a.get_status_display(),
            )
            for a in appointments[:PATIENT_ROWS]
        ]
        if not rows:
            return gettext("None")
        return format_html(
            "<ul>{}</ul>", format_html_join("", '<li><a href="{}">{}</a> {} ({}) · {} · {} · {}</li>', rows)
        )

    @admin.display(description=_("medical results"))
    def results_of_patient(self, obj: Patient):
        rows = [
            (
                reverse("admin:results_medicalresult_change", args=[r.pk]),
                r.lid,
                f"{timezone.localtime(r.created):%d/%m/%Y}",
                r.filename,
                r.get_status_display(),
            )
            for r in obj.results.order_by("-created")[:PATIENT_ROWS]
        ]
        if not rows:
            return gettext("None")
        return format_html("<ul>{}</ul>", format_html_join("", '<li><a href="{}">{}</a> {} · {} · {}</li>', rows))

    def get_search_results(self, request, queryset, search_term):
        result, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        digits = normalise_phone(term) if PHONE_TERM.match(term) else ""
        if len(digits) >= 6:
            # Phones are stored as typed ("+34 600 11-22-33"): compare digits with digits.
            by_phone = Patient.objects.annotate(
                mobile_digits=digits_only("mobile_phone"),
                landline_digits=digits_only("landline_phone"),
                work_digits=digits_only("work_phone"),
            ).filter(
                Q(mobile_digits__contains=digits)
                | Q(landline_digits__contains=digits)
                | Q(work_digits__contains=digits)
            )
            result = result | queryset.filter(pk__in=by_phone.values("pk"))
        return result, may_have_duplicates

    def save_model(self, request, obj, form, change):
        into = obj.merged_into
        if change and "merged_into" in form.changed_data and into is not None:
            # A merge is more than a field: the merge service moves what hangs on the record.
            obj.merged_into = Patient.objects.get(pk=obj.pk).merged_into
            super().save_model(request, obj, form, change)
            try:
                merge_patients(duplicate=obj, into=into)
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
            return
        super().save_model(request, obj, form, change)


@admin.register(PossibleDuplicate)
class PossibleDuplicateAdmin(admin.ModelAdmin):
    """Records that may be one person, for the desk to compare, then merge or dismiss."""

    list_display = ("patient", "other", "reason", "status", "created")
    list_filter = ("status", "reason")
    list_select_related = ("patient", "other")
    search_fields = ("=patient__lid", "=other__lid", "patient__name_key", "other__name_key")
    fields = ("comparison", "reason", "status", "created", "decided")
    readonly_fields = fields
    actions = ("merge", "dismiss")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("side by side"))
    def comparison(self, obj: PossibleDuplicate):
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td><td>{}</td></tr>",
            ((label, getattr(obj.patient, f) or "-", getattr(obj.other, f) or "-") for f, label in COMPARED),
        )
        return format_html(
            "<table><tr><th></th><th>{}</th><th>{}</th></tr>{}</table>",
            gettext("newer record"),
            gettext("existing record"),
            rows,
        )

    @admin.action(description=_("Same person: merge the newer record into the existing one"))
    def merge(self, request, queryset):
        count = 0
        for pair in queryset.filter(status=DuplicateStatus.OPEN).select_related("patient", "other"):
            try:
                merge_patients(duplicate=pair.patient, into=pair.other)
                count += 1
            except DomainError as error:
                self.message_user(request, f"{pair}: {error.message}", messages.ERROR)
        self.message_user(request, MSG_MERGED.format(count=count), messages.SUCCESS)

    @admin.action(description=_("Not the same person: dismiss"))
    def dismiss(self, request, queryset):
        pairs = list(queryset.filter(status=DuplicateStatus.OPEN))
        for pair in pairs:
            dismiss_duplicate(pair=pair)
        self.message_user(request, MSG_DISMISSED.format(count=len(pairs)), messages.SUCCESS)
