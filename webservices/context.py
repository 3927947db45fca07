"""What the webservices know about the request being served: one object on the request, filled as the
call goes (surface, method, client, outcome, ids, parameter names, warnings), from which the audit
entry is written once."""

import time
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

from clients.addresses import client_address
from clients.models import IntegrationClient, Surface
from clients.services import record_call

# The schema and the docs (with or without their slash) are pages, not calls.
UNAUDITED_PATHS = ("/api/schema", "/api/docs")


@dataclass
class WebserviceCall:
    surface: str
    started: float = field(default_factory=time.monotonic)
    method: str = ""
    client: IntegrationClient | None = None
    attempted_name: str | None = None  # the client name sent, before it was authenticated
    outcome: str = "OK"  # or an error code, or INTERNAL_ERROR
    message: str = ""  # a failure's message for the audit log, without the values the caller typed
    ids: dict[str, Any] = field(default_factory=dict)
    params: list[str] = field(default_factory=list)  # the parameter names received, as sent; never values
    warnings: list[dict[str, str]] = field(default_factory=list)  # what the call relied on (leniency.py)
    recorded: bool = False  # the audit entry is written (a write's, in the write's own transaction)

    @property
    def duration_ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)


def surface_of(request: HttpRequest) -> str | None:
    """SOAP or REST for a webservice call (the WSDL, the schema and the docs are not calls); else None."""
    if request.path.startswith("/soap"):
        return None if request.method in ("GET", "HEAD") else Surface.SOAP
    if request.path == "/api/":  # redirected to the docs
        return None
    if request.path.startswith("/api/") and not request.path.startswith(UNAUDITED_PATHS):
        return Surface.REST
    return None


def call_of(request: HttpRequest) -> WebserviceCall:
    """The call the request is (made by the middleware; made here for a request that skipped it)."""
    call = getattr(request, "webservice", None)
    if call is None:
        call = request.webservice = WebserviceCall(surface=surface_of(request) or Surface.REST)
    return call


def record(request: HttpRequest) -> None:
    """Writes the call's audit entry from what the call noted."""
    call = call_of(request)
    if not call.method and call.surface == Surface.REST:
        call.method = request.path[5:].strip("/")
    record_call(
        client=call.client,
        client_name=call.attempted_name,
        surface=call.surface,
        method=call.method,
        outcome=call.outcome,
        duration_ms=call.duration_ms,
        address=client_address(request),
        ids=call.ids,
        message=call.message,
        params=call.params,
        warnings=call.warnings,
    )


def note_outcome(request: HttpRequest, code: str, message: str = "") -> None:
    """Records how the call ended, unless an earlier step already said (an internal error stays one)."""
    call = call_of(request)
    if call.outcome == "OK":
        call.outcome = code
        call.message = message
