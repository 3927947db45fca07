"""The desk's pages. Each one parses the request, calls one domain selector or service, and renders, on
the wall clock of the center concerned. The desk acts as the hospital (scope HOSPITAL: every center,
patients by the hospital's id, and what is not offered online too). Staff only, with the admin's
permissions: a clerk who may only view appointments sees the agenda but is offered no action, and is
refused one if asked (403). Nothing changes on GET; every change is a POST with its CSRF token. Refusals
are the domain's messages."""

import datetime as dt
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from appointments.agenda import appointments_during, center_agenda, insurances_of, move_choices, today_of
from appointments.models import Absence
from appointments.selectors import appointment_for, named_slot
from appointments.services import (
    MSG_SLOT_CLOSED,
    MSG_SLOT_TAKEN,
    book_appointment,
    cancel_appointment,
    mark_absence,
    move_to_free_slot,
    why_not_bookable,
)
from appointments.slots import slots_starting_at
from clients.scope import HOSPITAL
from core.errors import NOT_FOUND, DomainError
from desk.filters import fmt_day, parse_agenda_query
from desk.forms import MSG_NO_PATIENT, NEW_PATIENT, AbsenceForm, BookForm, CancelForm, DayForm, MoveForm
from desk.grid import build_grid
from patients.models import PatientData
from patients.selectors import matching_patients, patient_by_lid, search_patients

SCOPE = HOSPITAL  # who the desk is to the domain

PERM_VIEW = ("appointments.view_appointment", "appointments.change_appointment")
PERM_BOOK = "appointments.add_appointment"
PERM_CHANGE = "appointments.change_appointment"
PERM_ABSENCE = "appointments.add_absence"
PERM_REGISTER = "patients.add_patient"

MSG_BOOKED = _("Booked: {when} with {doctor}, {activity}, for {patient}.")
MSG_ALREADY_HELD = _("{patient} already holds {when} with {doctor}: nothing changed.")
MSG_CANCELLED = _("Appointment {app} ({when}, {patient}) is cancelled {reason}; its slot can be booked again.")
MSG_WAS_CANCELLED = _("Appointment {app} was already cancelled: nothing changed.")
MSG_MOVED = _("Appointment {app} ({patient}) moved to {when} with {doctor}.")
MSG_OTHER_ACTIVITY = _("That slot is for another activity: choose one of the slots listed.")
MSG_ABSENCE_MARKED = _("{who} closed from {start} to {end}.")
MSG_MAY_NOT_REGISTER = _("You may not register new patients: search for the patient and choose one.")
MSG_POSSIBLE_DUPLICATES = _(
    "These patients look like the one you describe. Choose one, or tick the box to register a new patient: "
    "the pair is then kept among the possible duplicates, for review in the admin."
)
MSG_CHOOSE_DOCTOR = _("Choose a doctor to see their week.")
MSG_NO_CENTER = _("The hospital has no center yet: add one in the admin.")
REASON_WORDS = {"admin": _("by the hospital"), "user": _("at the patient's request")}
# Refusals that mean the slot went while the clerk was filling the form: back to the refreshed day.
GONE_MEANWHILE = (MSG_SLOT_TAKEN, MSG_SLOT_CLOSED)


def desk_page(view):
    """Staff only (others go to the admin's login), and only those who may see appointments."""

    @staff_member_required
    @wraps(view)
    def page_view(request, *args, **kwargs):
        if not any(request.user.has_perm(perm) for perm in PERM_VIEW):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return page_view


