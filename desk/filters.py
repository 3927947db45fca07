"""The agenda's filters (center, doctor, activity, insurance, date), read from the URL by django-filter so
that a view of the agenda can be bookmarked and shared."""

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

import django_filters
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from appointments.agenda import opening_center, today_of
from appointments.models import Activity, Insurance, Resource
from centers.models import Center

DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]
PARAMS = ("center", "doctor", "activity", "insurance", "date")


def fmt_day(day: dt.date) -> str:
    return f"{day:%d/%m/%Y}"


class AgendaFilter(django_filters.FilterSet):
    """Which doctors the agenda shows; the date picks the day, the activity and insurance also narrow the
    free slots shown (done by the agenda selector)."""

    center = django_filters.ModelChoiceFilter(
        label=_("Center"), queryset=Center.objects.order_by("lid"), to_field_name="lid", field_name="location__center"
    )
    doctor = django_filters.ModelChoiceFilter(
        label=_("Doctor"), queryset=Resource.objects.none(), to_field_name="lid", method="filter_doctor",
        empty_label=_("Every doctor"),
    )  # fmt: skip
    activity = django_filters.ModelChoiceFilter(
        label=_("Activity"), queryset=Activity.objects.order_by("name", "lid"), to_field_name="lid",
        field_name="resource_activities__activity", empty_label=_("Any activity"),
    )  # fmt: skip
    insurance = django_filters.ModelChoiceFilter(
        label=_("Insurance"), queryset=Insurance.objects.order_by("name", "lid"), to_field_name="lid",
        field_name="insurance_resources__insurance", empty_label=_("Any (self-pay slots)"),
    )  # fmt: skip
    date = django_filters.DateFilter(label=_("Date"), method="filter_date", input_formats=DATE_FORMATS)

    class Meta:
        model = Resource
        fields = list(PARAMS)

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        # The doctors offered are those of the center asked for (set before the form is built).
        center_lid = (data or {}).get("center")
        doctors = Resource.objects.select_related("location__center").order_by("second_name", "first_name", "lid")
        self.filters["doctor"].queryset = doctors.filter(location__center__lid=center_lid) if center_lid else doctors
        self.form.fields["date"].widget.attrs.update(placeholder="dd/mm/yyyy", size=10, autocomplete="off")
        self.form.fields["center"].empty_label = None

    def filter_doctor(self, queryset, name, value):
        return queryset.filter(pk=value.pk)

    def filter_date(self, queryset, name, value):
        return queryset  # the day is the agenda's, not a property of the doctors


@dataclass(frozen=True)
class AgendaQuery:
    """What the clerk asked to see, parsed; `doctors` is the filtered queryset of the columns."""

    filterset: AgendaFilter
    center: Center | None
    day: dt.date | None
    doctor: Resource | None
    activity: Activity | None
    insurance: Insurance | None

    @property
    def form(self):
        return self.filterset.form

    @property
    def errors(self):
        return self.filterset.form.errors

    @property
    def doctors(self) -> QuerySet[Resource]:
        return self.filterset.qs

    def params(self, **changes) -> dict[str, str]:
        values = {
            "center": self.center.lid if self.center else None,
            "doctor": self.doctor.lid if self.doctor else None,
            "activity": self.activity.lid if self.activity else None,
            "insurance": self.insurance.lid if self.insurance else None,
            "date": fmt_day(self.day) if self.day else None,
        }
        values.update(changes)
        return {key: value for key, value in values.items() if value}

    def url(self, name: str, **changes) -> str:
        """The URL of a desk page with these filters, changed as asked (None drops one)."""
        query = urlencode(self.params(**changes))
        return reverse(name) + (f"?{query}" if query else "")


def parse_agenda_query(data, *, week: bool = False) -> AgendaQuery:
    """The filters in a request's query string. No center: the doctor's, else the first center. No
    date: today on the center's wall clock."""
    data = data.copy()
    if not data.get("center"):
        center = opening_center(doctor_lid=data.get("doctor") if week else None)
        data["center"] = center.lid if center else ""
    filterset = AgendaFilter(data, queryset=Resource.objects.all())
    if not filterset.is_valid():
        return AgendaQuery(filterset, None, None, None, None, None)
    cleaned = filterset.form.cleaned_data
    center = cleaned["center"]
    return AgendaQuery(
        filterset=filterset,
        center=center,
        day=cleaned["date"] or (today_of(center) if center else None),
        doctor=cleaned["doctor"],
        activity=cleaned["activity"],
        insurance=cleaned["insurance"],
    )
