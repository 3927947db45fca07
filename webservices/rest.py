"""The REST surface: `/api/<method in lower case>`, generated from the methods of webservices/methods/.

Every answer is tuOtempO's envelope `{"result", "return", "msg"}` (a failure adds `"code"`), written by DRF's JSON
renderer; `error_response` is the one place this surface answers a failure. Parameter names are
accepted in any letter case; reads answer GET and POST, writes POST only. A caller that sends
`X-Request-Warnings: 1` gets one more member, `warnings`: what its call relied on of the server's
leniency (leniency.py); without the header the envelope is exactly tuOtempO's.
"""

import functools
import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from django.core.validators import RegexValidator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from core.errors import INVALID_INPUT, NOT_FOUND, UNAUTHORIZED, DomainError
from webservices.auth import REALM, authenticate
from webservices.context import call_of, note_outcome
from webservices.dispatch import serve
from webservices.errors import HTTP_STATUS, audit_message, wire_message
from webservices.leniency import Leniency, given_twice
from webservices.registry import Answer, Content, Kind, Method, Param, methods

MSG_BAD_BODY = "The request body could not be read: {detail}"
MSG_NOT_AN_OBJECT = "The request body must be a JSON object of parameter names and values."
MSG_TOO_DEEP = "The request body is nested too deeply; send a flat JSON object of parameter names and values."
MSG_METHOD_NOT_ALLOWED = "{verb} is not accepted here: use {allowed}."
MSG_UNKNOWN_METHOD = "There is no method {name!r}; see /api/docs/ for the list."
MSG_TOO_LARGE = "The request body is over {limit} bytes."

WARNINGS_HEADER = "X-Request-Warnings"
_YES = ("1", "true", "yes", "on")

_RENDERER = JSONRenderer()


def warnings_asked(request: HttpRequest) -> list[dict[str, str]] | None:
    """The call's warnings when the caller asks for them (X-Request-Warnings: 1), else None."""
    if request.headers.get(WARNINGS_HEADER, "").strip().lower() in _YES:
        return call_of(request).warnings
    return None


class ReadableSchemaRenderer(OpenApiJsonRenderer):
    """The OpenAPI schema as plain JSON, which browsers show instead of downloading."""

    media_type = "application/json"


def envelope(
    *, ok: bool, payload: Any = None, message: str | None = None, code: str | None = None, http_status: int = 200,
    headers: Mapping[str, str] | None = None, warnings: list[dict[str, str]] | None = None,
) -> HttpResponse:  # fmt: skip
    body = {"result": "OK" if ok else "ERROR", "return": payload, "msg": message}
    if not ok:
        body["code"] = code
    if warnings is not None:
        body["warnings"] = warnings
    return HttpResponse(_RENDERER.render(body), status=http_status, content_type="application/json", headers=headers)


