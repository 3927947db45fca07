"""The desk's forms: they parse what the clerk sent; every rule is the domain's."""

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from appointments.models import Origin, Resource
from centers.models import Center
from desk.filters import DATE_FORMATS
from patients.models import PatientData

MSG_DAY_END = _("The last day cannot be before the first day.")
MSG_NO_PATIENT = _("There is no patient {lid!r}: search again and choose one from the list.")
MSG_CHOOSE_PATIENT = _("Choose the patient: one found by the search, or a new patient.")
NEW_PATIENT = "new"
NEW_PATIENT_FIELDS = ("first_name", "second_name", "third_name", "date_of_birth", "mobile_phone", "email", "id_number")

ORIGINS = [(Origin.DESK, _("At the desk")), (Origin.PHONE, _("By phone"))]
REASONS = [
    ("admin", _("The hospital cancels it (by admin)")),
    ("user", _("The patient asked to cancel (by user)")),
]


def date_field(label: str, required: bool = True) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(format="%d/%m/%Y", attrs={"placeholder": "dd/mm/yyyy", "size": 10}),
    )


class BookForm(forms.Form):
    """A free slot booked for a patient chosen from a search (patient) or described (the other fields)."""

    slot = forms.CharField(widget=forms.HiddenInput)
    activity = forms.ChoiceField(label=_("Activity"))
    insurance = forms.ChoiceField(label=_("Insurance"), required=False)
    origin = forms.ChoiceField(label=_("Booked"), choices=ORIGINS, initial=Origin.DESK, widget=forms.RadioSelect)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    # A hospital id from the search results, or NEW_PATIENT (radio buttons drawn by the template).
    patient = forms.CharField(error_messages={"required": MSG_CHOOSE_PATIENT})
    first_name = forms.CharField(label=_("First name"), required=False, max_length=50)
    second_name = forms.CharField(label=_("First surname"), required=False, max_length=50)
    third_name = forms.CharField(label=_("Second surname"), required=False, max_length=50)
    date_of_birth = date_field(_("Date of birth"), required=False)
    mobile_phone = forms.CharField(label=_("Mobile phone"), required=False, max_length=50)
    email = forms.EmailField(label=_("E-mail"), required=False, max_length=100)
    id_number = forms.CharField(label=_("ID number"), required=False, max_length=50)
    register_anyway = forms.BooleanField(label=_("None of these: register a new patient"), required=False)

    def __init__(self, *args, activities, insurances, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["activity"].choices = [(a.lid, f"{a.name} ({a.lid})") for a in activities]
        self.fields["insurance"].choices = [("", _("Self-pay (no insurance)"))] + [
            (i.lid, f"{i.name} ({i.lid})") for i in insurances
        ]
        self._activities = {a.lid: a for a in activities}
        self._insurances = {i.lid: i for i in insurances}

    def clean(self):
        cleaned = super().clean()
        cleaned["activity"] = self._activities.get(cleaned.get("activity"))
        cleaned["insurance"] = self._insurances.get(cleaned.get("insurance") or "")
        return cleaned

    def patient_data(self) -> PatientData:
        """The new patient described, as every way in describes one to the domain."""
        return PatientData(**{name: self.cleaned_data[name] for name in NEW_PATIENT_FIELDS})


class CancelForm(forms.Form):
    reason = forms.ChoiceField(label=_("Why"), choices=REASONS, initial="admin", widget=forms.RadioSelect)


class MoveForm(forms.Form):
    slot = forms.CharField(widget=forms.HiddenInput)


class DayForm(forms.Form):
    date = date_field(_("Day"), required=False)


class AbsenceForm(forms.Form):
    """A doctor's absence, or a holiday of the whole center when no doctor is chosen; times are the
    center's wall clock, and a day without times is the whole day."""

    doctor = forms.ModelChoiceField(
        label=_("Who"),
        queryset=Resource.objects.none(),
        to_field_name="lid",
        required=False,
        empty_label=_("The whole center (a holiday)"),
    )
    first_day = date_field(_("First day"))
    start_time = forms.TimeField(
        label=_("From"), required=False, widget=forms.TimeInput(attrs={"placeholder": "hh:mm"}),
        help_text=_("Empty: from the start of the first day."),
    )  # fmt: skip
    last_day = date_field(_("Last day"))
    end_time = forms.TimeField(
        label=_("Until"), required=False, widget=forms.TimeInput(attrs={"placeholder": "hh:mm"}),
        help_text=_("Empty: until the end of the last day."),
    )  # fmt: skip
    reason = forms.CharField(label=_("Reason"), required=False, max_length=200)

    def __init__(self, *args, center: Center, **kwargs):
        super().__init__(*args, **kwargs)
        self.center = center
        self.fields["doctor"].queryset = Resource.objects.filter(location__center=center).order_by(
            "second_name", "first_name", "lid"
        )

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("first_day"), cleaned.get("last_day")
        if first and last and last < first:
            self.add_error("last_day", MSG_DAY_END)
        return cleaned

    def period(self) -> tuple[dt.datetime, dt.datetime]:
        """Start and end as instants, read on the center's wall clock."""
        data, zone = self.cleaned_data, self.center.zone
        start = dt.datetime.combine(data["first_day"], data["start_time"] or dt.time(), zone)
        if data["end_time"] is None:
            return start, dt.datetime.combine(data["last_day"] + dt.timedelta(days=1), dt.time(), zone)
        return start, dt.datetime.combine(data["last_day"], data["end_time"], zone)
