"""The guide's formats: dates dd/mm/yyyy (yyyy-mm-dd accepted), times hh:mm (24 h), timestamps
dd/mm/yyyy hh:mm[:ss] or ISO 8601, prices with two decimals. Every date and time is the wall-clock
time of the center concerned. A value that cannot be parsed is an input error naming the field.

A value read although it is not in the guide's own spelling (a date as yyyy-mm-dd, a time with
seconds...) is noted: given a list as `lenient`, the parsers append the spelling they accepted
(one of SPELLINGS), so a caller can tell the integrator what its client relied on."""

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

# The spellings read beyond the guide's own (dd/mm/yyyy, hh:mm), each with what it is.
ISO_DATE = "ISO_DATE"
SHORT_DATE = "SHORT_DATE"
TIME_SECONDS = "TIME_SECONDS"
SHORT_TIME = "SHORT_TIME"
MIDNIGHT = "MIDNIGHT"
SPELLINGS = {
    ISO_DATE: "a date written yyyy-mm-dd; the guide writes dd/mm/yyyy",
    SHORT_DATE: "a date with a one-digit day or month; the guide writes dd/mm/yyyy",
    TIME_SECONDS: "a time with seconds; the guide writes hh:mm",
    SHORT_TIME: "a time with a one-digit hour; the guide writes hh:mm",
    MIDNIGHT: "24:00, read as the end of the day; the guide writes hh:mm up to 23:59",
}


def parse_date(name: str, value: str, *, lenient: list[str] | None = None) -> dt.date:
    """A date of the years a hospital deals with (births to bookings): others are input errors, and
    date arithmetic near the ends of the calendar cannot overflow."""
    day = None
    spelling = None
    if match := _DATE_DMY.match(value):
        d, m, y = (int(g) for g in match.groups())
        spelling = SHORT_DATE if len(match[1]) < 2 or len(match[2]) < 2 else None
    elif match := _DATE_ISO.match(value):
        y, m, d = (int(g) for g in match.groups())
        spelling = ISO_DATE
    if match and FIRST_YEAR <= y <= LAST_YEAR:
        try:
            day = dt.date(y, m, d)
        except ValueError:
            day = None
    if day is None:
        raise DomainError(INVALID_INPUT, MSG_BAD_DATE, name=name, value=value)
    if spelling and lenient is not None:
        lenient.append(spelling)
    return day


def parse_time(name: str, value: str, *, lenient: list[str] | None = None) -> dt.time:
    match = _TIME.match(value)
    if match:
        hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
        if hour == 24 and minute == 0 and second == 0:
            if lenient is not None:
                lenient.append(MIDNIGHT)
            return dt.time(23, 59, 59)  # "until midnight"
        if hour < 24 and minute < 60 and second < 60:
            if lenient is not None:
                lenient.extend(s for s, used in ((SHORT_TIME, len(match[1]) < 2), (TIME_SECONDS, match[3])) if used)
            return dt.time(hour, minute, second)
    raise DomainError(INVALID_INPUT, MSG_BAD_TIME, name=name, value=value)


def parse_timestamp(name: str, value: str, *, lenient: list[str] | None = None) -> dt.datetime:
    """A datetime, naive when the value has no offset (a wall-clock time of the call's center). Both of
    the contract's spellings (dd/mm/yyyy hh:mm[:ss] and ISO 8601) are its own: only a one-digit day or
    month is noted as lenient."""
    parsed = None
    date_part, _, time_part = value.replace("T", " ", 1).partition(" ")
    if _DATE_DMY.match(date_part):
        try:
            day = parse_date(name, date_part, lenient=lenient)
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
