"""The SOAP 1.1 surface (document/literal wrapped), generated from the methods of webservices/methods/.

spyne describes the service: its models give the WSDL at GET /soap/?wsdl, every field xs:string
(file content xs:base64Binary), as in the guide. Requests are read and answers written here, on
the same schema: the envelope is parsed with a safe lxml parser (no DTD, no entities, no network)
and answers are written straight from the records, since spyne's general serializer costs ~90 µs
per record (a 100-slot answer ten times dearer than REST). The tests drive this surface with
zeep, suds and PHP's SoapClient against the WSDL, so the two cannot drift apart.

A DomainError becomes a SOAP fault whose code follows contract section 3 (HTTP 500, as SOAP 1.1
does for faults), in `error_response`, the one place this surface answers a failure.
"""

import re
from collections.abc import Iterable, Iterator
from xml.sax.saxutils import escape

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from lxml import etree
from spyne import Application, Array, ByteArray, ComplexModel, ServiceBase, Unicode, rpc
from spyne.protocol.soap import Soap11
from spyne.server.django import DjangoView

from core.errors import INVALID_INPUT, TOO_LARGE, UNAUTHORIZED, DomainError
from webservices.auth import REALM, authenticate
from webservices.context import call_of, note_outcome
from webservices.dispatch import serve
from webservices.errors import SOAP_FAULTS, audit_message, wire_message
from webservices.leniency import Leniency, other_namespace
from webservices.registry import Answer, Content, Method, methods

TNS = "http://tuotempo.his/ws"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SERVICE_NAME = "TuOtempoHospital"

MSG_DOCTYPE = "Document type declarations and entities are not accepted."
MSG_ENCODING = "The request declares the encoding {encoding!r}: send UTF-8 (or UTF-16)."
MSG_NOT_XML = "The request is not a well-formed XML document: {error}"
MSG_NOT_SOAP = "The request is not a SOAP 1.1 envelope with a Body."
MSG_NO_OPERATION = "The SOAP Body names no operation."
MSG_UNKNOWN_OPERATION = "There is no operation {name!r} in namespace {namespace}; see the WSDL at /soap/?wsdl."
MSG_NOT_TEXT = "{name} must be a text value, not a structure."
MSG_REPEATED = "{name} is given more than once."

# ------------------------------------------------------------------ the description (WSDL), by spyne

_records: dict[str, type[ComplexModel]] = {}


def record_model(method: Method) -> type[ComplexModel]:
    """One spyne type per record name; Python names are snake_case, the wire keeps the guide's."""
    existing = _records.get(method.record_name)
    if existing is not None:
        return existing
    # Every element is always written, a null one as xsi:nil, so a PHP client finds every property.
    members = {
        name.lower(): (ByteArray if name in method.binary_fields else Unicode)(
            sub_name=name, min_occurs=1, nillable=True
        )
        for name in method.fields
    }
    model = ComplexModel.produce(TNS, method.record_name, members)
    _records[method.record_name] = model
    return model


def described_operation(method: Method):
    """The spyne operation that describes `method` in the WSDL (requests are answered by `answer`)."""
    names = [p.name for p in method.all_params()]

    def operation(ctx, *args):
        raise NotImplementedError("answered by webservices.soap.soap_endpoint")

    operation.__name__ = method.name
    model = record_model(method)
    return rpc(
        *[Unicode(min_occurs=0) for _ in names],
        _args=[n.lower() for n in names],
        _in_arg_names={n.lower(): n for n in names},
        _returns=Array(model) if method.many else model,
        _operation_name=method.name,
    )(operation)


def build_application() -> Application:
    service = type(SERVICE_NAME, (ServiceBase,), {m.name: described_operation(m) for m in methods()})
    return Application([service], tns=TNS, name=SERVICE_NAME, in_protocol=Soap11(), out_protocol=Soap11())


_wsdl_view = DjangoView.as_view(application=build_application())
OPERATIONS = {m.name: m for m in methods()}

