"""The desk's admin: doctors and what they offer, and appointments moved or cancelled
through the same services the webservices use."""

import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from appointments.agenda import Concern, appointments_during, booking_concerns, today_of
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
from appointments.selectors import duration_of, overlapping_appointment
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

MSG_DESK_OVERLAP = _(
    "{resource} already has appointment {other} from {start} to {end} (center time) at this time: "
    "choose another time or doctor."
)
MSG_SLOT_TAKEN_RETRY = _("{message} Nothing was saved; check the times and try again.")
MSG_MOVE_AND_CANCEL = _("Cancel the appointment or move it, not both at once: save one change, then the other.")
MSG_CANCELLED_N = _("{count} appointment(s) cancelled; their slots can be booked again.")
MSG_NOTHING_TO_CANCEL = _("The selected appointments were already cancelled: nothing changed.")
MSG_ABSENCE_WHO = _("Choose either a doctor or a whole center (not both).")
MSG_ABSENCE_END = _("The absence must end after it starts.")
MSG_RULE_END = _("The opening must end after it starts.")
MSG_NOT_OFFERED = _("{doctor} does not offer {activity}.")
MSG_OUTSIDE_HOURS = _("{start}-{end} is outside the opening hours of {doctor} for {activity}.")
MSG_ABSENT = _("{doctor} is absent then ({absence}).")
MSG_CENTER_CLOSED = _("The center is closed then ({absence}).")
MSG_CONFIRM_CONCERNS = _("To book it all the same, tick “Book anyway” and save again.")
MSG_AFFECTED = _(
    "{count} active appointment(s) fall in this absence: move or cancel them (listed on the absence's page)."
)
MSG_ZONE_KNOWN = _("Wall-clock time of {center}: {zone}.")
MSG_ZONE_OF_DOCTOR = _("Wall-clock time of the doctor's center (the doctor chosen decides it).")
MSG_ZONE_OF_ABSENCE = _("Wall-clock time of the center concerned (of the doctor, or the whole center chosen).")
MSG_END_FROM_DURATION = _("Empty: the activity's duration with this doctor.")


def center_time(value, center: Center) -> str:
    return f"{timezone.localtime(value, center.zone):%d/%m/%Y %H:%M}"


class CenterOfAbsenceFilter(admin.SimpleListFilter):
    """An absence belongs to a center directly, or through its resource."""

    title = _("center")
    parameter_name = "center"

    def lookups(self, request, model_admin):
        return [(str(c.pk), str(c)) for c in Center.objects.all()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(Q(center_id=self.value()) | Q(resource__location__center_id=self.value()))
        return queryset


def _pk(value) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


class CenterClockMixin:
    """Every time a clerk types or reads on the form is the wall clock of the center concerned: the
    object's center, else the one the doctor (or center) chosen on the form decides, read from the
    submitted form (or from ?resource= when the page is opened for a doctor). The zone is named in
    the fields' help texts; Django's note comparing the browser's clock with the server's is hidden."""

    clock_fields: tuple[str, ...] = ()
    zone_unknown_help = MSG_ZONE_OF_DOCTOR

    def center_of(self, obj) -> Center | None:
        raise NotImplementedError

    def chosen_center(self, request) -> Center | None:
        data = request.POST if request.method == "POST" else request.GET
        resource_pk = _pk(data.get("resource"))
        if resource_pk is not None:
            resource = Resource.objects.select_related("location__center").filter(pk=resource_pk).first()
            if resource is not None:
                return resource.location.center
        location_pk = _pk(data.get("location"))  # a new doctor's page: its location's center
        if location_pk is not None:
            return Center.objects.filter(locations__pk=location_pk).first()
        center_pk = _pk(data.get("center"))
        return Center.objects.filter(pk=center_pk).first() if center_pk is not None else None

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id)) if object_id else None
        center = (self.center_of(obj) if obj is not None else None) or self.chosen_center(request)
        request.form_center = center
        with timezone.override(center.zone if center is not None else timezone.get_current_timezone()):
            response = self.center_changeform_view(request, object_id, form_url, extra_context)
            if isinstance(response, TemplateResponse):
                response.render()  # times are formatted while rendering: do it in the center's zone
            return response

    def center_changeform_view(self, request, object_id, form_url, extra_context):
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        center = getattr(request, "form_center", None)
        # center_clock.js names the zone as soon as a doctor (or center) is picked, asking clock_view.
        help_text = format_html(
            '<span class="center-zone" data-clock-url="{}">{}</span>',
            reverse("admin:appointments_resource_clock"),
            zone_help(center) if center is not None else self.zone_unknown_help,
        )
        for name in self.clock_fields:
            if name in form.base_fields:
                form.base_fields[name].help_text = help_text
        return form

    @property
    def media(self):
        return super().media + forms.Media(js=["appointments/center_clock.js"])


