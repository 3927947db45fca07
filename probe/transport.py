"""The probe's two clients, playing tuOtempO: SOAP through zeep (the WSDL), REST through requests.

Each call gives a `Reply` in one shape whatever the surface: the method's answer (a record or a
list of records, as plain dicts), or how the call was refused (the contract's error code, the
message, the SOAP fault), and the `Exchange` it came from (the request as sent and the answer as
received) for the report. Every reply of a run is kept, so rules about every answer (a server
error, the envelope, formats) can be checked at the end.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import json
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests
import zeep
from lxml import etree
from zeep.exceptions import Error as ZeepError
from zeep.exceptions import Fault
from zeep.helpers import serialize_object

from probe.guide import BY_NAME, FAULT_CODES, HTTP_CODES, Method

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
KEPT_BYTES = 64 * 1024  # of each answer, for excerpts and the checks on raw bodies
USER_AGENT = "tuotempo-probe"


@dataclass(frozen=True)
class Credentials:
    user: str | None = None
    secret: str | None = None
    bearer: str | None = None

    def header(self) -> dict[str, str]:
        if self.bearer:
            return {"Authorization": f"Bearer {self.bearer}"}
        if self.user is not None and self.secret is not None:
            token = base64.b64encode(f"{self.user}:{self.secret}".encode()).decode("ascii")
            return {"Authorization": f"Basic {token}"}
        return {}

    def __bool__(self) -> bool:
        return bool(self.header())


@dataclass
class Exchange:
    """One HTTP request as the probe sent it, and the answer as it came (never the credentials)."""

    surface: str
    method: str
    verb: str
    url: str
    params: dict[str, Any]
    sent_at: dt.datetime
    body_sent: str = ""
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str | None = None  # no answer at all: refused connection, timeout...
    seconds: float = 0.0

    def request_line(self) -> str:
        if self.verb == "GET" and self.params:
            return f"GET {self.url}?{urlencode(self.params)}"
        if self.surface == "soap":
            values = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
            return f"{self.verb} {self.url} {self.method}({values})"
        return f"{self.verb} {self.url} {self.body_sent}".rstrip()

    def excerpt(self, limit: int = 500) -> str:
        if self.error:
            return f"(no answer: {self.error})"
        text = self.body.decode("utf-8", "replace")
        text = " ".join(text.split())
        if len(text) > limit:
            text = text[:limit] + " …"
        return f"HTTP {self.status}: {text}" if text else f"HTTP {self.status} (empty body)"


@dataclass
class Reply:
    exchange: Exchange
    method: Method
    payload: Any = None  # the method's answer: a dict, or a list of dicts
    code: str | None = None  # the contract's error code when the call was refused
    message: str | None = None
    fault: str | None = None  # the SOAP faultcode, as sent
    problem: str | None = None  # why the answer could not be read as an answer of this method
    envelope_problems: list[str] = field(default_factory=list)  # REST: how the envelope breaks the contract
    absent: set[str] = field(default_factory=set)  # SOAP: declared record fields with no element
    missing_operation: bool = False  # SOAP: the WSDL has no such operation

    @property
    def result(self) -> str | None:
        """The write methods' own OK/ERROR field."""
        name = self.method.result_field
        if name and isinstance(self.payload, dict):
            return self.payload.get(name)
        return None

    @property
    def ok(self) -> bool:
        if self.problem or self.code or self.fault or self.missing_operation:
            return False
        if self.method.result_field:
            return self.result == "OK"
        return True

    @property
    def refused(self) -> bool:
        """Answered, and the answer says no (a fault, an error envelope, a result field ERROR)."""
        if self.missing_operation or self.exchange.error:
            return False
        return bool(self.code or self.fault or self.result == "ERROR")

    def records(self) -> list[dict]:
        if isinstance(self.payload, list):
            return [r for r in self.payload if isinstance(r, dict)]
        if isinstance(self.payload, dict):
            return [self.payload]
        return []

    def record(self) -> dict:
        return self.payload if isinstance(self.payload, dict) else {}

    def describe(self) -> str:
        """What came back, in a few words, for a reason in the report."""
        if self.exchange.error:
            return f"no answer ({self.exchange.error})"
        if self.missing_operation:
            return f"the WSDL has no operation {self.method.name}"
        if self.problem:
            return self.problem
        if self.fault:
            return f"SOAP fault {self.fault}: {self.message}"
        if self.code:
            return f"{self.code} (HTTP {self.exchange.status}): {self.message}"
        if self.result == "ERROR":
            text = self.payload.get(self.method.message_field) if isinstance(self.payload, dict) else None
            return f"{self.method.result_field}=ERROR: {text}"
        if self.method.many:
            return f"OK, {len(self.records())} records"
        return "OK"


