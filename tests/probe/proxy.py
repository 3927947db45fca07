"""Broken servers for the probe to catch: a small WSGI proxy in front of a live server of this
project that applies ONE defect to what it answers (dates rewritten, slots reversed, a field
dropped, an ADD_RESULT=ERROR turned into a fault, simultaneous bookings all answered OK).

The proxy forwards the request to the live server without its Host header, so the server (and
spyne's WSDL, cached with the host of its first request) only ever sees its own address.
"""

from __future__ import annotations

import json
import re
import socketserver
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import requests
from lxml import etree

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
FORWARDED = ("Authorization", "Content-Type", "SOAPAction")
_OPERATION = re.compile(rb"<(?:[\w.-]+:)?Body[^>]*>\s*<(?:[\w.-]+:)?([\w.-]+)")


@dataclass
class Call:
    """One request through the proxy, and the answer the live server gave."""

    surface: str  # "soap" or "rest"
    method: str  # lower case: "addappointment"
    body: bytes
    query: str
    status: int = 0
    content: bytes = b""
    headers: dict = field(default_factory=dict)

    def param(self, name: str) -> str | None:
        if self.surface == "soap":
            match = re.search(rb"<(?:[\w.-]+:)?" + name.encode() + rb">([^<]*)<", self.body)
            return match[1].decode() if match else None
        try:
            values = json.loads(self.body or b"{}")
        except ValueError:
            return None
        return next((str(v) for k, v in values.items() if k.upper() == name), None)

    # Reading and writing the answer as records, whatever the surface.

    def records(self) -> list[dict]:
        try:
            if self.surface == "rest":
                payload = json.loads(self.content).get("return")
                return payload if isinstance(payload, list) else [payload] if isinstance(payload, dict) else []
            return [{etree.QName(c).localname: c.text for c in r} for r in self._soap_records()]
        except (ValueError, AttributeError, TypeError, etree.XMLSyntaxError):
            return []

    def _soap_root(self):
        if not hasattr(self, "_root"):
            self._root = etree.fromstring(self.content)
        return self._root

    def _soap_result(self):
        body = self._soap_root().find(f"{{{SOAP_ENV}}}Body")
        response = next(iter(body), None)
        return next(iter(response), None) if response is not None else None

    def _soap_records(self) -> list:
        result = self._soap_result()
        if result is None:
            return []
        return list(result) if len(result) and len(result[0]) else [result]


class Defect:
    """Applied to each answer; `before` sees each request as it arrives."""

    def before(self, call: Call) -> object:
        return None

    def after(self, call: Call, token: object) -> None:
        raise NotImplementedError


class WrongDateFormat(Defect):
    """Every dd/mm/yyyy date answered as yyyy-mm-dd."""

    def after(self, call, token):
        call.content = re.sub(rb"\b(\d{2})/(\d{2})/(\d{4})\b", rb"\3-\2-\1", call.content)


class UnorderedSlots(Defect):
    """searchAvailabilities answers its slots latest first."""

    def after(self, call, token):
        if call.method != "searchavailabilities" or call.status != 200:
            return
        if call.surface == "rest":
            body = json.loads(call.content)
            body["return"] = list(reversed(body["return"]))
            call.content = json.dumps(body).encode()
        else:
            result = call._soap_result()
            result[:] = list(reversed(list(result)))
            call.content = etree.tostring(call._soap_root(), xml_declaration=True, encoding="utf-8")


class MissingField(Defect):
    """One field dropped from every record of one method's answers."""

    def __init__(self, method: str, name: str):
        self.method, self.name = method.lower(), name

    def after(self, call, token):
        if call.method != self.method or call.status != 200:
            return
        if call.surface == "rest":
            body = json.loads(call.content)
            for record in body["return"]:
                record.pop(self.name, None)
            call.content = json.dumps(body).encode()
        else:
            for record in call._soap_records():
                for child in list(record):
                    if etree.QName(child).localname == self.name:
                        record.remove(child)
            call.content = etree.tostring(call._soap_root(), xml_declaration=True, encoding="utf-8")


