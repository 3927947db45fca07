"""The SOAP 1.1 surface (document/literal wrapped), generated from the methods of his/wire.py.

Each operation only turns its arguments into a dict, calls `serve()` and turns the answer into
spyne models; a HisError becomes a SOAP fault whose code follows contract section 3. Every
field is xs:string (file content xs:base64Binary), as in the guide.
"""

import re

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from spyne import Application, Array, ByteArray, ComplexModel, ServiceBase, Unicode, rpc
from spyne.model.fault import Fault
from spyne.protocol.soap import Soap11
from spyne.server.django import DjangoView

from his.auth import REALM, authenticate
from his.dispatch import record, serve
from his.errors import UNAUTHORIZED, HisError
from his.wire import Method, methods

TNS = "http://tuotempo.his/ws"
SERVICE_NAME = "TuOtempoHospital"

_records: dict[str, type[ComplexModel]] = {}


def record_model(method: Method) -> type[ComplexModel]:
    """One spyne type per record name; Python names are snake_case, the wire keeps the guide's."""
    existing = _records.get(method.record_name)
    if existing is not None:
        return existing
    members = {
        name.lower(): (ByteArray if name in method.binary_fields else Unicode)(sub_name=name, min_occurs=0)
        for name in method.fields
    }
    model = ComplexModel.produce(TNS, method.record_name, members)
    _records[method.record_name] = model
    return model


def to_model(model: type[ComplexModel], row: dict) -> ComplexModel:
    return model(**{name.lower(): value for name, value in row.items()})


def fault_for(error: HisError) -> Fault:
    return Fault(faultcode=error.code.soap_fault or "Server", faultstring=error.message)


def operation(method: Method):
    model = record_model(method)
    names = [p.name for p in method.all_params()]

    def run(ctx, *args):
        try:
            answer = serve(method, request=ctx.transport.req, surface="SOAP", raw=dict(zip(names, args, strict=True)))
        except HisError as error:
            raise fault_for(error) from None
        if method.many:
            return [to_model(model, row) for row in answer.payload]
        return to_model(model, answer.payload)

    run.__name__ = method.name
    arguments = [Unicode(min_occurs=0) for _ in names]
    returns = Array(model) if method.many else model
    return rpc(
        *arguments,
        _args=[n.lower() for n in names],
        _in_arg_names={n.lower(): n for n in names},
        _returns=returns,
        _operation_name=method.name,
    )(run)


def build_application() -> Application:
    service = type(SERVICE_NAME, (ServiceBase,), {m.name: operation(m) for m in methods()})
    return Application(
        [service], tns=TNS, name=SERVICE_NAME, in_protocol=Soap11(validator="soft"), out_protocol=Soap11()
    )


_spyne_view = DjangoView.as_view(application=build_application())

_DOCTYPE = re.compile(rb"<!\s*(doctype|entity)", re.IGNORECASE)
_METHOD = re.compile(rb"<(?:[\w.-]+:)?Body[^>]*>\s*<(?:[\w.-]+:)?([\w.-]{1,50})", re.IGNORECASE)

MSG_DOCTYPE = "Document type declarations and entities are not accepted."


def fault_response(code: str, message: str, status: int = 500) -> HttpResponse:
    """A SOAP fault written by hand, for refusals made before spyne reads the envelope."""
    from xml.sax.saxutils import escape

    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soap11env:Envelope xmlns:soap11env="http://schemas.xmlsoap.org/soap/envelope/"><soap11env:Body>'
        f"<soap11env:Fault><faultcode>soap11env:{escape(code)}</faultcode><faultstring>{escape(message)}"
        "</faultstring></soap11env:Fault></soap11env:Body></soap11env:Envelope>"
    )
    return HttpResponse(body, status=status, content_type="text/xml; charset=utf-8")


def has_doctype(body: bytes) -> bool:
    if _DOCTYPE.search(body):
        return True
    # A UTF-16 or UTF-32 document hides the declaration from a byte search.
    if body[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in body[:200]:
        for encoding in ("utf-16", "utf-32"):
            try:
                if _DOCTYPE.search(body.decode(encoding).encode("utf-8")):
                    return True
            except UnicodeDecodeError:
                continue
    return False


def method_named_in(body: bytes) -> str:
    match = _METHOD.search(body[:4096])
    return match[1].decode("ascii", "replace") if match else ""


@csrf_exempt
def soap_endpoint(request: HttpRequest) -> HttpResponse:
    """WSDL on GET (no credentials needed); operations on POST, after authentication."""
    if request.method in ("GET", "HEAD"):
        return _spyne_view(request)
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    body = request.body
    if has_doctype(body):
        return fault_response("Client.InvalidInput", MSG_DOCTYPE)
    try:
        request.his_client = authenticate(request)
    except HisError as error:
        import time

        record(
            request=request,
            client=None,
            surface="SOAP",
            method=method_named_in(body),
            outcome=error.code.name,
            started=time.monotonic(),
        )
        if error.code is UNAUTHORIZED:
            return HttpResponse(
                error.message, status=401, content_type="text/plain; charset=utf-8", headers={"WWW-Authenticate": REALM}
            )
        return fault_response(error.code.soap_fault or "Server", error.message)
    return _spyne_view(request)
