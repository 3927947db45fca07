"""The desk's admin of patients: found by id, name, ID number or any phone as typed."""

import re

from django.contrib import admin
from django.db.models import F, Q, Value
from django.db.models.functions import Replace

from core.admin import ExternalIdReadOnlyMixin
from patients.models import Patient, normalise_phone

PHONE_TERM = re.compile(r"^[\d\s+\-./()]+$")
PHONE_NOISE = (" ", "-", ".", "/", "(", ")", "+")


def digits_only(field: str):
    expression = F(field)
    for char in PHONE_NOISE:
        expression = Replace(expression, Value(char), Value(""))
    return expression


@admin.register(Patient)
class PatientAdmin(ExternalIdReadOnlyMixin, admin.ModelAdmin):
    list_display = ("lid", "tid", "full_name", "id_number", "date_of_birth", "mobile_phone", "landline_phone")
    list_filter = ("gender", "privacy_accepted")
    # Names are matched on each word; phones also as digits only (see get_search_results).
    search_fields = (
        "=lid",
        "=tid",
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
    readonly_fields = ("created", "modified")
    show_full_result_count = False  # no COUNT(*) over every patient on each page
    fieldsets = (
        (None, {"fields": ("lid", "tid", "first_name", "second_name", "third_name", "id_number", "date_of_birth")}),
        ("Contact", {"fields": ("mobile_phone", "landline_phone", "work_phone", "email", "zip_code", "language")}),
        (
            "Consent and preferences",
            {"fields": ("gender", "privacy_accepted", "contact_by_sms", "contact_by_email", "contact_by_landline")},
        ),
        ("Record", {"fields": ("merged_into", "created", "modified")}),
    )

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