# ------------------------------------------------------------------ reading a request

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False,
    remove_comments=True, remove_pis=True,
)  # fmt: skip
_DOCTYPE = re.compile(rb"<!\s*(doctype|entity)", re.IGNORECASE)
_METHOD = re.compile(rb"<(?:[\w.-]+:)?Body[^>]*>\s*<(?:[\w.-]+:)?([\w.-]{1,50})", re.IGNORECASE)
_DECLARED_ENCODING = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']{0,40})[\"']", re.IGNORECASE)
ENCODINGS = {"utf-8", "utf8", "utf-16", "utf16", "utf-16le", "utf-16be"}


def refused_encoding(body: bytes, content_type: str) -> str | None:
    """The encoding a request declares, in its XML declaration or its Content-Type, when it is neither
    UTF-8 nor UTF-16 (UTF-7 and the like could smuggle markup past the checks); else None. A UTF-16
    document (a BOM, or zero bytes) declares its encoding in UTF-16 and passes."""
    declared = _DECLARED_ENCODING.match(body[:200])
    charset = re.search(r"charset\s*=\s*\"?([^\";\s]+)", content_type or "", re.IGNORECASE)
    for found in (declared and declared[1].decode("ascii", "replace"), charset and charset[1]):
        if found and found.lower() not in ENCODINGS:
            return found
    return None


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


def read_envelope(
    body: bytes, content_type: str = ""
) -> tuple[Method, dict[str, str], DomainError | None, list[Leniency]]:
    """The operation a SOAP 1.1 request names, its arguments by element local name, and why they cannot
    be read when the envelope is sound but an argument is not (a structure, a repeated element): the
    method answers that as any other input error, in its result field for the writes. Last, the
    arguments read although they were outside the service's namespace (the WSDL's are qualified)."""
    if has_doctype(body):
        raise DomainError(INVALID_INPUT, MSG_DOCTYPE)
    encoding = refused_encoding(body, content_type)
    if encoding is not None:
        raise DomainError(INVALID_INPUT, MSG_ENCODING, encoding=encoding)
    try:
        envelope = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as error:
        raise DomainError(INVALID_INPUT, MSG_NOT_XML, error=error) from None
    if envelope.tag != f"{{{SOAP_ENV}}}Envelope":
        raise DomainError(INVALID_INPUT, MSG_NOT_SOAP)
    soap_body = envelope.find(f"{{{SOAP_ENV}}}Body")
    if soap_body is None:
        raise DomainError(INVALID_INPUT, MSG_NOT_SOAP)
    request = next((child for child in soap_body if isinstance(child.tag, str)), None)
    if request is None:
        raise DomainError(INVALID_INPUT, MSG_NO_OPERATION)
    name = etree.QName(request).localname
    namespace = etree.QName(request).namespace
    method = OPERATIONS.get(name)
    if method is None or namespace != TNS:
        raise DomainError(INVALID_INPUT, MSG_UNKNOWN_OPERATION, name=name, namespace=namespace)
    raw: dict[str, str] = {}
    noted: list[Leniency] = []
    for element in request:
        if not isinstance(element.tag, str):
            continue
        qname = etree.QName(element)
        field = qname.localname
        if len(element):
            return method, {}, DomainError(INVALID_INPUT, MSG_NOT_TEXT, name=field), []
        if field in raw:
            return method, {}, DomainError(INVALID_INPUT, MSG_REPEATED, name=field), []
        if qname.namespace != TNS:
            noted.append(other_namespace(field, qname.namespace, TNS))
        raw[field] = element.text or ""
    return method, raw, None, noted


# ------------------------------------------------------------------ writing an answer

# Characters XML 1.0 cannot carry at all; a stray one in hospital data must not break an answer.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
XSI = "http://www.w3.org/2001/XMLSchema-instance"
_HEAD = (
    "<?xml version='1.0' encoding='UTF-8'?>\n"
    f'<soap11env:Envelope xmlns:soap11env="{SOAP_ENV}" xmlns:tns="{TNS}" xmlns:xsi="{XSI}"><soap11env:Body>'
)
_TAIL = "</soap11env:Body></soap11env:Envelope>"


