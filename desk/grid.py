"""Lays an agenda out as a table: one column per doctor (day view) or per day (week view), one row per
time at which something starts, on the center's wall clock. Presentation only: what is free, taken or
closed was decided by the agenda selector."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.utils import timezone

from appointments.agenda import Agenda
from appointments.models import Absence, Appointment, Resource
from appointments.slots import Slot


@dataclass
class Entry:
    """What a cell shows: an appointment, or a free time of the doctor (one slot per activity free then)."""

    start: dt.datetime  # on the center's wall clock
    end: dt.datetime
    appointment: Appointment | None = None
    slots: list[Slot] = field(default_factory=list)
    to_move: bool = False

    @property
    def is_free(self) -> bool:
        return self.appointment is None

    @property
    def slot(self) -> Slot:
        return self.slots[0]


@dataclass
class Column:
    resource: Resource
    day: dt.date
    absences: list[Absence]  # that close the doctor on that day
    entries: dict[str, list[Entry]] = field(default_factory=lambda: defaultdict(list))
    day_url: str = ""  # this day of the center, and this doctor's week
    week_url: str = ""


@dataclass
class Cell:
    entries: list[Entry]
    closed: bool  # inside an absence or a holiday
    busy: bool  # inside an appointment that started earlier


@dataclass
class Row:
    time: str  # HH:MM
    cells: list[Cell]


@dataclass
class Grid:
    columns: list[Column]
    rows: list[Row]


def local(value: dt.datetime, agenda: Agenda) -> dt.datetime:
    return timezone.localtime(value, agenda.center.zone)


def build_grid(agenda: Agenda, columns: list[tuple[Resource, dt.date]]) -> Grid:
    zone = agenda.center.zone
    laid = [Column(resource, day, _absences_of(agenda, resource, day)) for resource, day in columns]
    by_key = {(column.resource.pk, column.day): column for column in laid}

    for appointment in agenda.appointments:
        start = local(appointment.start, agenda)
        column = by_key.get((appointment.resource_id, start.date()))
        if column is not None:
            entry = Entry(start, local(appointment.end, agenda), appointment, to_move=appointment.pk in agenda.to_move)
            column.entries[f"{start:%H:%M}"].append(entry)
    for slot in agenda.free:
        start = local(slot.start, agenda)
        column = by_key.get((slot.resource.pk, start.date()))
        if column is None:
            continue
        cell = column.entries[f"{start:%H:%M}"]
        free = next((e for e in cell if e.is_free), None)
        if free is None:
            cell.append(Entry(start, local(slot.end, agenda), slots=[slot]))
        else:
            free.slots.append(slot)
    times = {key for column in laid for key in column.entries}
    for column in laid:
        for absence in column.absences:
            start = local(absence.start, agenda)
            if start.date() == column.day:  # one that began on an earlier day shades the cells it covers
                times.add(f"{start:%H:%M}")

    rows = []
    for key in sorted(times):
        cells = []
        for column in laid:
            instant = dt.datetime.combine(column.day, dt.time.fromisoformat(key), zone)
            entries = sorted(column.entries.get(key, []), key=lambda e: (e.is_free, not _active(e)))
            closed = any(a.start <= instant < a.end for a in column.absences)
            busy = any(
                e.start < instant < e.end and _active(e) for es in column.entries.values() for e in es if not e.is_free
            )
            cells.append(Cell(entries, closed, busy))
        rows.append(Row(key, cells))
    return Grid(laid, rows)


def _active(entry: Entry) -> bool:
    return entry.appointment is not None and entry.appointment.is_active


def _absences_of(agenda: Agenda, resource: Resource, day: dt.date) -> list[Absence]:
    zone = agenda.center.zone
    since, until = (
        dt.datetime.combine(day, dt.time(), zone),
        dt.datetime.combine(day + dt.timedelta(1), dt.time(), zone),
    )
    return [
        absence
        for absence in agenda.absences
        if (absence.resource_id == resource.pk or absence.center_id == agenda.center.pk)
        and absence.start < until
        and absence.end > since
    ]
