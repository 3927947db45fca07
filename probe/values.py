"""Reading the values of answers: leniently for the probe's own use (a date spelt otherwise still
sorts), strictly for the format rules."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from probe.transport import Reply

_STRICT_DATE = re.compile(r"^\d{2}/\d{2}/\d{4}$")
_STRICT_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d", "%Y%m%d")
_TIME_FORMATS = ("%H:%M", "%H:%M:%S", "%H.%M", "%H%M")


def strict_date(value: Any) -> bool:
    return isinstance(value, str) and bool(_STRICT_DATE.match(value)) and read_date(value) is not None


def strict_time(value: Any) -> bool:
    return isinstance(value, str) and bool(_STRICT_TIME.match(value))


def read_date(value: Any) -> dt.date | None:
    """A date in any common spelling: FORMAT-DATE judges the spelling, the other checks need the day."""
    if not isinstance(value, str):
        return None
    text = value.strip().split("T")[0].split(" ")[0]
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def read_time(value: Any) -> dt.time | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    if "T" in text:
        text = text.split("T", 1)[1]
    for fmt in _TIME_FORMATS:
        try:
            return dt.datetime.strptime(text[:8], fmt).time()
        except ValueError:
            continue
    return None


def ddmmyyyy(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def hhmm(moment: dt.time) -> str:
    return moment.strftime("%H:%M")


@dataclass(frozen=True)
class Slot:
    row: dict
    day: dt.date | None
    start: dt.time | None
    end: dt.time | None

    @classmethod
    def of(cls, row: dict) -> Slot:
        return cls(
            row,
            read_date(row.get("AVA_DATE")),
            read_time(row.get("AVA_START_TIME")),
            read_time(row.get("AVA_END_TIME")),
        )

    @property
    def readable(self) -> bool:
        return self.day is not None and self.start is not None

    @property
    def resource(self) -> str:
        return str(self.row.get("RESOURCE_LID") or "")

    @property
    def lid(self) -> str:
        return str(self.row.get("AVAILABILITY_LID") or "")

    @property
    def key(self) -> tuple:
        return (self.day, self.start, self.resource)

    @property
    def begins(self) -> dt.datetime:
        return dt.datetime.combine(self.day, self.start)

    @property
    def ends(self) -> dt.datetime:
        """The end as a wall-clock moment (the start when no end was given)."""
        end = self.end or self.start
        ends = dt.datetime.combine(self.day, end)
        return ends + dt.timedelta(days=1) if ends < self.begins else ends

    def __str__(self) -> str:
        day = ddmmyyyy(self.day) if self.day else self.row.get("AVA_DATE")
        start = hhmm(self.start) if self.start else self.row.get("AVA_START_TIME")
        return f"{day} {start} {self.resource}"


def slots_of(reply: Reply) -> list[Slot]:
    return [Slot.of(row) for row in reply.records()]


def in_order(slots: Iterable[Slot]) -> list[Slot]:
    return sorted((s for s in slots if s.readable), key=lambda s: s.key)
