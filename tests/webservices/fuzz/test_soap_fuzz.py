"""Hostile and generated SOAP requests, POSTed as raw bytes to /soap/ with a valid client's credentials.

Whatever arrives, the hospital answers within a bounded time with either a proper answer (a
generated envelope may happen to be a valid call), a SOAP Client fault or an HTTP 4xx: never a
Server fault, never another 5xx, never a traceback, never the content of a file, never a
connection to an address named in the request. Afterwards it still answers GetCenters.

SOAP 1.1 faults travel with HTTP 500, so faults are judged by their faultcode, not by the status.
"""

import resource
import socket
import threading
import time
from dataclasses import dataclass

import pytest
import requests
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from lxml import etree

from tests.webservices.fuzz.conftest import KNOWN_IDS, TALLY
from webservices.registry import methods

pytestmark = [pytest.mark.fuzz, pytest.mark.live]

TNS = "http://tuotempo.his/ws"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
ANSWER_WITHIN = 10.0  # seconds: a hang detector, not a performance figure
GENERATED_ENVELOPES = 200
MEMORY_GROWTH_LIMIT_MB = 300
OPERATIONS = {m.name: [p.name for p in m.all_params()] for m in methods()}
# The first line of /etc/passwd on every Unix: it must never come back in an answer.
FILE_MARKERS = (b"root:x:0:0", b"root:*:0:0", b"/bin/sh", b"/bin/bash", b"nologin")
TRACEBACK_MARKERS = (b"Traceback (most recent call last)", b'File "/', b"Error at 0x")


def envelope(inner: str, *, env_ns: str = SOAP_ENV, header: str = "", declaration: str | None = None) -> bytes:
    xml_decl = '<?xml version="1.0" encoding="UTF-8"?>' if declaration is None else declaration
    return (
        f'{xml_decl}<soapenv:Envelope xmlns:soapenv="{env_ns}" xmlns:tns="{TNS}">'
        f"<soapenv:Header>{header}</soapenv:Header><soapenv:Body>{inner}</soapenv:Body></soapenv:Envelope>"
    ).encode()


def operation(name: str, **fields: str) -> str:
    inner = "".join(f"<tns:{k}>{v}</tns:{k}>" for k, v in fields.items())
    return f"<tns:{name}>{inner}</tns:{name}>"


@dataclass
class Verdict:
    kind: str  # "answer", "business error", "client fault", "HTTP 4xx" or "WSDL"
    status: int
    faultcode: str | None
    body: bytes


def judge(response: requests.Response, elapsed: float, *, method: str = "POST") -> Verdict:
    """What the hospital answered, failing the test on anything outside the contract."""
    body = response.content
    assert elapsed < ANSWER_WITHIN, f"answered after {elapsed:.1f} s"
    for marker in TRACEBACK_MARKERS + FILE_MARKERS:
        assert marker not in body, f"the answer shows {marker!r}: {body[:500]!r}"
    status = response.status_code
    if 400 <= status < 500:
        return Verdict("HTTP 4xx", status, None, body)
    assert status in (200, 500), f"HTTP {status}: {body[:500]!r}"
    try:
        document = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as error:
        raise AssertionError(f"HTTP {status} with a body that is not XML ({error}): {body[:500]!r}") from None
    if method == "GET" and status == 200:
        assert document.tag == f"{{{WSDL}}}definitions", body[:500]
        return Verdict("WSDL", status, None, body)
    assert document.tag == f"{{{SOAP_ENV}}}Envelope", body[:500]
    fault = document.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    if status == 200:
        assert fault is None, f"a fault with HTTP 200: {body[:500]!r}"
        # Write methods report their failures inside the answer (ADD_RESULT=ERROR...), as the guide says.
        results = {e.text for e in document.iter() if isinstance(e.tag, str) and e.tag.endswith("_RESULT")}
        return Verdict("business error" if "ERROR" in results else "answer", status, None, body)
    assert fault is not None, f"HTTP 500 without a SOAP fault: {body[:500]!r}"
    faultcode = fault.findtext("faultcode") or ""
    assert "Client" in faultcode, f"a {faultcode} fault (the server's fault, not the caller's): {body[:500]!r}"
    return Verdict("client fault", status, faultcode, body)


