"""The guide's formats: dates dd/mm/yyyy (yyyy-mm-dd accepted), times hh:mm (24 h), timestamps
dd/mm/yyyy hh:mm[:ss] or ISO 8601, prices with two decimals. Every date and time is the wall-clock
time of the center concerned. A value that cannot be parsed is an input error naming the field."""

import datetime as dt
import re
from decimal import Decimal

from django.utils import timezone

from centers.models import Center
from core.errors import INVALID_INPUT, DomainError

FIRST_YEAR, LAST_YEAR = 1850, 2200
MSG_BAD_DATE = "{name}={value!r} is not a date between 1850 and 2200: use dd/mm/yyyy or yyyy-mm-dd."
MSG_BAD_TIME = "{name}={value!r} is not a time: use hh:mm (24 h)."
MSG_BAD_TIMESTAMP = "{name}={value!r} is not a timestamp between 1850 and 2200: use dd/mm/yyyy hh:mm[:ss] or ISO 8601."
MSG_BAD_NUMBER = "{name}={value!r} is not a whole number between {low} and {high}."

_DATE_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def parse_date(name: str, value: str) -> dt.date:
    """A date of the years a hospital deals with (births to bookings): others are input errors, and
    date arithmetic near the ends of the calendar cannot overflow."""
    day = None
    if match := _DATE_DMY.match(value):
        d, m, y = (int(g) for g in match.groups())
    elif match := _DATE_ISO.match(value):
        y, m, d = (int(g) for g in match.groups())
    if match and FIRST_YEAR <= y <= LAST_YEAR:
        try:
            day = dt.date(y, m, d)
        except ValueError:
            day = None
    if day is None:
        raise DomainError(INVALID_INPUT, MSG_BAD_DATE, name=name, value=value)
    return day


def parse_time(name: str, value: str) -> dt.time:
    match = _TIME.match(value)
    if match:
        hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
        if hour == 24 and minute == 0 and second == 0:
            return dt.time(23, 59, 59)  # "until midnight"
        if hour < 24 and minute < 60 and second < 60:
            return dt.time(hour, minute, second)
    raise DomainError(INVALID_INPUT, MSG_BAD_TIME, name=name, value=value)


def parse_timestamp(name: str, value: str) -> dt.datetime:
    """A datetime, naive when the value has no offset (a wall-clock time of the call's center)."""
    parsed = None
    date_part, _, time_part = value.replace("T", " ", 1).partition(" ")
    if _DATE_DMY.match(date_part):
        try:
            day = parse_date(name, date_part)
            clock = parse_time(name, time_part) if time_part else dt.time(0, 0)
            parsed = dt.datetime.combine(day, clock)
        except DomainError:
            parsed = None
    else:
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
    if parsed is None or not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise DomainError(INVALID_INPUT, MSG_BAD_TIMESTAMP, name=name, value=value)
    return parsed


def parse_number(name: str, value: str, *, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise DomainError(INVALID_INPUT, MSG_BAD_NUMBER, name=name, value=value, low=low, high=high)
    return number


def fmt_date(value: dt.date | None) -> str | None:
    return value.strftime("%d/%m/%Y") if value else None


def fmt_time(value: dt.time | dt.datetime | None) -> str | None:
    return value.strftime("%H:%M") if value else None


def fmt_price(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def fmt_int(value: int | None) -> str | None:
    return None if value is None else str(value)


def local(moment: dt.datetime, center: Center) -> dt.datetime:
    """The wall-clock time of the center at that moment: every date and time on the wire is one."""
    return timezone.localtime(moment, center.zone)
