"""The desk's admin: doctors and what they offer, and appointments moved or cancelled
through the same services the webservices use."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils import timezone

from appointments.models import (
    ACTIVE_STATUSES,
    CANCELLED_STATUSES,
    Absence,
    Activity,
    ActivityGroup,
    Appointment,
    AppointmentStatus,
    AvailabilityRule,
    Insurance,
    InsuranceActivity,
    InsuranceResource,
    Resource,
    ResourceActivity,
)
from appointments.selectors import overlapping_appointment
from appointments.services import (
    MSG_END_BEFORE_START,
    book_at_desk,
    cancel_appointment,
    is_overlap_violation,
    local_label,
    reschedule_appointment,
)
from centers.models import Center
from core.admin import ExternalIdLockedForm, ExternalIdReadOnlyMixin
from core.errors import DomainError

MSG_DESK_OVERLAP = (
    "{resource} already has appointment {other} from {start} to {end} (center time) at this time: "
    "choose another time or resource."
)
MSG_SLOT_TAKEN_RETRY = "{message} Nothing was saved; check the times and try again."
MSG_MOVE_AND_CANCEL = "Cancel the appointment or move it, not both at once: save one change, then the other."
MSG_CANCELLED_N = "{count} appointment(s) cancelled; their slots can be booked again."
MSG_NOTHING_TO_CANCEL = "The selected appointments were already cancelled: nothing changed."
MSG_ABSENCE_WHO = "Choose either a resource or a whole center (not both)."
MSG_ABSENCE_END = "The absence must end after it starts."
MSG_RULE_END = "The opening must end after it starts."


def center_time(value, center: Center) -> str:
    return f"{timezone.localtime(value, center.zone):%d/%m/%Y %H:%M}"


class CenterOfAbsenceFilter(admin.SimpleListFilter):
    """An absence belongs to a center directly, or through its resource."""

    title = "center"
    parameter_name = "center"

    def lookups(self, request, model_admin):
        return [(str(c.pk), str(c)) for c in Center.objects.all()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(Q(center_id=self.value()) | Q(resource__location__center_id=self.value()))
        return queryset


# Resource and what hangs under it


class EndsAfterStartMixin:
    """A form of something that ends after it starts: says so on the end field."""

    start_field, end_field, end_message = "start", "end", MSG_END_BEFORE_START

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get(self.start_field), cleaned.get(self.end_field)
        if start and end and end <= start:
            self.add_error(self.end_field, self.end_message)
        return cleaned


class AvailabilityRuleForm(EndsAfterStartMixin, ExternalIdLockedForm):
    start_field, end_field, end_message = "start_time", "end_time", MSG_RULE_END


class AvailabilityRuleInline(admin.TabularInline):
    model = AvailabilityRule
    form = AvailabilityRuleForm
    extra = 0
    fields = ("lid", "weekday", "start_time", "end_time", "valid_from", "valid_to", "activities")
    autocomplete_fields = ("activities",)


class AbsenceForm(EndsAfterStartMixin, forms.ModelForm):
    end_message = MSG_ABSENCE_END

    def clean(self):
        cleaned = super().clean()
        both_shown = "resource" in self.fields and "center" in self.fields
        if both_shown and bool(cleaned.get("resource")) == bool(cleaned.get("center")):
            self.add_error("center", MSG_ABSENCE_WHO)
        return cleaned


class ResourceAbsenceInline(admin.TabularInline):
    model = Absence
    form = AbsenceForm
    extra = 0
    fields = ("start", "end", "reason")


class ResourceActivityInline(admin.TabularInline):
    model = ResourceActivity
    extra = 0
    autocomplete_fields = ("activity",)


class InsuranceResourceInline(admin.TabularInline):
    model = InsuranceResource
    extra = 0
    autocomplete_fields = ("insurance",)


@admin.register(Resource)
class ResourceAdmin(ExternalIdReadOnlyMixin, admin.ModelAdmin):
    list_display = ("lid", "first_name", "second_name", "location", "center", "web_enabled", "availabilities_step")
    list_filter = (("location__center", admin.RelatedFieldListFilter), "web_enabled", "location")
    list_select_related = ("location__center",)
    search_fields = ("lid", "first_name", "second_name", "mobile_phone", "email")
    inlines = (AvailabilityRuleInline, ResourceAbsenceInline, ResourceActivityInline, InsuranceResourceInline)

    @admin.display(description="center", ordering="location__center__lid")
    def center(self, obj: Resource) -> Center:
        return obj.location.center


@admin.register(ActivityGroup)
class ActivityGroupAdmin(ExternalIdReadOnlyMixin, admin.ModelAdmin):
    list_display = ("lid", "name")
    search_fields = ("lid", "name")


class InsuranceActivityInline(admin.TabularInline):
    model = InsuranceActivity
    extra = 0
    autocomplete_fields = ("insurance",)


@admin.register(Activity)
class ActivityAdmin(ExternalIdReadOnlyMixin, admin.ModelAdmin):
    list_display = ("lid", "name", "group", "duration", "price", "web_enabled")
    list_filter = ("web_enabled", "group")
    list_select_related = ("group",)
    search_fields = ("lid", "name", "group__name")
    inlines = (InsuranceActivityInline,)


@admin.register(Insurance)
class InsuranceAdmin(ExternalIdReadOnlyMixin, admin.ModelAdmin):
    list_display = ("lid", "name", "web_enabled")
    list_filter = ("web_enabled",)
    search_fields = ("lid", "name")


@admin.register(ResourceActivity)
class ResourceActivityAdmin(admin.ModelAdmin):
    list_display = ("resource", "activity", "duration", "price")
    list_filter = (("resource__location__center", admin.RelatedFieldListFilter),)
    list_select_related = ("resource", "activity")
    search_fields = (
        "resource__lid",
        "resource__first_name",
        "resource__second_name",
        "activity__lid",
        "activity__name",
    )
    autocomplete_fields = ("resource", "activity")


@admin.register(InsuranceActivity)
class InsuranceActivityAdmin(admin.ModelAdmin):
    list_display = ("insurance", "activity", "price")
    list_filter = ("insurance",)
    list_select_related = ("insurance", "activity")
    search_fields = ("insurance__lid", "insurance__name", "activity__lid", "activity__name")
    autocomplete_fields = ("insurance", "activity")


@admin.register(InsuranceResource)
class InsuranceResourceAdmin(admin.ModelAdmin):
    list_display = ("insurance", "resource")
    list_filter = ("insurance", ("resource__location__center", admin.RelatedFieldListFilter))
    list_select_related = ("insurance", "resource")
    search_fields = ("insurance__lid", "insurance__name", "resource__lid", "resource__first_name")
    autocomplete_fields = ("insurance", "resource")


@admin.register(AvailabilityRule)
class AvailabilityRuleAdmin(ExternalIdReadOnlyMixin, admin.ModelAdmin):
    form = AvailabilityRuleForm
    list_display = ("lid", "resource", "weekday", "start_time", "end_time", "valid_from", "valid_to")
    list_filter = (("resource__location__center", admin.RelatedFieldListFilter), "weekday", "resource")
    list_select_related = ("resource",)
    search_fields = ("lid", "resource__lid", "resource__first_name", "resource__second_name")
    autocomplete_fields = ("resource", "activities")


@admin.register(Absence)
class AbsenceAdmin(admin.ModelAdmin):
    form = AbsenceForm
    list_display = ("__str__", "resource", "center", "start", "end", "reason")
    list_filter = (CenterOfAbsenceFilter, "resource", "start")
    list_select_related = ("resource", "center")
    search_fields = ("reason", "resource__lid", "resource__first_name", "resource__second_name", "center__lid")
    autocomplete_fields = ("resource",)
    date_hierarchy = "start"


# Appointments


class AppointmentRefused(Exception):
    """A write the database or a service refused after the form was valid (a race): shown as a message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class AppointmentAdminForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        status = self.fields.get("status")
        if status is not None and self.instance.pk is None:
            status.choices = [(s.value, s.label) for s in ACTIVE_STATUSES]

    def _value(self, name: str):
        if name in self.fields:
            return self.cleaned_data.get(name)
        return getattr(self.instance, name)

    def clean(self):
        cleaned = super().clean()
        start, end, resource, status = (self._value(n) for n in ("start", "end", "resource", "status"))
        moved = bool({"start", "end", "resource"} & set(self.changed_data))
        if self.instance.pk and "start" in self.changed_data and "end" not in self.changed_data and start:
            # Moving only the start keeps the appointment's length, as the reschedule service does.
            end = start + (self.instance.end - self.instance.start)
            cleaned["end"] = end
        if not (start and end and resource):
            return cleaned
        if end <= start:
            self.add_error("end", MSG_END_BEFORE_START)
            return cleaned
        if self.instance.pk and moved and status in CANCELLED_STATUSES and "status" in self.changed_data:
            raise forms.ValidationError(MSG_MOVE_AND_CANCEL)
        if status in ACTIVE_STATUSES and (moved or self.instance.pk is None or "status" in self.changed_data):
            other = overlapping_appointment(resource=resource, start=start, end=end, exclude=self.instance)
            if other is not None:
                center = resource.location.center
                raise forms.ValidationError(
                    MSG_DESK_OVERLAP.format(
                        resource=resource,
                        other=other.lid,
                        start=center_time(other.start, center),
                        end=center_time(other.end, center),
                    )
                )
        return cleaned