@pytest.fixture
def soap(live_server, bearer, fuzz_hospital, request):
    """POSTs raw bytes to /soap/ with valid credentials and judges the answer."""
    url = f"{live_server.url}/soap/"
    session = requests.Session()
    test_name = request.node.originalname

    def post(
        body: bytes, *, headers: dict | None = None, method: str = "POST", path: str = "/soap/", group: str = test_name
    ) -> Verdict:
        all_headers = {"Authorization": bearer, "Content-Type": "text/xml; charset=utf-8", **(headers or {})}
        started = time.monotonic()
        response = session.request(
            method, f"{live_server.url}{path}", data=body, headers=all_headers, timeout=ANSWER_WITHIN * 3
        )
        verdict = judge(response, time.monotonic() - started, method=method)
        TALLY["SOAP requests", group, verdict.faultcode or f"{verdict.kind} {verdict.status}"] += 1
        return verdict

    post.url = url
    yield post
    # Whatever came before, the hospital still answers a plain call.
    still = post(envelope(operation("GetCenters")), group="GetCenters afterwards")
    assert still.kind == "answer" and KNOWN_IDS["CENTER_LID"].encode() in still.body, still.body[:500]
    session.close()


@pytest.fixture
def listener():
    """A TCP port on 127.0.0.1 that records every connection made to it."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    connections: list[tuple] = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, address = server.accept()
            except (TimeoutError, OSError):
                continue
            connections.append(address)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], connections
    stop.set()
    thread.join(timeout=2)
    server.close()


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ------------------------------------------------------------------ hand-written hostile requests


def deep(levels: int) -> str:
    return "<a>" * levels + "x" + "</a>" * levels


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + "]>"
)

REFUSED = {
    # Malformed XML
    "not XML at all": b"hello, hospital",
    "an unclosed envelope": b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">',
    "a truncated call": envelope(operation("checkAppointment", APP_LID="FZAPP"))[:-30],
    "mismatched tags": envelope("<tns:checkAppointment><tns:APP_LID>FZAPP</tns:USER_LID></tns:checkAppointment>"),
    "an undeclared prefix": envelope("<nope:checkAppointment/>"),
    "binary noise": bytes(range(256)) * 4,
    "a lone angle bracket": b"<",
    "two root elements": envelope(operation("GetCenters")) + envelope(operation("GetCenters")).split(b"?>", 1)[1],
    "an empty body": b"",
    "only whitespace": b"   \n\t  ",
    "a control character in text": envelope(operation("checkAppointment", APP_LID="FZ\x01APP")),
    # Wrong namespaces
    "the operation in another namespace": envelope(
        '<x:checkAppointment xmlns:x="urn:other"><x:APP_LID>FZAPP</x:APP_LID></x:checkAppointment>'
    ),
    "the operation in no namespace": envelope("<checkAppointment><APP_LID>FZAPP</APP_LID></checkAppointment>"),
    "a SOAP 1.2 envelope": envelope(operation("GetCenters"), env_ns=SOAP12_ENV),
    "an envelope in no namespace": b"<Envelope><Body><GetCenters/></Body></Envelope>",
    "a body outside the envelope namespace": (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns:tns="{TNS}">'
        "<Body><tns:GetCenters/></Body></soapenv:Envelope>"
    ).encode(),
    "not an envelope": f'<tns:GetCenters xmlns:tns="{TNS}"/>'.encode(),
    # Missing and extra elements
    "no Body": f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Header/></soapenv:Envelope>'.encode(),
    "an empty Body": envelope(""),
    "a required field missing": envelope(operation("checkAppointment")),
    "a required field empty": envelope(operation("checkAppointment", APP_LID="")),
    "a field given twice": envelope(
        "<tns:checkAppointment><tns:APP_LID>FZAPP</tns:APP_LID><tns:APP_LID>X</tns:APP_LID></tns:checkAppointment>"
    ),
    # Wrong types
    "a structure where text is expected": envelope(operation("checkAppointment", APP_LID="<tns:x>FZAPP</tns:x>")),
    "a number that is not one": envelope(
        operation("searchAvailabilities", ACTIVITY_LID="FZA", AVA_RESULTS_NUMBER="many")
    ),
    "a date that is not one": envelope(
        operation("searchAvailabilities", ACTIVITY_LID="FZA", AVA_START_DAY="31/02/2026")
    ),
    "a time that is not one": envelope(operation("searchAvailabilities", ACTIVITY_LID="FZA", AVA_START_TIME="25:61")),
    "base64 where text is expected": envelope(
        operation("addAppointment", AVAILABILITY_LID="AAAA" * 10, USER_LID="FZP", NOTES="<![CDATA[x]]>")
    ),
    # Huge and deep
    "1 MB of text in a field": envelope(operation("checkAppointment", APP_LID="A" * 1_000_000)),
    "1 MB of text in NOTES": envelope(
        operation("addAppointment", AVAILABILITY_LID="x", USER_LID="FZP", NOTES="n" * 1_000_000)
    ),
    "10,000 levels of nesting in a field": envelope(operation("checkAppointment", APP_LID=deep(10_000))),
    "10,000 levels of nesting in the Header": envelope(operation("GetCenters"), header=deep(10_000)),
    "10,000 levels of nesting as the whole document": deep(10_000).encode(),
    "a 1 MB element name": envelope(f"<tns:{'N' * 1_000_000}/>"),
    "100,000 attributes": envelope("<tns:checkAppointment " + " ".join(f'a{i}="{i}"' for i in range(100_000)) + "/>"),
    # Non-UTF-8 bytes and wrong encoding declarations
    "invalid UTF-8 in a field": envelope(operation("checkAppointment", APP_LID="FZAPP")).replace(
        b"FZAPP", b"FZ\xff\xfeAPP"
    ),
    "UTF-8 declared as UTF-16": envelope(
        operation("checkAppointment", APP_LID="FZAPP"), declaration='<?xml version="1.0" encoding="UTF-16"?>'
    ),
    "an unknown encoding": envelope(
        operation("GetCenters"), declaration='<?xml version="1.0" encoding="X-NO-SUCH-CHARSET"?>'
    ),
    "lone surrogates": envelope(operation("checkAppointment", APP_LID="FZAPP")).replace(b"FZAPP", b"\xed\xa0\x80"),
    "an XML 1.1 declaration with a control character": envelope(
        operation("checkAppointment", APP_LID="&#1;"), declaration='<?xml version="1.1" encoding="UTF-8"?>'
    ),
    # Entity expansion
    "billion laughs": BILLION_LAUGHS.encode()
    + envelope(operation("checkAppointment", APP_LID="&lol9;"), declaration=""),
    "billion laughs in UTF-16": (
        BILLION_LAUGHS.replace('version="1.0"', 'version="1.0" encoding="UTF-16"')
        + envelope(operation("checkAppointment", APP_LID="&lol9;"), declaration="").decode()
    ).encode("utf-16"),
    "an undeclared entity": envelope(operation("checkAppointment", APP_LID="&xxe;")),
    "a character reference to NUL": envelope(operation("checkAppointment", APP_LID="FZ&#0;APP")),
    # Unknown operations
    "an unknown operation": envelope(operation("dropAllTables")),
    "an operation in the wrong case": envelope(operation("getcenters")),
    "an operation with a dotted name": envelope(operation("his.admin.delete")),
}


# References a parser could follow but ours does not: the call is answered, nothing is fetched.
FETCHES_NOTHING = {"XInclude over the network", "a schemaLocation over the network"}


def xxe_cases(port: int) -> dict[str, bytes]:
    """Entities that read a file or open a connection, in every shape that reaches a parser."""
    body = envelope(operation("checkAppointment", APP_LID="&xxe;"), declaration="")
    url = f"http://127.0.0.1:{port}"
    return {
        "XXE: a file": b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' + body,
        "XXE: the network": f'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY xxe SYSTEM "{url}/entity">]>'.encode() + body,
        "XXE: an external DTD": f'<?xml version="1.0"?><!DOCTYPE e SYSTEM "{url}/dtd">'.encode() + body,
        "XXE: a parameter entity": (
            f'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY % p SYSTEM "{url}/param"> %p;]>'.encode() + body
        ),
        "XXE: lower-case and spaced": f'<!doctype e [<!entity  xxe SYSTEM "{url}/lower">]>'.encode() + body,
        "XXE: a file, in UTF-16": (
            '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE e [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            + body.decode()
        ).encode("utf-16"),
        "XXE: the network, in UTF-16 big-endian without BOM": (
            f'<?xml version="1.0" encoding="UTF-16BE"?><!DOCTYPE e [<!ENTITY xxe SYSTEM "{url}/utf16be">]>'
            + body.decode()
        ).encode("utf-16-be"),
        "XXE: the network, in UTF-32": (
            f'<?xml version="1.0" encoding="UTF-32"?><!DOCTYPE e [<!ENTITY xxe SYSTEM "{url}/utf32">]>' + body.decode()
        ).encode("utf-32"),
        "XXE: the network, in EBCDIC": (
            f'<?xml version="1.0" encoding="IBM037"?><!DOCTYPE e [<!ENTITY xxe SYSTEM "{url}/ebcdic">]>' + body.decode()
        ).encode("cp037"),
        "XInclude of a file": envelope(
            '<tns:checkAppointment><tns:APP_LID><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
            'href="file:///etc/passwd" parse="text"/></tns:APP_LID></tns:checkAppointment>'
        ),
        "XInclude over the network": envelope(
            f'<tns:GetCenters><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{url}/xinclude"/>'
            "</tns:GetCenters>"
        ),
        "a schemaLocation over the network": envelope(
            '<tns:GetCenters xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'xsi:schemaLocation="{TNS} {url}/schema.xsd"/>'
        ),
    }


def test_hostile_requests_get_a_client_fault_or_a_4xx_in_bounded_time_and_memory(soap, listener, settings):
    port, connections = listener
    settings.HIS_MAX_BODY_BYTES = 3_000_000  # so that a refused body needs no 25 MB upload
    cases = REFUSED | xxe_cases(port) | {"a body over the size limit": envelope("x" * 3_500_000)}
    before = max_rss_mb()
    verdicts = {}
    for name, body in cases.items():
        verdicts[name] = soap(body)
    growth = max_rss_mb() - before

    refusals = ("client fault", "HTTP 4xx", "business error")  # write methods refuse inside their answer
    accepted = {
        name: v.body[:300] for name, v in verdicts.items() if v.kind not in refusals and name not in FETCHES_NOTHING
    }
    assert accepted == {}, accepted
    assert verdicts["a body over the size limit"].status == 413
    assert verdicts["an unknown operation"].faultcode == "soap11env:Client.InvalidInput"
    assert verdicts["a required field missing"].faultcode == "soap11env:Client.InvalidInput"
    assert b"APP_LID" in verdicts["a required field missing"].body
    assert connections == [], f"the server connected to the test's port: {connections}"
    assert growth < MEMORY_GROWTH_LIMIT_MB, f"memory grew by {growth:.0f} MB"


def test_extra_input_is_read_and_other_encodings_than_utf8_are_refused(soap):
    """What is well-formed but unusual still gets a real answer: unknown elements are ignored, comments
    and processing instructions are skipped. A body in another encoding than UTF-8 or UTF-16 is refused
    by name (UTF-7 could carry markup past the checks)."""
    extra = soap(
        envelope(
            "<tns:checkAppointment><tns:APP_LID>FZAPP</tns:APP_LID><tns:NO_SUCH_FIELD>x</tns:NO_SUCH_FIELD>"
            f"<tns:BIG>{'b' * 1_000_000}</tns:BIG></tns:checkAppointment>"
        )
    )
    assert extra.kind == "answer" and b"<tns:STATUS>Confirmed</tns:STATUS>" in extra.body, extra.body[:500]

    # The XML declaration names the encoding, not the HTTP header: undeclared latin-1 is not UTF-8.
    latin1 = soap(
        envelope(operation("checkAppointment", APP_LID="FZAPPé"), declaration="").replace(b"\xc3\xa9", b"\xe9"),
        headers={"Content-Type": "text/xml; charset=iso-8859-1"},
    )
    assert latin1.faultcode == "soap11env:Client.InvalidInput", latin1.body[:500]

    commented = soap(envelope(operation("checkAppointment", APP_LID="<!-- c --><?pi x?>FZAPP")))
    assert commented.kind == "answer" and b"<tns:APP_LID>FZAPP</tns:APP_LID>" in commented.body, commented.body[:500]

    for encoding in (b"ISO-8859-1", b"UTF-7"):
        declared = soap(
            b'<?xml version="1.0" encoding="'
            + encoding
            + b'"?>'
            + envelope(operation("checkAppointment", APP_LID="FZAPP"), declaration="")
        )
        assert declared.faultcode == "soap11env:Client.InvalidInput", declared.body[:500]
        assert b"declares the encoding '" + encoding + b"'" in declared.body, declared.body[:500]


ODD_QUERIES = [
    "?wsdl",
    "?WSDL",
    "?wsdl=../../../../etc/passwd",
    "?xsd=file:///etc/passwd",
    "?%00",
    "?wsdl&wsdl&wsdl",
    "?<script>alert(1)</script>",
    "?" + "a" * 8000,
    "?%ff%fe",
    "?wsdl#frag",
    "",
]


@pytest.mark.parametrize("query", ODD_QUERIES, ids=range(len(ODD_QUERIES)))
def test_a_get_with_an_odd_query_string_is_answered_cleanly(soap, query):
    verdict = soap(b"", method="GET", path=f"/soap/{query}")
    assert verdict.kind in ("WSDL", "HTTP 4xx"), verdict


@pytest.mark.parametrize("verb", ["PUT", "DELETE", "PATCH"])
def test_other_http_methods_are_refused(soap, verb):
    assert soap(envelope(operation("GetCenters")), method=verb).status == 405


# ------------------------------------------------------------------ generated envelopes

NAME = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,24}", fullmatch=True)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80)


def escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@st.composite
def elements(draw, names, depth=0):
    """One element: a known or random name, a known or random namespace, text or children."""
    name = draw(st.one_of(st.sampled_from(names), NAME) if names else NAME)
    prefix = draw(st.sampled_from(["tns:", "tns:", "", "o:"]))
    if depth < 3 and draw(st.integers(0, 4)) == 0:
        children = draw(st.lists(elements(names, depth + 1), max_size=4))
        content = "".join(children)
    else:
        content = escape(
            draw(
                st.one_of(
                    TEXT,
                    st.sampled_from(list(KNOWN_IDS.values()) + ["01/01/2030", "09:00", "0", "-1", "99999999999"]),
                )
            )
        )
    return f"<{prefix}{name}>{content}</{prefix}{name}>"


@st.composite
def generated_envelopes(draw) -> bytes:
    known = st.sampled_from(sorted(OPERATIONS))
    op = draw(st.one_of(known, known, known, NAME))
    fields = OPERATIONS.get(op, [])
    children = "".join(draw(st.lists(elements(fields), max_size=8)))
    prefix = draw(st.sampled_from(["tns:", "tns:", "tns:", "o:", ""]))
    body = f"<{prefix}{op}>{children}</{prefix}{op}>"
    env_ns = draw(st.sampled_from([SOAP_ENV, SOAP_ENV, SOAP_ENV, SOAP12_ENV, "urn:other"]))
    document = envelope(body, env_ns=env_ns).replace(b"<soapenv:Envelope ", b'<soapenv:Envelope xmlns:o="urn:o" ', 1)
    mutation = draw(st.sampled_from(["none"] * 5 + ["truncate", "insert", "flip"]))
    if mutation == "none":
        return document
    at = draw(st.integers(0, len(document)))
    if mutation == "truncate":
        return document[:at]
    noise = draw(st.binary(min_size=1, max_size=8))
    if mutation == "insert":
        return document[:at] + noise + document[at:]
    return document[:at] + noise + document[at + len(noise) :]


def test_generated_envelopes_get_an_answer_or_a_client_fault(soap):
    @hypothesis_settings(
        max_examples=GENERATED_ENVELOPES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    @given(body=generated_envelopes())
    def answered_cleanly(body):
        soap(body)

    answered_cleanly()
    sent = sum(
        n for (_, group, _), n in TALLY.items() if group == "test_generated_envelopes_get_an_answer_or_a_client_fault"
    )
    assert sent >= GENERATED_ENVELOPES
