"""tuOtempO's wire: field names, formats, and the methods both surfaces serve.

This module and the `wire.py` of each app are the only places that know tuOtempO's UPPER_SNAKE
field names and its formats. A method is declared once (`Method`): its parameters, the fields of
its answer records, and a handler that calls one selector or service. The SOAP shell (his/soap.py)
and the REST shell (his/rest.py) are generated from these declarations and share `invoke()`, so
both surfaces parse, check scope and answer identically.

Formats (contract section 2): dates are answered dd/mm/yyyy and accepted as dd/mm/yyyy or
yyyy-mm-dd; times hh:mm (24 h); timestamps dd/mm/yyyy hh:mm[:ss] or ISO 8601. Every date and
time is the wall-clock time of the center concerned. An empty value counts as absent.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import zoneinfo
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import IO, Any

from django.conf import settings
from django.utils import timezone

from centers.models import Center
from his.errors import FORBIDDEN, INVALID_INPUT, NOT_FOUND, HisError
from his.models import IntegrationClient, PatientPattern

MAX_VALUE_LENGTH = 500  # the longest field of the guide (NOTES, ERROR_MESSAGE)

FIRST_YEAR, LAST_YEAR = 1850, 2200
MSG_BAD_DATE = "{name}={value!r} is not a date between 1850 and 2200: use dd/mm/yyyy or yyyy-mm-dd."
MSG_BAD_TIME = "{name}={value!r} is not a time: use hh:mm (24 h)."
MSG_BAD_TIMESTAMP = "{name}={value!r} is not a timestamp between 1850 and 2200: use dd/mm/yyyy hh:mm[:ss] or ISO 8601."
MSG_BAD_NUMBER = "{name}={value!r} is not a whole number between {low} and {high}."
MSG_TOO_LONG = "{name} is longer than {limit} characters."
MSG_REQUIRED = "{name} is required."
MSG_NOT_TEXT = "{name} must be a single text value."
MSG_WRONG_PATTERN = "This client identifies patients by {expected}; {given} is not accepted: send {expected} instead."
MSG_CENTER_FORBIDDEN = "CENTER_LID {lid!r} is not one of the centers this client may use."
MSG_CENTER_UNKNOWN = "CENTER_LID {lid!r} does not exist."


class Kind(Enum):
    TEXT = "text"
    DATE = "date"
    TIME = "time"
    TIMESTAMP = "timestamp"
    NUMBER = "number"
    BINARY = "binary"


@dataclass(frozen=True)
class Param:
    name: str
    kind: Kind = Kind.TEXT
    required: bool = False
    max_length: int = 50
    low: int = 0
    high: int = 1_000_000
    doc: str = ""


@dataclass(frozen=True)
class Method:
    """One webservice method of the guide, as both surfaces serve it."""

    name: str  # the guide's spelling, e.g. "searchAvailabilities"
    summary: str
    params: tuple[Param, ...]
    fields: tuple[str, ...]  # the answer record's fields, in the guide's order
    handler: Callable[[Call], Answer]
    many: bool = False  # the answer is a list of records
    write: bool = False  # REST answers POST only
    record_name: str = "Record"  # the SOAP type name of one record
    binary_fields: tuple[str, ...] = ()  # base64Binary on SOAP, base64 text in JSON
    takes_center: bool = True
    # For the methods whose answer carries its own result field (addAppointment...): the answer
    # that reports a failure, built from the request's values and the error. Every failure of such
    # a method, unreadable input included, is answered this way, never as a SOAP fault.
    failure: Callable[[Mapping[str, Any], HisError], dict[str, Any]] | None = None

    @property
    def rest_path(self) -> str:
        return self.name.lower()

    def all_params(self) -> tuple[Param, ...]:
        center = (Param("CENTER_LID", doc="Restricts the call to one center of the client's scope."),)
        return self.params + center if self.takes_center else self.params


@dataclass(frozen=True)
class Content:
    """File content in an answer: sent base64, read from storage chunk by chunk while it is sent,
    so a 20 MB result never sits whole in memory. The handler opens the stream; sending closes it."""

    stream: IO[bytes]
    size: int

    def base64_chunks(self, chunk: int = 3 * 64 * 1024) -> Iterator[bytes]:
        # A multiple of 3 bytes encodes without padding, so the pieces join into one valid base64.
        try:
            while block := self.stream.read(chunk):
                yield base64.b64encode(block)
        finally:
            self.stream.close()


@dataclass
class Answer:
    """What a handler returns: the payload, and for the methods whose answer carries its own result
    field (addAppointment...), the business failure reported inside that payload."""

    payload: list[dict[str, Any]] | dict[str, Any]
    error: HisError | None = None
    ids: dict[str, Any] = field(default_factory=dict)  # for the audit log: ids only


@dataclass
class Call:
    """One parsed request: who calls, with which typed values (absent ones are None)."""

    client: IntegrationClient
    values: dict[str, Any]
    centers: list[Center] | None  # the one named by CENTER_LID, else the client's scope; None: all

    def __getitem__(self, name: str) -> Any:
        return self.values.get(name)

    @property
    def pattern(self) -> str:
        return self.client.patient_pattern


REGISTRY: dict[str, Method] = {}


def register(method: Method) -> Method:
    REGISTRY[method.name] = method
    return method


def methods() -> list[Method]:
    # The apps' wire modules declare their methods on import.
    import appointments.wire  # noqa: F401
    import centers.wire  # noqa: F401
    import results.wire  # noqa: F401

    return list(REGISTRY.values())


# ---------------------------------------------------------------- formats, in and out

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
        raise HisError(INVALID_INPUT, MSG_BAD_DATE.format(name=name, value=value))
    return day


def parse_time(name: str, value: str) -> dt.time:
    match = _TIME.match(value)
    if match:
        hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
        if hour == 24 and minute == 0 and second == 0:
            return dt.time(23, 59, 59)  # "until midnight"
        if hour < 24 and minute < 60 and second < 60:
            return dt.time(hour, minute, second)
    raise HisError(INVALID_INPUT, MSG_BAD_TIME.format(name=name, value=value))


def parse_timestamp(name: str, value: str) -> dt.datetime:
    """A datetime, naive when the value has no offset (a wall-clock time of the call's center)."""
    parsed = None
    date_part, _, time_part = value.replace("T", " ", 1).partition(" ")
    if _DATE_DMY.match(date_part):
        try:
            day = parse_date(name, date_part)
            clock = parse_time(name, time_part) if time_part else dt.time(0, 0)
            parsed = dt.datetime.combine(day, clock)
        except HisError:
            parsed = None
    else:
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
    if parsed is None or not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise HisError(INVALID_INPUT, MSG_BAD_TIMESTAMP.format(name=name, value=value))
    return parsed


def parse_number(param: Param, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or not param.low <= number <= param.high:
        raise HisError(
            INVALID_INPUT, MSG_BAD_NUMBER.format(name=param.name, value=value, low=param.low, high=param.high)
        )
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
    return timezone.localtime(moment, center.zone)


# ---------------------------------------------------------------- one call, both surfaces


def normalise(raw: Mapping[str, Any]) -> dict[str, str]:
    """Upper-cases names, drops empty values (an empty value counts as absent) and refuses
    anything that is not a single text value."""
    values: dict[str, str] = {}
    for key, value in raw.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "1" if value else "0"
        elif isinstance(value, int | float | Decimal):
            value = str(value)
        elif isinstance(value, bytes):
            values[str(key).upper()] = value  # binary content arrives as bytes
            continue
        elif not isinstance(value, str):
            raise HisError(INVALID_INPUT, MSG_NOT_TEXT.format(name=str(key).upper()))
        value = value.strip()
        if value:
            values[str(key).upper()] = value
    return values


def parse(method: Method, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Typed values for the method's parameters; unknown parameters are ignored."""
    given = normalise(raw)
    values: dict[str, Any] = {}
    for param in method.all_params():
        value = given.get(param.name)
        if value is None:
            if param.required:
                raise HisError(INVALID_INPUT, MSG_REQUIRED.format(name=param.name))
            values[param.name] = None
            continue
        if param.kind is Kind.BINARY:
            values[param.name] = value
            continue
        if isinstance(value, bytes) or "\x00" in value:
            raise HisError(INVALID_INPUT, MSG_NOT_TEXT.format(name=param.name))
        limit = param.max_length if param.kind is Kind.TEXT else 40
        if len(value) > limit:
            raise HisError(INVALID_INPUT, MSG_TOO_LONG.format(name=param.name, limit=limit))
        match param.kind:
            case Kind.DATE:
                values[param.name] = parse_date(param.name, value)
            case Kind.TIME:
                values[param.name] = parse_time(param.name, value)
            case Kind.TIMESTAMP:
                values[param.name] = parse_timestamp(param.name, value)
            case Kind.NUMBER:
                values[param.name] = parse_number(param, value)
            case _:
                values[param.name] = value
    return values


def check_patient_pattern(client: IntegrationClient, values: Mapping[str, Any]) -> None:
    """Under the lid pattern patients are named by USER_LID, under tid by USER_TID."""
    if client.patient_pattern == PatientPattern.TID and values.get("USER_LID") is not None:
        raise HisError(INVALID_INPUT, MSG_WRONG_PATTERN.format(expected="USER_TID", given="USER_LID"))
    if client.patient_pattern == PatientPattern.LID and values.get("USER_TID") is not None:
        raise HisError(INVALID_INPUT, MSG_WRONG_PATTERN.format(expected="USER_LID", given="USER_TID"))


def client_scope(client: IntegrationClient) -> list[Center] | None:
    """The client's centers, or None when it may see every center."""
    centers = list(client.centers.all())
    return centers or None


def call_scope(client: IntegrationClient, center_lid: str | None) -> list[Center] | None:
    scope = client_scope(client)
    if center_lid is None:
        return scope
    if scope is not None:
        for center in scope:
            if center.lid == center_lid:
                return [center]
        raise HisError(FORBIDDEN, MSG_CENTER_FORBIDDEN.format(lid=center_lid))
    center = Center.objects.filter(lid=center_lid).first()
    if center is None:
        raise HisError(NOT_FOUND, MSG_CENTER_UNKNOWN.format(lid=center_lid))
    return [center]


def default_zone(scope: list[Center] | None) -> zoneinfo.ZoneInfo:
    """The zone of a timestamp without offset: the call's center when there is one."""
    if scope and len(scope) == 1:
        return scope[0].zone
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def invoke(method: Method, *, client: IntegrationClient, raw: Mapping[str, Any]) -> Answer:
    """Parses a request for `method`, checks it against the client, and runs the handler."""
    try:
        values = parse(method, raw)
        check_patient_pattern(client, values)
        scope = call_scope(client, values.get("CENTER_LID"))
        zone = default_zone(scope)
        for param in method.params:
            value = values[param.name]
            if param.kind is Kind.TIMESTAMP and value is not None and value.tzinfo is None:
                values[param.name] = value.replace(tzinfo=zone)
        return method.handler(Call(client=client, values=values, centers=scope))
    except HisError as error:
        if method.failure is None:
            raise
        return Answer(method.failure(_readable(raw), error), error=error)


def _readable(raw: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return normalise(raw)
    except HisError:
        return {}


AUDITED_IDS = (
    "CENTER_LID",
    "APP_LID",
    "USER_LID",
    "USER_TID",
    "RESOURCE_LID",
    "ACTIVITY_LID",
    "INSURANCE_LID",
    "LOCATION_LID",
    "AVAILABILITY_LID",
    "DOWNLOAD_LID",
)


def audit_ids(raw: Mapping[str, Any], answer: Answer | None) -> dict[str, Any]:
    """The ids a call named or produced; never names, contact data or content."""
    ids: dict[str, Any] = {}
    try:
        given = normalise(raw)
    except HisError:
        given = {}
    for name in AUDITED_IDS:
        value = given.get(name)
        if isinstance(value, str):
            ids[name] = value[:60]
    if answer is not None:
        ids.update(answer.ids)
    return ids
