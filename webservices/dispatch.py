"""One webservice call, whatever the surface: authenticate, parse, scope, run the handler, note the outcome.

Both shells call `serve()`; it never lets an exception through other than DomainError, so no input
reaches an HTTP 500 or shows a traceback. The audit entry is written from the call, with the parameter
names received and what the call relied on of the parser's leniency (leniency.py): a write's here, in
the write's own transaction, any other by the middleware.
"""

import contextlib
import logging
import zoneinfo
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.http import HttpRequest

from appointments.catalogue import one_version
from centers.models import Center
from clients.models import IntegrationClient
from clients.scope import scope_of
from core.errors import INVALID_INPUT, SERVICE_UNAVAILABLE, DomainError
from core.operations import database_unavailable
from tuotempo.formats import parse_date, parse_number, parse_time, parse_timestamp
from webservices.auth import authenticate
from webservices.context import WebserviceCall, call_of, record
from webservices.errors import audit_message
from webservices.leniency import (
    MAX_NAMES,
    Leniency,
    empty_optional,
    given_twice,
    name_case,
    sent_name,
    spelling,
    unknown_parameter,
)
from webservices.registry import Answer, Call, Kind, Method

logger = logging.getLogger(__name__)

MSG_UNAVAILABLE = "The hospital's database is unavailable right now; try again in a moment."
MSG_INTERNAL = "The hospital's system could not answer this request; the error has been logged."
MSG_TOO_LONG = "{name} is longer than {limit} characters."
MSG_REQUIRED = "{name} is required."
MSG_NOT_TEXT = "{name} must be a single text value."
INTERNAL_ERROR = "INTERNAL_ERROR"


def unavailable(exception: Exception) -> DomainError:
    """What a failure outside the domain's own errors is to the caller: the database or the server."""
    if isinstance(exception, DatabaseError):
        logger.warning("database unavailable: %s", exception, exc_info=True)
        database_unavailable.send(sender="webservices", exception=exception)
        return DomainError(SERVICE_UNAVAILABLE, MSG_UNAVAILABLE, retry_after=5)
    logger.exception("unexpected error", exc_info=exception)
    return DomainError(SERVICE_UNAVAILABLE, MSG_INTERNAL)


def serve(
    method: Method,
    *,
    request: HttpRequest,
    raw: Mapping[str, Any],
    unreadable: DomainError | None = None,
    noted: Sequence[Leniency] = (),
) -> Answer:
    """Runs one call of `method` for the request's client; failures come back as DomainError. `unreadable`:
    why the shell could not read the arguments (answered as any other input error of the method); `noted`:
    what the shell's own reading relied on of its leniency (a name repeated in a REST query string or form,
    a SOAP parameter outside the service's namespace)."""
    call = call_of(request)
    call.method = method.name
    call.params = [sent_name(name) for name in list(raw)[:MAX_NAMES]]
    answer: Answer | None = None
    warnings: list[Leniency] = list(noted)
    try:
        client = authenticate(request)
        # A write and its audit entry commit together: never one without the other, and one flush to
        # disk instead of two. Reads write only the entry, outside any transaction (the middleware).
        with transaction.atomic() if method.write else contextlib.nullcontext(), one_version():
            answer = invoke(method, client=client, raw=raw, unreadable=unreadable, warnings=warnings)
            if answer.error is not None:
                call.outcome, call.message = answer.error.code.name, audit_message(answer.error)
            if method.write:
                note_details(call, raw, answer, warnings)
                with transaction.atomic():  # an entry that cannot be written is undone alone: the write stands
                    record(request)
        call.recorded = method.write
        return answer
    except DomainError as error:
        call.outcome, call.message = error.code.name, audit_message(error)
        raise
    except Exception as exc:
        error = unavailable(exc)
        call.outcome = error.code.name if isinstance(exc, DatabaseError) else INTERNAL_ERROR
        call.message = audit_message(error)
        raise error from None
    finally:
        note_details(call, raw, answer, warnings)


def note_details(call: WebserviceCall, raw: Mapping[str, Any], answer: Answer | None, warnings: list[Leniency]):
    """The ids of the call and what it relied on of the parser's leniency, for its audit entry."""
    call.ids = audit_ids(raw, answer)
    call.warnings = [w.as_dict() for w in dict.fromkeys(warnings)][:MAX_NAMES]