def error_response(
    error: DomainError, *, request: HttpRequest, payload: Any = None, http_status: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> HttpResponse:  # fmt: skip
    """The one place this surface answers a failure: the envelope with the contract's code and status."""
    note_outcome(request, error.code.name, audit_message(error))
    all_headers = dict(headers or {})
    if error.code is UNAUTHORIZED:
        all_headers["WWW-Authenticate"] = REALM
    if error.retry_after:
        all_headers["Retry-After"] = str(error.retry_after)
    return envelope(
        ok=False,
        payload=payload,
        message=wire_message(error),
        code=error.code.name,
        http_status=http_status or HTTP_STATUS[error.code],
        headers=all_headers,
        warnings=warnings_asked(request),
    )


def render(method: Method, answer: Answer, request: HttpRequest) -> HttpResponse:
    payload = answer.payload
    if answer.error is not None:
        return error_response(answer.error, request=request, payload=payload)
    content = next((v for v in payload.values() if isinstance(v, Content)), None) if isinstance(payload, dict) else None
    warnings = warnings_asked(request)
    if content is not None:
        return streamed_envelope(payload, content, warnings)
    return envelope(ok=True, payload=payload, warnings=warnings)


def streamed_envelope(
    payload: dict, content: Content, warnings: list[dict[str, str]] | None = None
) -> StreamingHttpResponse:
    """The envelope around file content that is base64-encoded while it is sent."""
    marker = f"@@content-{uuid.uuid4().hex}@@"
    body = {"result": "OK", "return": {k: marker if v is content else v for k, v in payload.items()}, "msg": None}
    if warnings is not None:
        body["warnings"] = warnings
    before, after = json.dumps(body, ensure_ascii=False).split(marker)

    def parts():
        yield before.encode("utf-8")
        yield from content.base64_chunks()
        yield after.encode("utf-8")

    return StreamingHttpResponse(parts(), content_type="application/json")


def repeated(values: Any) -> list[Leniency]:
    """The names a query string or form gives more than once: only one value of each is read."""
    if not hasattr(values, "lists"):
        return []
    return [given_twice(name) for name, items in values.lists() if len(items) > 1]


def body_values(data: Any) -> Mapping[str, Any]:
    if hasattr(data, "dict"):  # a form body: QueryDict
        return data.dict()
    if isinstance(data, Mapping):
        return data
    raise DomainError(INVALID_INPUT, MSG_NOT_AN_OBJECT)


class RefusedByDomain(exceptions.APIException):
    """A DomainError raised inside DRF's own steps (authentication), answered in the envelope."""

    def __init__(self, error: DomainError):
        super().__init__(error.message)
        self.error = error


class ClientAuthentication(BaseAuthentication):
    """The integration client, authenticated before anything else is looked at (a wrong verb
    included), so that without credentials nothing but 401 is answered."""

    def authenticate(self, request):
        try:
            client = authenticate(request._request)
        except DomainError as error:
            raise RefusedByDomain(error) from None
        return (None, client)

    def authenticate_header(self, request):
        return REALM


class ClientAuthenticationScheme(OpenApiAuthenticationExtension):
    """How ClientAuthentication appears in the OpenAPI schema: Basic or Bearer, either will do."""

    target_class = ClientAuthentication
    name = ["basicAuth", "bearerAuth"]

    def get_security_requirement(self, auto_schema):
        return [{"basicAuth": []}, {"bearerAuth": []}]  # either one (OR), not both

    def get_security_definition(self, auto_schema):
        return [{"type": "http", "scheme": "basic"}, {"type": "http", "scheme": "bearer"}]


class MethodView(APIView):
    """Base of the generated views; `method` is set on each subclass."""

    method: Method
    authentication_classes = [ClientAuthentication]
    permission_classes: list = []
    http_method_names = ["get", "post"]  # no OPTIONS: nothing is answered outside the envelope

    def respond(self, request, raw: Mapping[str, Any], noted: list[Leniency]) -> HttpResponse:
        try:
            answer = serve(self.method, request=request._request, raw=raw, noted=noted)
            return render(self.method, answer, request._request)
        except DomainError as error:
            return error_response(error, request=request._request)

    def get(self, request):
        return self.respond(request, request.query_params.dict(), repeated(request.query_params))

    def post(self, request):
        try:
            try:
                data = request.data
            except RecursionError:  # a body nested deeper than the JSON parser goes
                raise DomainError(INVALID_INPUT, MSG_TOO_DEEP) from None
            raw = body_values(data)
        except DomainError as error:
            return error_response(error, request=request._request)
        return self.respond(request, raw, repeated(data))


def warnings_field() -> serializers.Field:
    return serializers.ListField(
        child=serializers.DictField(child=serializers.CharField()),
        required=False,
        help_text=f"Only when the request has {WARNINGS_HEADER}: 1. What the call relied on of the server's "
        "leniency: each {code, parameter, message}; never a value.",
    )


WARNINGS_PARAMETER = OpenApiParameter(
    WARNINGS_HEADER,
    {"type": "string", "enum": ["1", "0"]},
    OpenApiParameter.HEADER,
    required=False,
    description="1: the answer lists, in `warnings`, what the call relied on of the server's leniency (names in "
    "another letter case, unknown parameters ignored, empty optional values, dates as yyyy-mm-dd...).",
)

ERROR_ANSWER = inline_serializer(
    name="ErrorAnswer",
    fields={
        "result": serializers.CharField(help_text="ERROR"),
        "return": serializers.JSONField(allow_null=True),
        "msg": serializers.CharField(help_text="What was wrong, in a sentence an integrator can act on."),
        "code": serializers.CharField(help_text="The error code (contract section 3)."),
        "warnings": warnings_field(),
    },
)


@functools.cache
def _record_schema(record_name: str, fields: tuple[str, ...]):
    # One component (serializer class) per record name: getAppointments and SearchAppointments
    # share theirs; each use gets an instance of its own.
    return type(
        inline_serializer(
            name=f"{record_name}Record",
            fields={name: serializers.CharField(allow_null=True, required=False) for name in fields},
        )
    )


# What each kind of parameter accepts, for the schema (the parsing itself is in tuotempo/formats.py).
FORMATS = {
    Kind.DATE: "dd/mm/yyyy or yyyy-mm-dd",
    Kind.TIME: "hh:mm",
    Kind.NUMBER: "whole number",
    Kind.TIMESTAMP: "dd/mm/yyyy hh:mm[:ss] or ISO 8601",
}
_DAY_MONTH_YEAR = r"(0?[1-9]|[12][0-9]|3[01])/(0?[1-9]|1[0-2])/(19|20)[0-9]{2}"
_ISO_DATE = r"(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_CLOCK = r"([01]?[0-9]|2[0-3]):[0-5][0-9]"
PATTERNS = {
    Kind.DATE: rf"^({_DAY_MONTH_YEAR}|{_ISO_DATE})$",
    Kind.TIME: rf"^{_CLOCK}$",
    Kind.TIMESTAMP: rf"^{_DAY_MONTH_YEAR} {_CLOCK}$",
}


def param_schema(param: Param) -> dict:
    """The OpenAPI schema of what a parameter accepts, so generated clients send what the server reads."""
    if param.kind is Kind.NUMBER:
        return {"type": "integer", "minimum": param.low, "maximum": param.high}
    schema = {"type": "string", "maxLength": param.max_length if param.kind is Kind.TEXT else 40}
    if param.kind in PATTERNS:
        schema["pattern"] = PATTERNS[param.kind]
    if param.choices:
        schema["enum"] = list(param.choices)
    return schema


def body_field(param: Param, description: str) -> serializers.Field:
    if param.kind is Kind.NUMBER:
        return serializers.IntegerField(
            required=param.required, min_value=param.low, max_value=param.high, help_text=description
        )
    if param.choices:
        return serializers.ChoiceField(choices=param.choices, required=param.required, help_text=description)
    validators = [RegexValidator(PATTERNS[param.kind])] if param.kind in PATTERNS else []
    return serializers.CharField(
        required=param.required,
        max_length=param.max_length if param.kind is Kind.TEXT else 40,
        validators=validators,
        help_text=description,
    )


def _schema(method: Method):
    record = _record_schema(method.record_name, method.fields)()
    answer = inline_serializer(
        name=f"{method.name}Answer",
        fields={
            "result": serializers.CharField(help_text="OK or ERROR"),
            "return": record if not method.many else serializers.ListField(child=record),
            "msg": serializers.CharField(allow_null=True),
            "code": serializers.CharField(required=False, help_text="On ERROR: the error code (contract section 3)."),
            "warnings": warnings_field(),
        },
    )
    params = method.all_params()
    described = {p.name: " ".join(x for x in (p.doc, FORMATS.get(p.kind, "")) if x) for p in params}
    query = [
        OpenApiParameter(
            p.name,
            param_schema(p),
            OpenApiParameter.QUERY,
            required=p.required,
            description=described[p.name],
            examples=[OpenApiExample(p.example, value=p.example)] if p.example else None,
        )
        for p in params
    ]
    body = inline_serializer(
        name=f"{method.name}Request",
        fields={p.name: body_field(p, described[p.name]) for p in params},
    )
    error = ERROR_ANSWER
    responses = {
        200: answer,
        400: error,
        401: error,
        403: error,
        404: error,
        409: answer if method.write else error,
        413: error,
        429: error,
        503: error,
    }
    kwargs = {
        "operation_id": method.name,
        "summary": method.summary.split(". ")[0].rstrip("."),
        "description": method.summary,
        "tags": ["tuOtempO"],
        "responses": responses,
    }
    decorators = {"post": extend_schema(request=body, parameters=[WARNINGS_PARAMETER], **kwargs)}
    if not method.write:
        decorators["get"] = extend_schema(
            parameters=[*query, WARNINGS_PARAMETER], **kwargs | {"operation_id": f"{method.name}_get"}
        )
    return decorators


def view_for(method: Method):
    attrs = {"method": method, "__doc__": method.summary}
    if method.write:
        attrs["http_method_names"] = ["post"]
    view = type(f"{method.name}View", (MethodView,), attrs)
    for verb, decorator in _schema(method).items():
        inherited = getattr(MethodView, verb)

        def handler(self, request, _inherited=inherited):
            return _inherited(self, request)

        setattr(view, verb, decorator(handler))  # a function of its own: the schema is attached to it
    return view


def schema_endpoints(endpoints):
    """drf-spectacular hook: each method once in the schema, at its path without the optional trailing
    slash."""
    return [(path.rstrip("/") if path.startswith("/api/") else path, *rest) for path, *rest in endpoints]


def views() -> dict[str, type[MethodView]]:
    return {m.rest_path: view_for(m) for m in methods()}


def exception_handler(exc, context) -> HttpResponse | None:
    """DRF's own refusals (credentials, a body that is not JSON, a wrong verb) in the envelope too."""
    request = context["request"]._request
    if isinstance(exc, RefusedByDomain):
        return error_response(exc.error, request=request)
    if isinstance(exc, exceptions.MethodNotAllowed):
        view = context.get("view")
        allowed = ", ".join(m.upper() for m in getattr(view, "http_method_names", []) if m != "options")
        verb = exc.args[0] if exc.args else ""
        return error_response(
            DomainError(INVALID_INPUT, MSG_METHOD_NOT_ALLOWED, verb=verb, allowed=allowed),
            request=request,
            http_status=status.HTTP_405_METHOD_NOT_ALLOWED,
            headers={"Allow": allowed},
        )
    if isinstance(exc, exceptions.APIException):
        return error_response(
            DomainError(INVALID_INPUT, MSG_BAD_BODY, detail=exc.detail),
            request=request,
            http_status=exc.status_code if exc.status_code < 500 else 400,
        )
    return None


def method_in_any_case(method_views: Mapping[str, Callable]) -> Callable:
    """The view of a path that is not a method's own (lower-case) path: the method it names in another
    letter case, or the NOT_FOUND envelope (after authentication, so nothing is told to a stranger)."""

    @csrf_exempt
    def view(request: HttpRequest, name: str) -> HttpResponse:
        method_view = method_views.get(name.rstrip("/").lower())
        if method_view is not None:
            return method_view(request)
        try:
            authenticate(request)
        except DomainError as error:
            return error_response(error, request=request)
        return error_response(DomainError(NOT_FOUND, MSG_UNKNOWN_METHOD, name=name), request=request)

    return view