def require(request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def page(request, template: str, context: dict, *, zone=None, status: int = 200):
    """Renders on the center's wall clock (dates and times shown are the center's)."""
    user = request.user
    context["can"] = {
        "book": user.has_perm(PERM_BOOK),
        "change": user.has_perm(PERM_CHANGE),
        "absence": user.has_perm(PERM_ABSENCE),
        "register": user.has_perm(PERM_REGISTER),
    }
    with timezone.override(zone or timezone.get_current_timezone()):
        return render(request, template, context, status=status)


def when(value: dt.datetime, zone) -> str:
    return f"{timezone.localtime(value, zone):%d/%m/%Y %H:%M}"


def back_to(request, source, fallback: str) -> str:
    """Where to go after an action: the desk page it came from, if it is one."""
    back = source.get("back") or ""
    if back.startswith("/desk/") and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return back
    return fallback


def day_url(center, day: dt.date) -> str:
    return reverse("desk:day") + "?" + urlencode({"center": center.lid, "date": fmt_day(day)})


# ---------------------------------------------------------------- the agenda


@desk_page
def day_view(request):
    query = parse_agenda_query(request.GET)
    if query.center is None:
        return page(request, "desk/day.html", {"query": query, "view": "day"}, status=400 if query.errors else 200)
    agenda = _agenda(query, first_day=query.day, last_day=query.day)
    grid = build_grid(agenda, [(doctor, query.day) for doctor in agenda.resources])
    for column in grid.columns:
        column.week_url = query.url("desk:week", doctor=column.resource.lid)
    return _agenda_page(request, query, "day", agenda, grid, step=dt.timedelta(days=1))


@desk_page
def week_view(request):
    query = parse_agenda_query(request.GET, week=True)
    if query.center is None or query.doctor is None:
        if query.center is not None:
            messages.info(request, MSG_CHOOSE_DOCTOR)
        return page(request, "desk/week.html", {"query": query, "view": "week"}, status=400 if query.errors else 200)
    monday = query.day - dt.timedelta(days=query.day.weekday())
    agenda = _agenda(query, first_day=monday, last_day=monday + dt.timedelta(days=6))
    grid = build_grid(agenda, [(doctor, day) for doctor in agenda.resources for day in agenda.days])
    for column in grid.columns:
        column.day_url = query.url("desk:day", doctor=None, date=fmt_day(column.day))
    return _agenda_page(request, query, "week", agenda, grid, step=dt.timedelta(days=7))


@desk_page
def print_view(request):
    query = parse_agenda_query(request.GET)
    if query.center is None:
        return page(request, "desk/print.html", {"query": query}, status=400 if query.errors else 200)
    agenda = _agenda(query, first_day=query.day, last_day=query.day, with_free=False)
    lists = [(doctor, [a for a in agenda.appointments if a.resource_id == doctor.pk]) for doctor in agenda.resources]
    context = {"query": query, "agenda": agenda, "lists": lists, "back": query.url("desk:day")}
    return page(request, "desk/print.html", context, zone=query.center.zone)


def _agenda(query, *, first_day: dt.date, last_day: dt.date, with_free: bool = True):
    return center_agenda(
        center=query.center,
        first_day=first_day,
        last_day=last_day,
        scope=SCOPE,
        resources=query.doctors,
        activity=query.activity,
        insurance=query.insurance,
        with_free=with_free,
    )


def _agenda_page(request, query, view: str, agenda, grid, *, step: dt.timedelta):
    context = {
        "query": query,
        "view": view,
        "agenda": agenda,
        "grid": grid,
        "here": request.get_full_path(),
        "links": _links(query, f"desk:{view}", step=step),
    }
    return page(request, f"desk/{view}.html", context, zone=query.center.zone)


def _links(query, name: str, *, step: dt.timedelta) -> dict[str, str]:
    return {
        "today": query.url(name, date=None),
        "previous": query.url(name, date=fmt_day(query.day - step)),
        "next": query.url(name, date=fmt_day(query.day + step)),
        "day": query.url("desk:day"),
        "week": query.url("desk:week") if query.doctor else None,
        "print": query.url("desk:print"),
        "absence": query.url("desk:absence-new"),
    }


# ---------------------------------------------------------------- booking


@desk_page
def book_view(request):
    require(request, PERM_BOOK)
    source = request.POST if request.method == "POST" else request.GET
    try:
        resource, activity, start = named_slot(centers=SCOPE.centers, slot_lid=source.get("slot", ""))
    except DomainError as error:
        raise Http404(error.message) from None
    center = resource.location.center
    local_start = timezone.localtime(start, center.zone)
    back = back_to(request, source, day_url(center, local_start.date()))
    free = slots_starting_at(resource=resource, start=start, online=SCOPE.online)
    if request.method == "GET" and not free:
        refusal = why_not_bookable(resource=resource, activity=activity, insurance=None, start=start)
        messages.error(request, capfirst(refusal.message))
        return redirect(back)
    activities = list({slot.activity.pk: slot.activity for slot in free}.values()) or [activity]
    form = BookForm(
        request.POST or None,
        activities=activities,
        insurances=insurances_of(resource=resource),
        initial={"slot": source.get("slot"), "activity": activity.lid, "insurance": source.get("insurance", "")},
    )
    search = (request.GET.get("q") or "").strip()
    context = {
        "form": form,
        "resource": resource,
        "center": center,
        "start": local_start,
        "free": free,
        "back": back,
        "search": search,
        "found": search_patients(text=search, scope=SCOPE) if search else [],
        "duplicates": [],
        "duplicates_message": MSG_POSSIBLE_DUPLICATES,
        "chosen": source.get("patient", ""),
        "new_patient": NEW_PATIENT,
    }
    if request.method == "POST" and form.is_valid():
        cleaned, data, new_patient = form.cleaned_data, None, False
        if cleaned["patient"] != NEW_PATIENT:
            patient = patient_by_lid(cleaned["patient"])
            if patient is None:
                form.add_error(None, MSG_NO_PATIENT.format(lid=cleaned["patient"]))
            else:
                data = PatientData(lid=patient.lid)
        elif not request.user.has_perm(PERM_REGISTER):
            form.add_error(None, MSG_MAY_NOT_REGISTER)
        else:
            # The patients matching would take for this one are shown first; a new patient registered
            # beside them is recorded with them as a possible duplicate (resolve_patient).
            data, new_patient = form.patient_data(), cleaned["register_anyway"]
            if not new_patient:
                context["duplicates"] = matching_patients(data=data, centers=SCOPE.centers)
        if not form.errors and not context["duplicates"]:
            try:
                booking = book_appointment(
                    resource=resource,
                    activity=cleaned["activity"],
                    start=start,
                    insurance=cleaned["insurance"],
                    patient_data=data,
                    scope=SCOPE,
                    origin=cleaned["origin"],
                    notes=cleaned["notes"],
                    new_patient=new_patient,
                )
            except DomainError as error:
                if error.template not in GONE_MEANWHILE:
                    form.add_error(None, capfirst(error.message))
                else:
                    # Taken (or closed) meanwhile: say so and show the day as it is now.
                    messages.error(request, capfirst(error.message))
                    return redirect(back)
            else:
                appointment = booking.appointment
                facts = {
                    "when": when(appointment.start, center.zone),
                    "doctor": str(resource),
                    "activity": appointment.activity.name,
                    "patient": str(appointment.patient),
                }
                if booking.created:
                    messages.success(request, MSG_BOOKED.format(**facts))
                else:
                    messages.info(request, MSG_ALREADY_HELD.format(**facts))
                return redirect(f"{back}#app-{appointment.lid}")
    status = 400 if request.method == "POST" else 200
    return page(request, "desk/book.html", context, zone=center.zone, status=status)


# ---------------------------------------------------------------- cancelling and moving


def _appointment(lid: str):
    try:
        return appointment_for(lid=lid, centers=SCOPE.centers)
    except DomainError as error:
        if error.code == NOT_FOUND:
            raise Http404(error.message) from None
        raise


@desk_page
def cancel_view(request, lid: str):
    require(request, PERM_CHANGE)
    appointment = _appointment(lid)
    center = appointment.resource.location.center
    source = request.POST if request.method == "POST" else request.GET
    back = back_to(request, source, day_url(center, timezone.localtime(appointment.start, center.zone).date()))
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not appointment.is_active:
            messages.info(request, MSG_WAS_CANCELLED.format(app=appointment.lid))
            return redirect(back)
        reason = form.cleaned_data["reason"]
        cancel_appointment(appointment=appointment, by_admin=reason == "admin", allow_past=True)
        messages.success(
            request,
            MSG_CANCELLED.format(
                app=appointment.lid,
                when=when(appointment.start, center.zone),
                patient=appointment.patient,
                reason=REASON_WORDS[reason],
            ),
        )
        return redirect(f"{back}#app-{appointment.lid}")
    context = {"appointment": appointment, "verb": _("Cancel"), "form": form, "back": back, "center": center}
    return page(request, "desk/cancel.html", context, zone=center.zone, status=400 if form.errors else 200)


@desk_page
def move_view(request, lid: str):
    require(request, PERM_CHANGE)
    appointment = _appointment(lid)
    center = appointment.resource.location.center
    if request.method == "POST":
        form = MoveForm(request.POST)
        if form.is_valid():
            try:
                resource, activity, start = named_slot(centers=SCOPE.centers, slot_lid=form.cleaned_data["slot"])
                if activity.pk != appointment.activity_id:
                    messages.error(request, MSG_OTHER_ACTIVITY)
                    return redirect(request.get_full_path())
                moved = move_to_free_slot(appointment=appointment, resource=resource, start=start, scope=SCOPE)
            except DomainError as error:
                # Taken meanwhile: the plain sentence, and the day's free slots as they are now.
                messages.error(request, capfirst(error.message))
                return redirect(request.get_full_path())
            local_start = timezone.localtime(moved.start, center.zone)
            messages.success(
                request,
                MSG_MOVED.format(
                    app=moved.lid, patient=moved.patient, when=when(moved.start, center.zone), doctor=moved.resource
                ),
            )
            return redirect(f"{day_url(center, local_start.date())}#app-{moved.lid}")
    day = max(timezone.localtime(appointment.start, center.zone).date(), today_of(center))
    day_form = DayForm(request.GET or None, initial={"date": day})
    if day_form.is_valid() and day_form.cleaned_data["date"]:
        day = day_form.cleaned_data["date"]
    slots = move_choices(appointment=appointment, day=day, scope=SCOPE) if appointment.is_active else []
    by_doctor = {}
    for slot in slots:
        by_doctor.setdefault(slot.resource.pk, (slot.resource, []))[1].append(slot)
    base = reverse("desk:move", args=[appointment.lid])
    context = {
        "appointment": appointment,
        "verb": _("Move"),
        "center": center,
        "day": day,
        "day_form": day_form,
        "by_doctor": list(by_doctor.values()),
        "previous": f"{base}?{urlencode({'date': fmt_day(day - dt.timedelta(days=1))})}",
        "next": f"{base}?{urlencode({'date': fmt_day(day + dt.timedelta(days=1))})}",
        "here": request.get_full_path(),
        "back": day_url(center, day),
    }
    return page(request, "desk/move.html", context, zone=center.zone, status=400 if day_form.errors else 200)


# ---------------------------------------------------------------- absences and holidays


@desk_page
def absence_new_view(request):
    require(request, PERM_ABSENCE)
    query = parse_agenda_query(request.GET)
    if query.center is None:
        return page(request, "desk/absence_form.html", {"query": query}, status=400 if query.errors else 200)
    center = query.center
    form = AbsenceForm(
        request.POST or None,
        center=center,
        initial={"doctor": query.doctor, "first_day": query.day, "last_day": query.day},
    )
    if request.method == "POST" and form.is_valid():
        start, end = form.period()
        doctor = form.cleaned_data["doctor"]
        try:
            absence = mark_absence(
                resource=doctor,
                center=None if doctor else center,
                start=start,
                end=end,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            form.add_error(None, capfirst(error.message))
        else:
            messages.success(
                request,
                MSG_ABSENCE_MARKED.format(
                    who=doctor or center,
                    start=when(start, center.zone),
                    end=when(end, center.zone),
                ),
            )
            return redirect("desk:absence", pk=absence.pk)
    context = {"query": query, "form": form, "center": center}
    return page(request, "desk/absence_form.html", context, zone=center.zone, status=400 if form.errors else 200)


@desk_page
def absence_view(request, pk: int):
    absence = get_object_or_404(Absence.objects.select_related("resource__location__center", "center"), pk=pk)
    center = absence.center or absence.resource.location.center
    context = {
        "absence": absence,
        "center": center,
        "appointments": appointments_during(absence=absence),
        "here": request.get_full_path(),
        "back": day_url(center, timezone.localtime(absence.start, center.zone).date()),
    }
    return page(request, "desk/absence.html", context, zone=center.zone)