def invoke(
    method: Method,
    *,
    client: IntegrationClient,
    raw: Mapping[str, Any],
    unreadable: DomainError | None = None,
    warnings: list[Leniency] | None = None,
) -> Answer:
    """Parses a request for `method`, scopes it to the client's centers, and runs the handler. For the
    methods whose answer carries its own result field, a failure is answered inside that field.
    `warnings`, when given, receives what the call relied on of the parser's leniency."""
    try:
        if unreadable is not None:
            raise unreadable
        values = parse(method, raw, warnings=warnings)
        scope = scope_of(client, center_lid=values.get("CENTER_LID"))
        zone = default_zone(scope.centers)
        for param in method.params:
            value = values[param.name]
            if param.kind is Kind.TIMESTAMP and value is not None and value.tzinfo is None:
                values[param.name] = value.replace(tzinfo=zone)
        answer = method.handler(Call(client=client, values=values, scope=scope))
    except DomainError as error:
        if method.failure is None:
            raise
        answer = Answer(method.failure(_readable(raw), error), error=error)
    answer.payload = method.shaped(answer.payload)
    return answer


def normalise(
    raw: Mapping[str, Any], *, method: Method | None = None, warnings: list[Leniency] | None = None
) -> dict[str, str]:
    """Upper-cases names, drops empty values (an empty value counts as absent) and refuses
    anything that is not a single text value. With `warnings` (and the `method` called), notes each
    name not in the guide's spelling, each parameter the method does not take, each empty value, each
    name given again in another letter case."""
    values: dict[str, str] = {}
    seen: set[str] = set()
    for key, value in raw.items():
        if warnings is not None and method is not None:
            _note_name(method, str(key), value, warnings)
            if str(key).upper() in seen:
                warnings.append(given_twice(str(key)))
            seen.add(str(key).upper())
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
            raise DomainError(INVALID_INPUT, MSG_NOT_TEXT, name=str(key).upper())
        value = value.strip()
        if value:
            values[str(key).upper()] = value
    return values


def _note_name(method: Method, sent: str, value: Any, warnings: list[Leniency]) -> None:
    name = sent.upper()
    param = method.param(name)
    if param is None:
        warnings.append(unknown_parameter(sent, method.name))
        return
    if sent != name:
        warnings.append(name_case(sent, name))
    if not param.required and (value is None or (isinstance(value, str) and not value.strip())):
        warnings.append(empty_optional(name))


def parse(method: Method, raw: Mapping[str, Any], *, warnings: list[Leniency] | None = None) -> dict[str, Any]:
    """Typed values for the method's parameters; unknown parameters are ignored. `warnings`, when
    given, receives what the call relied on of this leniency (leniency.py)."""
    given = normalise(raw, method=method, warnings=warnings)
    lenient: list[str] | None = None if warnings is None else []
    values: dict[str, Any] = {}
    for param in method.all_params():
        value = given.get(param.name)
        if value is None:
            if param.required:
                raise DomainError(INVALID_INPUT, MSG_REQUIRED, name=param.name)
            values[param.name] = None
            continue
        if param.kind is Kind.BINARY:
            values[param.name] = value
            continue
        if isinstance(value, bytes) or "\x00" in value:
            raise DomainError(INVALID_INPUT, MSG_NOT_TEXT, name=param.name)
        limit = param.max_length if param.kind is Kind.TEXT else 40
        if len(value) > limit:
            raise DomainError(INVALID_INPUT, MSG_TOO_LONG, name=param.name, limit=limit)
        match param.kind:
            case Kind.DATE:
                values[param.name] = parse_date(param.name, value, lenient=lenient)
            case Kind.TIME:
                values[param.name] = parse_time(param.name, value, lenient=lenient)
            case Kind.TIMESTAMP:
                values[param.name] = parse_timestamp(param.name, value, lenient=lenient)
            case Kind.NUMBER:
                values[param.name] = parse_number(param.name, value, low=param.low, high=param.high)
            case _:
                values[param.name] = value
        if lenient:
            warnings.extend(spelling(param.name, code) for code in lenient)
            lenient.clear()
    return values


def default_zone(centers: tuple[Center, ...] | None) -> zoneinfo.ZoneInfo:
    """The zone of a date or timestamp without offset: the call's center when there is one."""
    if centers and len(centers) == 1:
        return centers[0].zone
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _readable(raw: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return normalise(raw)
    except DomainError:
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
    given = _readable(raw)
    for name in AUDITED_IDS:
        value = given.get(name)
        if isinstance(value, str):
            ids[name] = value[:60]
    if answer is not None:
        ids.update(answer.ids)
    return ids
