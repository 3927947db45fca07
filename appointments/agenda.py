"""The desk's agenda: what a clerk sees of a center's doctors over one day or one week.

Reads only; every write goes through services.py. Days are wall-clock days of the center; the free
slots are the slot engine's (slots.find_slots, under the caller's scope: the hospital's desk sees what is
not offered online too), so a gap the desk shows is a slot the booking services accept.
"""

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field
from enum import StrEnum

from django.db.models import Q, QuerySet
from django.utils import timezone

from appointments.models import ACTIVE_STATUSES, Absence, Activity, Appointment, Insurance, Resource, ResourceActivity
from appointments.selectors import absences_during
from appointments.slots import Slot, find_slots, within_opening_hours
from centers.models import Center
from clients.scope import Scope

ONE_DAY = dt.timedelta(days=1)
AGENDA_RELATED = ("patient", "activity", "insurance", "resource__location__center")


@dataclass(frozen=True)
class Agenda:
    """Some doctors of a center from one day to another: their appointments (cancelled ones included),
    their free slots and the absences that close them (their own and the center's holidays)."""

    center: Center
    first_day: dt.date
    last_day: dt.date
    resources: list[Resource]
    appointments: list[Appointment]
    free: list[Slot]
    absences: list[Absence]
    to_move: set[int] = field(default_factory=set)  # active appointments inside an absence: to be moved

    @property
    def days(self) -> list[dt.date]:
        return [self.first_day + dt.timedelta(days=n) for n in range((self.last_day - self.first_day).days + 1)]


def day_bounds(*, center: Center, first_day: dt.date, last_day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The instants the center's first day starts and the day after its last day starts."""
    zone = center.zone
    return dt.datetime.combine(first_day, dt.time(), zone), dt.datetime.combine(last_day + ONE_DAY, dt.time(), zone)


def center_agenda(
    *,
    center: Center,
    first_day: dt.date,
    last_day: dt.date,
    scope: Scope,
    resources: QuerySet[Resource] | None = None,
    activity: Activity | None = None,
    insurance: Insurance | None = None,
    with_free: bool = True,
    now: dt.datetime | None = None,
) -> Agenda:
    """The agenda of the center's doctors (only those of `resources` when given, e.g. the desk's filter)
    from first_day to last_day: every appointment starting on those days, the free slots for the
    activity and insurance asked for (every activity and self-pay when none), and the absences. A fixed
    number of queries, whatever the number of doctors. Without `with_free`, no free slot is looked for
    (a printed day list)."""
    doctors = (resources if resources is not None else Resource.objects.all()).filter(location__center=center)
    doctors = list(doctors.select_related("location__center").order_by("lid").distinct())
    since, until = day_bounds(center=center, first_day=first_day, last_day=last_day)
    ids = [doctor.pk for doctor in doctors]
    appointments = list(
        Appointment.objects.filter(resource_id__in=ids, start__gte=since, start__lt=until)
        .select_related(*AGENDA_RELATED)
        .order_by("start", "resource__lid", "pk")
    )
    absences = list(
        Absence.objects.filter(Q(resource_id__in=ids) | Q(center=center), start__lt=until, end__gt=since).order_by(
            "start", "pk"
        )
    )
    free = []
    if with_free:
        bookable = {"activity": activity, "insurance": insurance, "online": scope.online}
        free = find_slots(resources=doctors, start_day=first_day, end_day=last_day, limit=None, now=now, **bookable)
    return Agenda(
        center=center,
        first_day=first_day,
        last_day=last_day,
        resources=doctors,
        appointments=appointments,
        free=free,
        absences=absences,
        to_move={a.pk for a in appointments if a.is_active and _inside_absence(a, absences)},
    )


def _inside_absence(appointment: Appointment, absences: Collection[Absence]) -> bool:
    center_id = appointment.resource.location.center_id
    return any(
        (absence.resource_id == appointment.resource_id or absence.center_id == center_id)
        and absence.start < appointment.end
        and absence.end > appointment.start
        for absence in absences
    )


def appointments_during(*, absence: Absence) -> list[Appointment]:
    """The active appointments an absence falls on (of its doctor, or of every doctor of its center):
    the ones the desk has to move or cancel."""
    queryset = Appointment.objects.filter(
        status__in=ACTIVE_STATUSES, start__lt=absence.end, end__gt=absence.start
    ).select_related(*AGENDA_RELATED)
    if absence.resource_id is not None:
        queryset = queryset.filter(resource_id=absence.resource_id)
    else:
        queryset = queryset.filter(resource__location__center_id=absence.center_id)
    return list(queryset.order_by("start", "resource__lid", "pk"))


def today_of(center: Center) -> dt.date:
    """Today on the center's wall clock."""
    return timezone.localdate(timezone=center.zone)


def insurances_of(*, resource: Resource) -> list[Insurance]:
    """The insurances the doctor accepts, web-enabled or not (the desk books them all)."""
    return list(Insurance.objects.filter(insurance_resources__resource=resource).order_by("name", "lid"))


def move_choices(*, appointment: Appointment, day: dt.date, scope: Scope, now: dt.datetime | None = None) -> list[Slot]:
    """The free slots an appointment may move to on a day of its center (services.move_to_free_slot):
    with any doctor there offering its activity, for its insurance, its own time counting as free."""
    return find_slots(
        activity=appointment.activity,
        centers=[appointment.resource.location.center],
        insurance=appointment.insurance,
        start_day=day,
        end_day=day,
        limit=None,
        online=scope.online,
        exclude=appointment,
        now=now,
    )


def opening_center(*, doctor_lid: str | None = None) -> Center | None:
    """The center the desk opens on when none is asked for: the doctor's, else the first center."""
    if doctor_lid:
        doctor = Resource.objects.filter(lid=doctor_lid).select_related("location__center").first()
        if doctor is not None:
            return doctor.location.center
    return Center.objects.order_by("lid").first()


class Concern(StrEnum):
    """What the desk is told before booking outside the doctor's usual terms (it may still book)."""

    NOT_OFFERED = "not_offered"  # the doctor does not offer the activity
    OUTSIDE_HOURS = "outside_hours"  # no availability rule of the doctor covers that time
    ABSENT = "absent"  # the doctor is absent, or the center closed, at some moment of it


@dataclass(frozen=True)
class BookingConcern:
    concern: Concern
    absence: Absence | None = None


def booking_concerns(
    *, resource: Resource, activity: Activity, start: dt.datetime, end: dt.datetime
) -> list[BookingConcern]:
    """Why a desk booking (or move) of the doctor for the activity from start to end is out of the
    ordinary: the activity is not one the doctor offers, the time is outside the doctor's availability
    rules, or an absence or holiday covers part of it. Empty when none applies. The desk may book
    anyway (services.book_at_desk); online bookings are refused for the same reasons (the slot engine)."""
    concerns = []
    offered = ResourceActivity.objects.filter(resource=resource, activity=activity).exists()
    if not offered:
        concerns.append(BookingConcern(Concern.NOT_OFFERED))
    elif not within_opening_hours(resource=resource, activity=activity, start=start, end=end):
        concerns.append(BookingConcern(Concern.OUTSIDE_HOURS))
    concerns += [
        BookingConcern(Concern.ABSENT, absence)
        for absence in absences_during(resource=resource, start=start, end=end).select_related("resource", "center")
    ]
    return concerns
