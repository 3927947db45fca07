from django.conf import settings
from django.db import DatabaseError
from django.http import HttpResponse

from clients.models import Surface
from core.errors import INVALID_INPUT, SERVICE_UNAVAILABLE, TOO_LARGE, DomainError
from webservices import rest, soap
from webservices.context import WebserviceCall, note_outcome, record, surface_of
from webservices.dispatch import INTERNAL_ERROR, unavailable
from webservices.errors import audit_message

MSG_TOO_LARGE = "The request body is over {limit} bytes."
MSG_BAD_LENGTH = "Content-Length is not a number."


def error_response(request, error: DomainError) -> HttpResponse:
    """A failure answered as the request's surface answers failures."""
    if request.webservice.surface == Surface.SOAP:
        return soap.error_response(error, request=request)
    return rest.error_response(error, request=request)


def no_store(request, response: HttpResponse) -> HttpResponse:
    """Webservice answers carry patient data: no cache, shared or private, may keep them."""
    if request.path.startswith(("/soap", "/api/")):
        response["Cache-Control"] = "no-store"
    return response


class WebserviceMiddleware:
    """Around every webservice call (not the WSDL, the schema or the docs): a body over
    HIS_MAX_BODY_BYTES is refused with 413 before any of it is read; a failure outside any method (the
    database gone while authenticating, say) is answered as the contract says, never with Django's
    HTML error page; and the call's audit entry is written, whatever the outcome (a write's is written
    by dispatch.serve() in the write's transaction; if that transaction failed, here)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        surface = surface_of(request)
        if surface is None:
            return no_store(request, self.get_response(request))
        call = request.webservice = WebserviceCall(surface=surface)
        response = self.refuse_body(request) or self.get_response(request)
        if not call.recorded:
            record(request)
        return no_store(request, response)

    def refuse_body(self, request) -> HttpResponse | None:
        limit = settings.HIS_MAX_BODY_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            note_outcome(request, INVALID_INPUT.name, MSG_BAD_LENGTH)
            return HttpResponse(MSG_BAD_LENGTH, status=400, content_type="text/plain")
        if length > limit:
            return error_response(request, DomainError(TOO_LARGE, MSG_TOO_LARGE, limit=limit))
        return None

    def process_exception(self, request, exception):
        if surface_of(request) is None:
            return None
        error = unavailable(exception)
        code = SERVICE_UNAVAILABLE.name if isinstance(exception, DatabaseError) else INTERNAL_ERROR
        note_outcome(request, code, audit_message(error))
        return error_response(request, error)
