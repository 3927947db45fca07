"""What each error code is on each surface (contract section 3), and errors in the guide's words."""

from core.errors import Code, DomainError, without_input
from tuotempo.words import FIELD_NAMES

HTTP_STATUS = {
    Code.UNAUTHORIZED: 401,
    Code.FORBIDDEN: 403,
    Code.INVALID_INPUT: 400,
    Code.NOT_FOUND: 404,
    Code.CONFLICT: 409,
    Code.TOO_LARGE: 413,
    Code.THROTTLED: 429,
    Code.SERVICE_UNAVAILABLE: 503,
}
# UNAUTHORIZED and TOO_LARGE are answered at the HTTP level on SOAP: no envelope is processed.
SOAP_FAULTS = {
    Code.FORBIDDEN: "Client.Forbidden",
    Code.INVALID_INPUT: "Client.InvalidInput",
    Code.NOT_FOUND: "Client.NotFound",
    Code.CONFLICT: "Client.Conflict",
    Code.THROTTLED: "Client.Throttled",
    Code.SERVICE_UNAVAILABLE: "Server.Unavailable",
}


def wire_message(error: DomainError) -> str:
    """The error's message naming things by the guide's field names (RESOURCE_LID, not "doctor")."""
    return error.render(FIELD_NAMES)


def audit_message(error: DomainError) -> str:
    """The wire message as the audit log keeps it: without any value the caller typed."""
    return wire_message(without_input(error))