@admin.register(Appointment)
class AppointmentAdmin(ExternalIdReadOnlyMixin, admin.ModelAdmin):
    """Cancelled appointments are kept as history: never deleted, and read-only but for notes."""

    form = AppointmentAdminForm
    list_display = ("lid", "when_local", "resource", "activity", "patient", "status", "origin", "modified")
    list_filter = (
        ("resource__location__center", admin.RelatedFieldListFilter),
        "resource",
        "status",
        "origin",
        "start",
    )
    list_select_related = ("resource__location__center", "activity", "patient")
    search_fields = (
        "=lid",
        "=tid",
        "=patient__lid",
        "=patient__links__tid",
        "patient__id_number",
        "patient__mobile_phone",
        "patient__landline_phone",
        "patient__name_key",
        "=resource__lid",
        "resource__second_name",
    )
    autocomplete_fields = ("patient", "resource", "activity", "insurance")
    date_hierarchy = "start"
    show_full_result_count = False
    actions = ("cancel_appointments",)
    fieldsets = (
        (None, {"fields": ("lid", "tid", "patient", "resource", "activity", "insurance", "location")}),
        ("When", {"fields": ("start", "end", "when_local")}),
        ("Status", {"fields": ("status", "origin", "cancelled_at", "created", "modified")}),
        ("Booked on behalf of", {"fields": ("owner_lid", "owner_tid", "owner_name"), "classes": ("collapse",)}),
        (None, {"fields": ("notes",)}),
    )

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        readonly += ["location", "when_local", "cancelled_at", "created", "modified"]
        if obj is not None:
            readonly.append("origin")
            if obj.status in CANCELLED_STATUSES:
                readonly += ["patient", "resource", "activity", "insurance", "start", "end", "status"]
        return readonly

    def has_delete_permission(self, request, obj=None):
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        zone = obj.resource.location.center.time_zone if obj is not None else settings.TIME_ZONE
        for name in ("start", "end"):
            if name in form.base_fields:
                form.base_fields[name].help_text = f"Wall-clock time in {zone}."
        return form

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # An existing appointment is shown and edited in its center's time zone.
        obj = self.get_object(request, unquote(object_id)) if object_id else None
        zone = obj.resource.location.center.zone if obj is not None else timezone.get_current_timezone()
        with timezone.override(zone):
            try:
                response = super().changeform_view(request, object_id, form_url, extra_context)
            except AppointmentRefused as refused:
                # The form was valid but the write lost a race: everything was rolled back.
                self.message_user(request, MSG_SLOT_TAKEN_RETRY.format(message=refused.message), messages.ERROR)
                return HttpResponseRedirect(request.get_full_path())
            if isinstance(response, TemplateResponse):
                response.render()  # times are formatted while rendering: do it in the center's zone
            return response

    @admin.display(description="When (center time)", ordering="start")
    def when_local(self, obj: Appointment) -> str:
        if obj.pk is None:
            return "-"
        center = obj.resource.location.center
        return f"{center_time(obj.start, center)}-{timezone.localtime(obj.end, center.zone):%H:%M} ({center.time_zone})"

    def save_model(self, request, obj, form, change):
        if not change:
            try:
                book_at_desk(appointment=obj)
            except DomainError as exc:
                raise AppointmentRefused(exc.message) from None
            return
        original = Appointment.objects.get(pk=obj.pk)
        try:
            if obj.status in CANCELLED_STATUSES and original.status not in CANCELLED_STATUSES:
                new_status = obj.status
                obj.status = original.status
                obj.save()  # the other edited fields (notes...)
                cancel_appointment(
                    appointment=obj, by_admin=new_status == AppointmentStatus.CANCELLED_BY_ADMIN, allow_past=True
                )
            elif {"start", "end", "resource"} & set(form.changed_data):
                reschedule_appointment(appointment=obj, start=obj.start, end=obj.end, resource=obj.resource)
            else:
                with transaction.atomic():
                    obj.save()
        except DomainError as exc:
            raise AppointmentRefused(exc.message) from None
        except IntegrityError as exc:
            if not is_overlap_violation(exc):
                raise
            raise AppointmentRefused(f"{local_label(obj.resource, obj.start)} is already taken.") from None

    @admin.action(description="Cancel selected appointments")
    def cancel_appointments(self, request, queryset):
        count = 0
        for appointment in queryset.filter(status__in=ACTIVE_STATUSES).select_related("resource__location__center"):
            cancel_appointment(appointment=appointment, by_admin=True, allow_past=True)
            count += 1
        if count:
            self.message_user(request, MSG_CANCELLED_N.format(count=count), messages.SUCCESS)
        else:
            self.message_user(request, MSG_NOTHING_TO_CANCEL, messages.WARNING)
