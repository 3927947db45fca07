"""The one error type of the domain, and what each code means on each surface.

Services and selectors raise `HisError(code, message)`; the SOAP and REST shells translate it
once (his/soap.py and his/rest.py), following the table below. Messages are plain sentences an
integrator can act on; tests import the constants to assert them.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorCode:
    name: str
    http_status: int
    soap_fault: str | None  # None: not a fault on SOAP (answered at the HTTP level instead)


UNAUTHORIZED = ErrorCode("UNAUTHORIZED", 401, None)
FORBIDDEN = ErrorCode("FORBIDDEN", 403, "Client.Forbidden")
INVALID_INPUT = ErrorCode("INVALID_INPUT", 400, "Client.InvalidInput")
NOT_FOUND = ErrorCode("NOT_FOUND", 404, "Client.NotFound")
CONFLICT = ErrorCode("CONFLICT", 409, "Client.Conflict")
TOO_LARGE = ErrorCode("TOO_LARGE", 413, None)
THROTTLED = ErrorCode("THROTTLED", 429, "Client.Throttled")
SERVICE_UNAVAILABLE = ErrorCode("SERVICE_UNAVAILABLE", 503, "Server.Unavailable")

CODES = {
    c.name: c
    for c in (UNAUTHORIZED, FORBIDDEN, INVALID_INPUT, NOT_FOUND, CONFLICT, TOO_LARGE, THROTTLED, SERVICE_UNAVAILABLE)
}


class HisError(Exception):
    """A failure the caller can act on: a code from the table above and a human message."""

    def __init__(self, code: ErrorCode, message: str, *, retry_after: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"HisError({self.code.name}, {self.message!r})"
