import logging
import time

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpResponse

from his.dispatch import MSG_INTERNAL, MSG_UNAVAILABLE, record
from his.errors import SERVICE_UNAVAILABLE, HisError
from his.rest import plain_error, too_large_response
from his.soap import fault_for

logger = logging.getLogger(__name__)

# What a refusal made before a method ran is, by its HTTP status (REST uses one code per status).
OUTCOME_OF_STATUS = {
    400: "INVALID_INPUT",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "INVALID_INPUT",
    409: "CONFLICT",
    413: "TOO_LARGE",
    429: "THROTTLED",
    503: "SERVICE_UNAVAILABLE",
}
UNAUDITED = ("/api/schema/", "/api/docs/")


def is_webservice_call(request) -> bool:
    if request.path.startswith("/soap"):
        return request.method not in ("GET", "HEAD")  # GET is the WSDL
    return request.path.startswith("/api/") and not request.path.startswith(UNAUDITED)


class WebserviceAuditMiddleware:
    """Every webservice call gets its audit entry: the methods write theirs (his/dispatch.py); a
    request refused before any method ran (bad credentials, a body over the limit, an unknown
    method, an unreadable envelope) is written here."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.monotonic()
        response = self.get_response(request)
        if is_webservice_call(request) and not getattr(request, "his_audited", False):
            soap = request.path.startswith("/soap")
            outcome = getattr(request, "his_outcome", None) or (
                "OK" if response.status_code < 400 else OUTCOME_OF_STATUS.get(response.status_code, "INTERNAL_ERROR")
            )
            method = getattr(request, "his_method", None) or ("" if soap else request.path[5:].strip("/"))
            record(request=request, client=getattr(request, "his_client", None), surface="SOAP" if soap else "REST",
                   method=method, outcome=outcome, started=started)  # fmt: skip
        return response


class WebserviceErrorMiddleware:
    """A failure outside any method (the database gone while authenticating, say) is still answered
    as the contract says: SERVICE_UNAVAILABLE in the envelope (503, Retry-After) or a Server.Unavailable
    fault, never Django's HTML error page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_webservice_call(request):
            return None
        if isinstance(exception, DatabaseError):
            logger.warning("database unavailable: %s", exception)
            error, request.his_outcome = (
                HisError(SERVICE_UNAVAILABLE, MSG_UNAVAILABLE, retry_after=5),
                "SERVICE_UNAVAILABLE",
            )
        else:
            logger.exception("unexpected error", exc_info=exception)
            error, request.his_outcome = HisError(SERVICE_UNAVAILABLE, MSG_INTERNAL), "INTERNAL_ERROR"
        return fault_for(error) if request.path.startswith("/soap") else plain_error(error)


class BodySizeLimitMiddleware:
    """Answers 413 to a webservice request whose declared body is over HIS_MAX_BODY_BYTES, before
    reading any of it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(("/api/", "/soap")):
            limit = settings.HIS_MAX_BODY_BYTES
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return HttpResponse("Content-Length is not a number.", status=400, content_type="text/plain")
            if length > limit:
                if request.path.startswith("/api/"):
                    return too_large_response(limit)
                return HttpResponse(f"The request body is over {limit} bytes.", status=413, content_type="text/plain")
        return self.get_response(request)
