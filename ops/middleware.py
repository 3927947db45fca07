"""Around every request: its id (X-Request-ID), and one log line when it is answered."""

import contextvars
import logging
import re
import time
import uuid

from django.http import HttpRequest, HttpResponse

from clients.models import AuditEntry
from core.operations import end_request, serve_as_request

logger = logging.getLogger("his.requests")

REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy's id may look like (nginx's $request_id, a UUID, an AWS trace id...): anything else is
# replaced by an id of our own, so a line of the log or an audit entry never carries a caller's text.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:=+/-]{7,63}$")
SERVER_FAILURES = ("SERVICE_UNAVAILABLE", "INTERNAL_ERROR")
QUIET_PATHS = ("/health/", "/metrics")  # probes and scrapes: logged only when they fail

# The audit entry written while this request is served (set by ops.metrics when it counts the call).
recorded_call: contextvars.ContextVar[AuditEntry | None] = contextvars.ContextVar("his_recorded_call", default=None)


def request_id_of(request: HttpRequest) -> str:
    """The proxy's X-Request-ID when it looks like one, else a new id."""
    given = request.META.get("HTTP_X_REQUEST_ID", "")
    if _REQUEST_ID.match(given):
        return given
    return uuid.uuid4().hex


class RequestMiddleware:
    """First of all middleware: gives the request its id (returned in X-Request-ID, kept in the audit
    entry and in every log record written while it is served), then writes the request's log line:
    client, surface, method and outcome of the webservice call (from its audit entry), duration and
    status. Never the query string, the body or the answer: ids, codes and numbers only."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.monotonic()
        request_id = request.request_id = request_id_of(request)
        # Kept until the response is closed (request_finished), so that what Django logs after the
        # middleware (its 4xx/5xx lines) carries the id too.
        serve_as_request(request_id)
        recorded_call.set(None)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        self.log(request, response, recorded_call.get(), time.monotonic() - started)
        return response

    def log(self, request: HttpRequest, response: HttpResponse, entry: AuditEntry | None, seconds: float) -> None:
        status = response.status_code
        if request.path.startswith(QUIET_PATHS) and status < 500:
            return
        fields = {
            "http_method": request.method,
            "path": request.path[:200],
            "status": status,
            "duration_ms": round(seconds * 1000, 1),
            "client": "",
            "surface": "",
            "method": "",
            "outcome": "",
        }
        failed = status >= 500
        if entry is not None:
            # The client's name once it authenticated; the name a refused caller sent stays in the audit log.
            client = entry.client.name if entry.client_id else ""
            fields.update(client=client, surface=entry.surface, method=entry.method, outcome=entry.outcome)
            failed = entry.outcome in SERVER_FAILURES  # a SOAP fault travels with HTTP 500, by convention
        summary = f"{request.method} {request.path} {status} {fields['duration_ms']}ms"
        if entry is not None:
            summary += f" {entry.surface} {entry.method} {entry.outcome} client={fields['client'] or '-'}"
        logger.log(logging.ERROR if failed else logging.INFO, summary, extra=fields)


def request_finished(sender, **kwargs) -> None:
    """Receiver of Django's request_finished: what runs after the response is closed serves no request."""
    end_request()
    recorded_call.set(None)


def remember_call(sender, entry: AuditEntry, **kwargs) -> None:
    """Receiver of clients.signals.call_recorded: the request's log line describes this call."""
    recorded_call.set(entry)