class FaultInsteadOfError(Defect):
    """A failed addAppointment answered as SOAP faults are (REST: an error envelope without the
    method's answer), not with ADD_RESULT=ERROR."""

    def after(self, call, token):
        if call.method != "addappointment":
            return
        records = call.records()
        if not records or records[0].get("ADD_RESULT") != "ERROR":
            return
        message = records[0].get("ERROR_MESSAGE") or "error"
        if call.surface == "rest":
            body = json.loads(call.content)
            body["return"] = None
            call.content = json.dumps(body).encode()
            return
        call.status = 500
        call.content = (
            f"<?xml version='1.0' encoding='UTF-8'?><soap11env:Envelope xmlns:soap11env=\"{SOAP_ENV}\">"
            f"<soap11env:Body><soap11env:Fault><faultcode>soap11env:Client</faultcode>"
            f"<faultstring>{message}</faultstring></soap11env:Fault></soap11env:Body></soap11env:Envelope>"
        ).encode()


class DoubleBooking(Defect):
    """Bookings of one slot that arrive while another is in flight are all answered OK: the first
    one's answer, repeated (what a check-then-insert server without a lock ends up saying)."""

    def __init__(self):
        self.lock = threading.Condition()
        self.in_flight: dict[str, set[int]] = {}
        self.overlapped: set[int] = set()
        self.won: dict[str, dict] = {}
        self.next = 0

    def before(self, call):
        if call.method != "addappointment":
            return None
        key = call.param("AVAILABILITY_LID")
        with self.lock:
            self.next += 1
            token = self.next
            peers = self.in_flight.setdefault(key, set())
            if peers:
                self.overlapped |= peers | {token}
            peers.add(token)
        return (key, token)

    def after(self, call, token):
        if token is None:
            return
        key, me = token
        records = call.records()
        result = records[0].get("ADD_RESULT") if records else None
        with self.lock:
            if result == "OK":
                self.won[key] = records[0]
                self.lock.notify_all()
            elif result == "ERROR" and me in self.overlapped:
                self.lock.wait_for(lambda: key in self.won, timeout=10)
                if key in self.won:
                    self._answer_ok(call, self.won[key])
            self.in_flight[key].discard(me)

    @staticmethod
    def _answer_ok(call: Call, won: dict) -> None:
        call.status = 200
        if call.surface == "rest":
            answer = {"ADD_RESULT": "OK", "ERROR_MESSAGE": None, "APP_LID": won["APP_LID"], "USER_LID": won["USER_LID"]}
            call.content = json.dumps({"result": "OK", "return": answer, "msg": None}).encode()
            return
        result = call._soap_result()
        namespace = etree.QName(result).namespace
        for child in list(result):
            result.remove(child)
        for name in ("ADD_RESULT", "APP_LID", "USER_LID"):
            etree.SubElement(result, f"{{{namespace}}}{name}").text = "OK" if name == "ADD_RESULT" else won[name]
        call.content = etree.tostring(call._soap_root(), xml_declaration=True, encoding="utf-8")


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # the signature of the base class
        pass


class Proxy:
    """`with Proxy(live_server.url, defect) as url:` gives the broken server's base URL."""

    def __init__(self, upstream: str, defect: Defect):
        self.upstream = upstream.rstrip("/")
        self.defect = defect
        self.session = requests.Session()

    def __enter__(self) -> str:
        self.server = make_server("127.0.0.1", 0, self.app, server_class=_ThreadingServer, handler_class=_QuietHandler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_port}"

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def app(self, environ, start_response):
        path, query = environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        surface = "soap" if path.startswith("/soap") else "rest"
        if surface == "soap":
            match = _OPERATION.search(body)
            method = match[1].decode().lower() if match else ""
        else:
            method = path.rsplit("/", 1)[-1].lower()
        call = Call(surface, method, body, query)
        token = self.defect.before(call)
        headers = {
            name: environ[key] for name in FORWARDED if (key := "HTTP_" + name.upper().replace("-", "_")) in environ
        }
        if "CONTENT_TYPE" in environ:
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        response = requests.request(
            environ["REQUEST_METHOD"],
            f"{self.upstream}{path}" + (f"?{query}" if query else ""),
            data=body,
            headers=headers,
            timeout=60,
        )
        call.status, call.content = response.status_code, response.content
        call.headers = {
            k: v
            for k, v in response.headers.items()
            if k.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding")
        }
        if environ["REQUEST_METHOD"] == "POST" or method:
            self.defect.after(call, token)
        reason = HTTPStatus(call.status).phrase
        start_response(f"{call.status} {reason}", [*call.headers.items(), ("Content-Length", str(len(call.content)))])
        return [call.content]
