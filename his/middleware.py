import time

from django.conf import settings
from django.http import HttpResponse

from his.dispatch import record
from his.rest import too_large_response

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