def _text(value: str) -> str:
    return escape(_NOT_XML.sub("", value))


def _fields(row: dict) -> Iterator[str | Content]:
    for name, value in row.items():
        if value is None:
            yield f'<tns:{name} xsi:nil="true"/>'
            continue
        if isinstance(value, Content):
            yield f"<tns:{name}>"
            yield value
            yield f"</tns:{name}>"
        else:
            yield f"<tns:{name}>{_text(value)}</tns:{name}>"


def answer_parts(method: Method, answer: Answer) -> Iterator[str | Content]:
    yield f"{_HEAD}<tns:{method.name}Response><tns:{method.name}Result>"
    if method.many:
        item = method.record_name
        for row in answer.payload:
            yield f"<tns:{item}>{''.join(_fields(row))}</tns:{item}>"
    else:
        yield from _fields(answer.payload)
    yield f"</tns:{method.name}Result></tns:{method.name}Response>{_TAIL}"


def answer_response(method: Method, answer: Answer) -> HttpResponse:
    parts = list(answer_parts(method, answer))
    if not any(isinstance(p, Content) for p in parts):
        return HttpResponse("".join(parts).encode("utf-8"), content_type="text/xml; charset=utf-8")
    return StreamingHttpResponse(_stream(parts), content_type="text/xml; charset=utf-8")


def _stream(parts: Iterable[str | Content]) -> Iterator[bytes]:
    """File content is base64-encoded chunk by chunk while it is sent, never held whole."""
    for part in parts:
        if isinstance(part, Content):
            yield from part.base64_chunks()
        else:
            yield part.encode("utf-8")


def fault_response(code: str, message: str, headers: dict[str, str] | None = None) -> HttpResponse:
    body = (
        f"<?xml version='1.0' encoding='UTF-8'?>\n"
        f'<soap11env:Envelope xmlns:soap11env="{SOAP_ENV}"><soap11env:Body><soap11env:Fault>'
        f"<faultcode>soap11env:{_text(code)}</faultcode><faultstring>{_text(message)}</faultstring>"
        f"</soap11env:Fault>{_TAIL}"
    )
    response = HttpResponse(body.encode("utf-8"), status=500, content_type="text/xml; charset=utf-8", headers=headers)
    response._has_been_logged = True  # a fault answers the client; it is not a server error to log
    return response


def error_response(error: DomainError, *, request: HttpRequest) -> HttpResponse:
    """The one place this surface answers a failure: HTTP 401 or 413 before any envelope is processed,
    else a SOAP fault with the contract's code."""
    note_outcome(request, error.code.name, audit_message(error))
    message = wire_message(error)
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after else {}
    if error.code is UNAUTHORIZED:
        headers["WWW-Authenticate"] = REALM
        return HttpResponse(message, status=401, content_type="text/plain; charset=utf-8", headers=headers)
    if error.code is TOO_LARGE:
        return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8", headers=headers)
    return fault_response(SOAP_FAULTS[error.code], message, headers)


# ------------------------------------------------------------------ the endpoint


@csrf_exempt
def soap_endpoint(request: HttpRequest) -> HttpResponse:
    """WSDL on GET (no credentials needed); operations on POST, after authentication."""
    if request.method in ("GET", "HEAD"):
        return _wsdl_view(request)
    if request.method != "POST":
        note_outcome(request, INVALID_INPUT.name)
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    body = request.body
    call_of(request).method = method_named_in(body)
    try:
        authenticate(request)
        method, raw, unreadable, noted = read_envelope(body, request.META.get("CONTENT_TYPE", ""))
        answer = serve(method, request=request, raw=raw, unreadable=unreadable, noted=noted)
    except DomainError as error:
        return error_response(error, request=request)
    return answer_response(method, answer)