def plain(value: Any) -> Any:
    """zeep's objects as dicts and lists."""
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


class Target:
    """What both clients share: credentials, the log of replies, simultaneous sending."""

    surface: str

    def __init__(self, url: str, credentials: Credentials, timeout: float):
        self.credentials = credentials
        self.timeout = timeout
        self.replies: list[Reply] = []
        self.session = self._session()
        self._lock = threading.Lock()

    def _session(self) -> requests.Session:
        session = requests.Session()
        session.headers["User-Agent"] = USER_AGENT
        return session

    def call(self, method: str, params: Mapping[str, Any] | None = None, *, auth: bool = True, **how) -> Reply:
        prepared = self.prepare(BY_NAME[method], dict(params or {}), auth=auth, **how)
        if isinstance(prepared, Reply):
            return self._keep(prepared)
        return self._keep(self.read(self.send(prepared, self.session)))

    def call_together(self, method: str, many: Sequence[Mapping[str, Any]]) -> list[Reply]:
        """The same method sent at the same moment, once per parameter set, each on its own connection."""
        prepared = [self.prepare(BY_NAME[method], dict(params), auth=True) for params in many]
        responses: list[Any] = [None] * len(prepared)
        barrier = threading.Barrier(len(prepared))

        def send(index: int) -> None:
            session = self._session()
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=self.timeout)
            if not isinstance(prepared[index], Reply):  # an operation the WSDL lacks: nothing to send
                responses[index] = self.send(prepared[index], session)
            session.close()

        threads = [threading.Thread(target=send, args=(i,)) for i in range(len(prepared))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return [
            self._keep(p if isinstance(p, Reply) else self.read(r)) for p, r in zip(prepared, responses, strict=True)
        ]

    def _keep(self, reply: Reply) -> Reply:
        with self._lock:
            self.replies.append(reply)
        return reply

    def send(self, prepared: Prepared, session: requests.Session) -> Prepared:
        exchange = prepared.exchange
        exchange.sent_at = dt.datetime.now(dt.UTC)
        started = time.monotonic()
        try:
            response = session.request(
                exchange.verb, prepared.url, timeout=self.timeout, headers=prepared.headers, **prepared.kwargs
            )
            exchange.status = response.status_code
            exchange.headers = dict(response.headers)
            exchange.body = response.content[:KEPT_BYTES]
            prepared.response = response
        except requests.RequestException as error:
            exchange.error = f"{type(error).__name__}: {error}"
        exchange.seconds = time.monotonic() - started
        return prepared

    def prepare(self, method: Method, params: dict, *, auth: bool, **how) -> Prepared | Reply:
        raise NotImplementedError

    def read(self, prepared: Prepared) -> Reply:
        raise NotImplementedError

    def headers(self, auth: bool) -> dict[str, str]:
        return self.credentials.header() if auth else {}


@dataclass
class Prepared:
    method: Method
    url: str
    headers: dict[str, str]
    kwargs: dict[str, Any]
    exchange: Exchange
    operation: Any = None
    response: requests.Response | None = None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# ---------------------------------------------------------------------------------------- REST


class RestTarget(Target):
    """tuOtempO's REST calls: lower-case paths and parameter names, reads by GET, writes by POST (JSON)."""

    surface = "rest"

    def __init__(self, url: str, credentials: Credentials, timeout: float):
        super().__init__(url, credentials, timeout)
        self.base = url.rstrip("/")

    def prepare(
        self, method: Method, params: dict, *, auth: bool, path: str | None = None, upper: bool = False, verb=None
    ) -> Prepared:
        names = {k: (k.upper() if upper else k.lower()) for k in params}
        sent = {names[k]: v for k, v in params.items()}
        verb = verb or ("POST" if method.write else "GET")
        url = f"{self.base}/{path or method.rest_path}"
        headers = self.headers(auth)
        if verb == "GET":
            kwargs = {"params": sent}
            body = ""
        else:
            body = json.dumps(sent, ensure_ascii=False)
            kwargs = {"data": body.encode("utf-8")}
            headers = headers | {"Content-Type": "application/json"}
        exchange = Exchange("rest", method.name, verb, url, sent, _now(), body_sent=body)
        return Prepared(method, url, headers, kwargs, exchange)

    def read(self, prepared: Prepared) -> Reply:
        exchange, method = prepared.exchange, prepared.method
        reply = Reply(exchange, method)
        if exchange.error:
            reply.problem = f"no answer ({exchange.error})"
            return reply
        response = prepared.response
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            reply.problem = f"the answer (HTTP {exchange.status}) is not a JSON object"
            reply.envelope_problems.append(reply.problem)
            reply.code = HTTP_CODES.get(exchange.status, f"HTTP {exchange.status}") if exchange.status != 200 else None
            return reply
        problems = reply.envelope_problems
        missing = [key for key in ("result", "return", "msg") if key not in body]
        if missing:
            problems.append(f"the envelope has no {', '.join(missing)}")
        result = body.get("result")
        if result not in ("OK", "ERROR"):
            problems.append(f'"result" is {result!r}, not "OK" or "ERROR"')
        if result == "ERROR" and not body.get("code"):
            problems.append('an ERROR answer without "code"')
        if result == "OK" and exchange.status != 200:
            problems.append(f'"result": "OK" with HTTP {exchange.status}')
        if result == "ERROR" and (exchange.status or 0) < 400:
            problems.append(f'"result": "ERROR" with HTTP {exchange.status}')
        reply.payload = body.get("return")
        reply.message = body.get("msg")
        if result != "OK":
            reply.code = body.get("code") or HTTP_CODES.get(exchange.status) or f"HTTP {exchange.status}"
        elif method.many and not isinstance(reply.payload, list):
            problems.append(f'{method.name} answered {type(reply.payload).__name__} in "return", not a list')
        for row in reply.records():
            content = row.get("DOWNLOAD_CONTENT")
            if isinstance(content, str):
                try:
                    row["DOWNLOAD_CONTENT"] = base64.b64decode(content, validate=True)
                except (binascii.Error, ValueError):
                    row["DOWNLOAD_CONTENT"] = b""
                    reply.problem = "DOWNLOAD_CONTENT is not base64"
        return reply


# ---------------------------------------------------------------------------------------- SOAP


class WsdlError(Exception):
    pass


class SoapTarget(Target):
    """SOAP 1.1 calls built from the endpoint's own WSDL by zeep, sent to the URL given (not to the
    WSDL's address, which a server behind a proxy may get wrong)."""

    surface = "soap"

    def __init__(self, url: str, credentials: Credentials, timeout: float):
        super().__init__(url, credentials, timeout)
        self.url = url.split("?", 1)[0]
        self.wsdl_url = self.url + "?wsdl"
        self.client: zeep.Client | None = None
        self.wsdl_exchange: Exchange | None = None
        self.operations: dict[str, Any] = {}
        self.binding = None
        self.proxy = None

    def load(self) -> Exchange:
        """Fetches and reads the WSDL; raises WsdlError saying why it cannot be used."""
        exchange = Exchange("soap", "WSDL", "GET", self.wsdl_url, {}, _now())
        started = time.monotonic()
        try:
            response = self.session.get(self.wsdl_url, timeout=self.timeout, headers=self.headers(True))
            exchange.status, exchange.body = response.status_code, response.content[:KEPT_BYTES]
            exchange.headers = dict(response.headers)
        except requests.RequestException as error:
            exchange.error = f"{type(error).__name__}: {error}"
        exchange.seconds = time.monotonic() - started
        self.wsdl_exchange = exchange
        if exchange.error or exchange.status != 200:
            raise WsdlError(f"GET {self.wsdl_url} gave {exchange.excerpt(200)}")
        session = self._session()
        session.headers.update(self.headers(True))
        transport = zeep.Transport(session=session, timeout=self.timeout, operation_timeout=self.timeout)
        try:
            self.client = zeep.Client(
                self.wsdl_url, transport=transport, settings=zeep.Settings(strict=False, xml_huge_tree=True)
            )
        except (ZeepError, etree.XMLSyntaxError, ValueError, KeyError, requests.RequestException) as error:
            raise WsdlError(f"zeep cannot read the WSDL: {error}") from None
        for service in self.client.wsdl.services.values():
            for port in service.ports.values():
                if type(port.binding).__name__ == "Soap11Binding":
                    self.binding, self.proxy = port.binding, self.client.bind(service.name, port.name)
                    self.operations = dict(port.binding.all())
                    return exchange
        raise WsdlError("the WSDL has no SOAP 1.1 binding")

    def declared_params(self, operation) -> list[str]:
        body = operation.input.body
        return [name for name, _ in body.type.elements] if body is not None else []

    def prepare(self, method: Method, params: dict, *, auth: bool, **_) -> Prepared | Reply:
        exchange = Exchange("soap", method.name, "POST", self.url, dict(params), _now())
        operation = self.operations.get(method.name)
        if operation is None:
            return Reply(exchange, method, missing_operation=True, problem=f"the WSDL has no operation {method.name}")
        declared = set(self.declared_params(operation))
        # What the WSDL does not declare cannot be sent (WSDL-PARAMS reports it).
        sent = {k: v for k, v in params.items() if k in declared}
        exchange.params = sent
        envelope = self.client.create_message(self.proxy, method.name, **sent)
        body = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
        headers = self.headers(auth) | {
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": f'"{operation.soapaction or method.name}"',
        }
        exchange.body_sent = body.decode("utf-8")
        return Prepared(method, self.url, headers, {"data": body}, exchange, operation=operation)

    def read(self, prepared: Prepared) -> Reply:
        exchange, method = prepared.exchange, prepared.method
        reply = Reply(exchange, method)
        if exchange.error:
            reply.problem = f"no answer ({exchange.error})"
            return reply
        response = prepared.response
        if exchange.status in HTTP_CODES and not _looks_like_xml(response.content):
            reply.code = HTTP_CODES[exchange.status]
            reply.message = response.text[:300]
            return reply
        try:
            result = self.binding.process_reply(self.client, prepared.operation, response)
        except Fault as fault:
            reply.fault = fault.code or "(no faultcode)"
            local = reply.fault.split(":")[-1]
            reply.code = FAULT_CODES.get(local, local)
            reply.message = fault.message
            return reply
        except (ZeepError, etree.XMLSyntaxError, ValueError, TypeError, AttributeError) as error:
            reply.problem = f"the answer (HTTP {exchange.status}) cannot be read with the WSDL: {error}"
            return reply
        payload = _unwrap(plain(serialize_object(result, dict)), method)
        reply.payload = payload
        reply.absent = _absent_elements(response.content, method)
        return reply


def _looks_like_xml(content: bytes) -> bool:
    return content.lstrip()[:1] == b"<"


def _unwrap(value: Any, method: Method) -> Any:
    """A list method's records whatever the WSDL's wrapping (zeep gives a list, or the array type
    holding one, or a single record where a server declared one), and one method's record."""
    fields = set(method.field_names)
    if not method.many:
        if isinstance(value, dict) and not fields & set(value) and len(value) == 1:
            return _unwrap(next(iter(value.values())), method)
        return value
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        if fields & set(value):
            return [value]  # one record where a list was expected (see FACTS: one-element arrays)
        if len(value) == 1:
            return _unwrap(next(iter(value.values())), method)
    return value


def _absent_elements(content: bytes, method: Method) -> set[str]:
    """Declared fields of the answer's records that have no element at all (not even xsi:nil)."""
    try:
        root = etree.fromstring(content, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
    except etree.XMLSyntaxError:
        return set()
    body = root.find(f"{{{SOAP_ENV}}}Body")
    response = next(iter(body), None) if body is not None else None
    result = next(iter(response), None) if response is not None else None
    if result is None:
        return set()
    records = list(result) if method.many else [result]
    absent: set[str] = set()
    for record in records:
        present = {etree.QName(child).localname for child in record if isinstance(child.tag, str)}
        absent |= set(method.field_names) - present
    return absent