def zone_help(center: Center) -> str:
    return MSG_ZONE_KNOWN.format(center=center.name, zone=center.time_zone)


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
class ResourceAdmin(CenterClockMixin, ExternalIdReadOnlyMixin, admin.ModelAdmin):
    list_display = ("lid", "first_name", "second_name", "location", "center", "web_enabled", "availabilities_step")
    list_filter = (("location__center", admin.RelatedFieldListFilter), "web_enabled", "location")
    list_select_related = ("location__center",)
    search_fields = ("lid", "first_name", "second_name", "mobile_phone", "email")
    inlines = (AvailabilityRuleInline, ResourceAbsenceInline, ResourceActivityInline, InsuranceResourceInline)

    @admin.display(description=_("center"), ordering="location__center__lid")
    def center(self, obj: Resource) -> Center:
        return obj.location.center

    def center_of(self, obj: Resource) -> Center:
        return obj.location.center

    def get_urls(self):
        clock = path("clock/", self.admin_site.admin_view(self.clock_view), name="appointments_resource_clock")
        return [clock, *super().get_urls()]

    def clock_view(self, request):
        """The zone of the doctor (?resource=) or center (?center=) picked on a form, for its help texts."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        center = self.chosen_center(request)
        return JsonResponse({"text": str(zone_help(center) if center is not None else MSG_ZONE_OF_DOCTOR)})


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


def appointment_links(appointments) -> str:
    """Each appointment as a link to its page in the admin, with its time on its center's clock."""
    if not appointments:
        return gettext("None")
    rows = [
        (
            reverse("admin:appointments_appointment_change", args=[a.pk]),
            a.lid,
            center_time(a.start, a.resource.location.center),
            a.resource,
            a.patient,
            a.activity.name,
        )
        for a in appointments
    ]
    return format_html(
        '<ul class="appointments">{}</ul>',
        format_html_join("", '<li><a href="{}">{}</a> {} · {} · {} · {}</li>', rows),
    )


@admin.register(Absence)
class AbsenceAdmin(CenterClockMixin, admin.ModelAdmin):
    form = AbsenceForm
    clock_fields = ("start", "end")
    zone_unknown_help = MSG_ZONE_OF_ABSENCE
    list_display = ("who", "start_local", "end_local", "zone", "reason")
    list_filter = (CenterOfAbsenceFilter, "resource", "start")
    list_select_related = ("resource__location__center", "center")
    search_fields = ("reason", "resource__lid", "resource__first_name", "resource__second_name", "center__lid")
    autocomplete_fields = ("resource",)
    date_hierarchy = "start"
    fields = ("resource", "center", "start", "end", "reason", "appointments_during")
    readonly_fields = ("appointments_during",)

    def center_of(self, obj: Absence) -> Center:
        return obj.center or obj.resource.location.center

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return fields if obj is not None else [f for f in fields if f != "appointments_during"]

    @admin.display(description=_("doctor or center"))
    def who(self, obj: Absence):
        return obj.resource or obj.center

    @admin.display(description=_("from (center time)"), ordering="start")
    def start_local(self, obj: Absence) -> str:
        return f"{timezone.localtime(obj.start, obj.zone):%d/%m/%Y %H:%M}"

    @admin.display(description=_("until (center time)"), ordering="end")
    def end_local(self, obj: Absence) -> str:
        return f"{timezone.localtime(obj.end, obj.zone):%d/%m/%Y %H:%M}"

    @admin.display(description=_("time zone"))
    def zone(self, obj: Absence) -> str:
        return str(obj.zone)

    @admin.display(description=_("active appointments during the absence"))
    def appointments_during(self, obj: Absence) -> str:
        return appointment_links(appointments_during(absence=obj))

    def response_add(self, request, obj, post_url_continue=None):
        affected = appointments_during(absence=obj)
        if affected and "_addanother" not in request.POST and "_popup" not in request.POST:
            # The clerk goes on to the absence's page, where the appointments it falls on are listed.
            self.message_user(request, MSG_AFFECTED.format(count=len(affected)), messages.WARNING)
            return HttpResponseRedirect(reverse("admin:appointments_absence_change", args=[obj.pk]))
        return super().response_add(request, obj, post_url_continue)


