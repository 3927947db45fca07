"""Real clients for the two surfaces, so that one scenario table runs through both.

SOAP goes through zeep against a live server, REST through `requests` over HTTP. Both give an
`Outcome` in the same shape, with the contract's error code whatever the surface.
"""

import base64
from dataclasses import dataclass
from typing import Any

import requests
import zeep
from zeep.exceptions import Fault, TransportError
from zeep.helpers import serialize_object

from webservices.registry import Method, methods

# The contract's table (section 3), written out: a renamed fault must fail the tests.
FAULT_CODES = {
    "Client.Forbidden": "FORBIDDEN",
    "Client.InvalidInput": "INVALID_INPUT",
    "Client.NotFound": "NOT_FOUND",
    "Client.Conflict": "CONFLICT",
    "Client.Throttled": "THROTTLED",
    "Server.Unavailable": "SERVICE_UNAVAILABLE",
}
HTTP_CODES = {401: "UNAUTHORIZED", 413: "TOO_LARGE", 429: "THROTTLED", 503: "SERVICE_UNAVAILABLE"}
RESULT_FIELDS = ("ADD_RESULT", "DELETE_RESULT", "RESULT")
WRITES = {m.name for m in methods() if m.write}


@dataclass(frozen=True)
class Credentials:
    name: str
    secret: str

    def basic(self) -> str:
        return "Basic " + base64.b64encode(f"{self.name}:{self.secret}".encode()).decode()

    def bearer(self) -> str:
        return f"Bearer {self.secret}"


@dataclass
class Outcome:
    ok: bool
    code: str | None
    payload: Any
    status: int
    message: str | None = None
    headers: dict | None = None


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def business_ok(payload) -> bool:
    if isinstance(payload, dict):
        return all(payload.get(f) in (None, "OK") for f in RESULT_FIELDS if f in payload)
    return True


class Rest:
    name = "rest"

    def __init__(self, base_url: str):
        self.base_url = base_url

    def call(
        self,
        method: str,
        params: dict | None = None,
        *,
        authorization: str | None = None,
        verb: str | None = None,
        raw_body: bytes | None = None,
        headers: dict | None = None,
    ) -> Outcome:
        verb = verb or ("POST" if method in WRITES else "GET")
        url = f"{self.base_url}/api/{method.lower()}"
        all_headers = dict(headers or {})
        if authorization:
            all_headers["Authorization"] = authorization
        if raw_body is not None:
            response = requests.post(url, data=raw_body, headers=all_headers, timeout=60)
        elif verb == "GET":
            response = requests.get(url, params=params or {}, headers=all_headers, timeout=60)
        else:
            response = requests.post(url, json=params or {}, headers=all_headers, timeout=60)
        body = response.json()
        assert set(body) >= {"result", "return", "msg"}, body
        ok = body["result"] == "OK"
        return Outcome(
            ok=ok,
            code=None if ok else body.get("code"),
            payload=body["return"],
            status=response.status_code,
            message=body["msg"],
            headers=dict(response.headers),
        )


class Soap:
    name = "soap"

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.session = requests.Session()
        # Results of 20 MB travel as one base64 text node: lxml-based clients need huge_tree for them.
        self.client = zeep.Client(
            f"{base_url}/soap/?wsdl",
            transport=zeep.Transport(session=self.session),
            settings=zeep.Settings(xml_huge_tree=True),
        )
        # The WSDL names the host of the first request that built it: calls go to this server whatever
        # it says (a second test session in one process, as mutation testing runs, has another port).
        self.client.service._binding_options["address"] = f"{base_url}/soap/"

    def call(self, method: str, params: dict | None = None, *, authorization: str | None = None, **_) -> Outcome:
        self.session.headers.pop("Authorization", None)
        if authorization:
            self.session.headers["Authorization"] = authorization
        declared = spec(method)
        try:
            result = getattr(self.client.service, method)(**(params or {}))
        except Fault as fault:
            code = FAULT_CODES.get((fault.code or "").split(":")[-1], f"unexpected fault {fault.code}")
            return Outcome(ok=False, code=code, payload=None, status=500, message=fault.message)
        except TransportError as error:
            return Outcome(
                ok=False,
                code=HTTP_CODES.get(error.status_code),
                payload=None,
                status=error.status_code,
                message=error.content.decode("utf-8", "replace") if error.content else None,
            )
        payload = _plain(serialize_object(result, dict))
        if declared.many:
            payload = payload or []
        for name in declared.binary_fields:
            if isinstance(payload, dict) and payload.get(name) is not None:
                payload[name] = base64.b64encode(payload[name]).decode("ascii")
        return Outcome(ok=business_ok(payload), code=None, payload=payload, status=200)


def spec(name: str) -> Method:
    return {m.name: m for m in methods()}[name]