# Appointments


class AppointmentRefused(Exception):
    """A write the database or a service refused after the form was valid (a race): shown as a message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def concern_message(concern, *, resource: Resource, activity: Activity, start, end) -> str:
    center = resource.location.center
    if concern.concern == Concern.NOT_OFFERED:
        return MSG_NOT_OFFERED.format(doctor=resource, activity=activity)
    if concern.concern == Concern.OUTSIDE_HOURS:
        return MSG_OUTSIDE_HOURS.format(
            start=center_time(start, center),
            end=f"{timezone.localtime(end, center.zone):%H:%M}",
            doctor=resource,
            activity=activity,
        )
    if concern.absence.center_id is not None:
        return MSG_CENTER_CLOSED.format(absence=concern.absence)
    return MSG_ABSENT.format(doctor=resource, absence=concern.absence)


class AppointmentAdminForm(forms.ModelForm):
    book_anyway = forms.BooleanField(
        label=_("Book anyway"),
        required=False,
        help_text=_("Save even outside the doctor's hours, during an absence, or for an activity not offered."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        status = self.fields.get("status")
        if status is not None and self.instance.pk is None:
            status.choices = [(s.value, s.label) for s in ACTIVE_STATUSES]
        end = self.fields.get("end")
        if end is not None and self.instance.pk is None:
            end.required = False
            end.help_text = f"{end.help_text} {MSG_END_FROM_DURATION}"

    def _value(self, name: str):
        if name in self.fields:
            return self.cleaned_data.get(name)
        return getattr(self.instance, name, None)

    def clean(self):
        cleaned = super().clean()
        start, end, resource, status = (self._value(n) for n in ("start", "end", "resource", "status"))
        activity = self._value("activity") if "activity" in self.fields or self.instance.activity_id else None
        moved = bool({"start", "end", "resource"} & set(self.changed_data))
        if self.instance.pk and "start" in self.changed_data and "end" not in self.changed_data and start:
            # Moving only the start keeps the appointment's length, as the reschedule service does.
            end = start + (self.instance.end - self.instance.start)
            cleaned["end"] = end
        if self.instance.pk is None and start and not end and resource and activity:
            end = cleaned["end"] = start + duration_of(resource=resource, activity=activity)
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
            if activity is not None and (moved or self.instance.pk is None) and not cleaned.get("book_anyway"):
                concerns = booking_concerns(resource=resource, activity=activity, start=start, end=end)
                if concerns:
                    facts = {"resource": resource, "activity": activity, "start": start, "end": end}
                    raise forms.ValidationError(
                        [concern_message(c, **facts) for c in concerns] + [MSG_CONFIRM_CONCERNS]
                    )
        return cleaned


class DefaultedFilter(admin.SimpleListFilter):
    """A list filter with a choice taken when none is asked for (its `default`), and no "All" of Django's:
    each filter names its own widest choice."""

    default: str

    def value(self):
        return super().value() or self.default

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class WhenFilter(DefaultedFilter):
    """Days on each center's own calendar; from today on unless asked otherwise, so the list opens at today."""

    title = _("when")
    parameter_name = "when"
    default = "upcoming"

    def lookups(self, request, model_admin):
        return [
            ("today", _("Today")),
            ("tomorrow", _("Tomorrow")),
            ("week", _("This week")),
            ("upcoming", _("From today on")),
            ("past", _("Past")),
            ("all", _("Any time")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "all":
            return queryset
        days = Q()
        for center in Center.objects.all():
            first, last = self.days(today_of(center))
            since = None if first is None else datetime.datetime.combine(first, datetime.time(), center.zone)
            until = None if last is None else datetime.datetime.combine(last, datetime.time(), center.zone)
            bounds = {"start__gte": since, "start__lt": until}
            days |= Q(resource__location__center=center, **{k: v for k, v in bounds.items() if v is not None})
        return queryset.filter(days)

    def days(self, today: datetime.date) -> tuple[datetime.date | None, datetime.date | None]:
        """From the first day to the day after the last (None: open)."""
        one = datetime.timedelta(days=1)
        value = self.value()
        if value == "today":
            return today, today + one
        if value == "tomorrow":
            return today + one, today + 2 * one
        if value == "week":
            monday = today - datetime.timedelta(days=today.weekday())
            return monday, monday + 7 * one
        if value == "past":
            return None, today
        return today, None


class ActiveFilter(DefaultedFilter):
    """Active appointments unless asked otherwise: cancelled ones are history."""

    title = _("status")
    parameter_name = "state"
    default = "active"

    def lookups(self, request, model_admin):
        return [("active", _("Active")), ("cancelled", _("Cancelled")), ("all", _("All"))]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(status__in=ACTIVE_STATUSES)
        if self.value() == "cancelled":
            return queryset.filter(status__in=CANCELLED_STATUSES)
        return queryset


@admin.register(Appointment)
class AppointmentAdmin(CenterClockMixin, ExternalIdReadOnlyMixin, admin.ModelAdmin):
    """Cancelled appointments are kept as history: never deleted, and read-only but for notes."""

    form = AppointmentAdminForm
    clock_fields = ("start", "end")
    list_display = ("when_local", "patient", "resource", "activity", "status", "lid")
    list_display_links = ("when_local", "lid")
    list_filter = (
        WhenFilter,
        ActiveFilter,
        ("resource__location__center", admin.RelatedFieldListFilter),
        "origin",
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
    show_full_result_count = False
    list_per_page = 50
    actions = ("cancel_appointments",)
    fieldsets = (
        (None, {"fields": ("lid", "tid", "patient", "resource", "activity", "insurance", "location")}),
        (_("When"), {"fields": ("start", "end", "book_anyway", "when_local")}),
        (_("Status"), {"fields": ("status", "origin", "cancelled_at", "created", "modified")}),
        (
            _("Booked on behalf of"),
            {"fields": ("owner_lid", "owner_tid", "owner_name"), "classes": ("collapse",)},
        ),
        (None, {"fields": ("notes",)}),
    )

    def center_of(self, obj: Appointment) -> Center:
        return obj.resource.location.center

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and obj.status in CANCELLED_STATUSES:
            return [
                (name, {**opts, "fields": tuple(f for f in opts["fields"] if f != "book_anyway")})
                for name, opts in fieldsets
            ]
        return fieldsets

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

    def center_changeform_view(self, request, object_id, form_url, extra_context):
        try:
            return super().center_changeform_view(request, object_id, form_url, extra_context)
        except AppointmentRefused as refused:
            # The form was valid but the write lost a race: everything was rolled back.
            self.message_user(request, MSG_SLOT_TAKEN_RETRY.format(message=refused.message), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    @admin.display(description=_("When (center time)"), ordering="start")
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
            raise AppointmentRefused(
                gettext("{slot} is already taken.").format(slot=local_label(obj.resource, obj.start))
            ) from None

    @admin.action(description=_("Cancel selected appointments"))
    def cancel_appointments(self, request, queryset):
        count = 0
        for appointment in queryset.filter(status__in=ACTIVE_STATUSES).select_related("resource__location__center"):
            cancel_appointment(appointment=appointment, by_admin=True, allow_past=True)
            count += 1
        if count:
            self.message_user(request, MSG_CANCELLED_N.format(count=count), messages.SUCCESS)
        else:
            self.message_user(request, MSG_NOTHING_TO_CANCEL, messages.WARNING)
