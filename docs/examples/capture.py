"""Captures real requests and answers from the demo hospital, on both surfaces, into the docs.

Run from the project folder:

    .venv/bin/python docs/examples/capture.py

It builds a fresh demo hospital (`seed_demo --seed 1`) in a temporary SQLite database and media
folder, creates three integration clients with `create_integration_client`, starts the real
server (`manage.py runserver`, no reloader) on a free local port, and calls every method over REST
(the `requests` library, lower-case parameter names as tuOtempO sends them) and over SOAP (a raw
SOAP 1.1 envelope POSTed as is, so the pages show the exact XML). It also runs `import_results`
on a good and a bad manifest. After the other method calls it merges two demo patients, the way
the desk does, and checks an appointment. What it saw is written into the pages between markers:

    <!-- captured:start --> ... <!-- captured:end -->            (docs/methods/<method>.md)
    <!-- captured:NAME:start --> ... <!-- captured:NAME:end -->  (integrators.md, patient-matching.md,
                                                                   results-import.md)

so running it again regenerates every example. Secrets never reach the pages: they are replaced
by <secret>. Long lists keep their first 3 records, base64 content its first 80 characters. The
demo's dates are relative to the day of the run; each capture says when it was made. The server
runs on a free port; the pages show it as 127.0.0.1:8000, the address of `make run`.
"""

import base64
import datetime as dt
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import requests
from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SHOWN_HOST = "127.0.0.1:8000"
KEEP_RECORDS = 3
KEEP_BASE64 = 80
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
TNS = "http://tuotempo.his/ws"
SHOWN_RESPONSE_HEADERS = ("Content-Type", "WWW-Authenticate", "Retry-After", "Allow")
MORE = "__MORE_RECORDS__"


# ---------------------------------------------------------------- a fresh demo hospital and a server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_environment(workdir: Path) -> dict[str, str]:
    """Points Django (this process and every child) at the temporary database and media folder."""
    env = {
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "HIS_MEDIA_ROOT": str(workdir / "media"),
        "HIS_SECRET_KEY": secrets.token_urlsafe(48),
        "HIS_DEBUG": "0",
        "DJANGO_SETTINGS_MODULE": "his.settings",
        "PYTHONPATH": str(ROOT),
    }
    os.environ.update(env)
    return dict(os.environ)


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """Runs a management command as an operator would, capturing what it prints."""
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    handle = log.open("w")
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped at start; see {log}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/soap/?wsdl", timeout=2).status_code == 200:
                return server
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    server.terminate()
    raise SystemExit(f"the server did not answer within 60 seconds; see {log}")


# ---------------------------------------------------------------- rendering what was exchanged


@dataclass
class Credentials:
    name: str
    secret: str

    def basic(self) -> str:
        return "Basic " + base64.b64encode(f"{self.name}:{self.secret}".encode()).decode()

    def bearer(self) -> str:
        return f"Bearer {self.secret}"


@dataclass
class Capture:
    """Every exchange made, grouped by the block of the docs it goes into."""

    base_url: str
    secrets: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # Basic header value -> client name
    blocks: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def add(self, page: str, block: str, text: str) -> None:
        self.blocks.setdefault((page, block), []).append(text)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "<secret>")
        return text.replace(self.base_url.removeprefix("http://"), SHOWN_HOST)

    def authorization(self, value: str) -> str:
        if value.startswith("Basic ") and value in self.names:
            return f"Basic base64({self.names[value]}:<secret>)"
        if value.startswith("Bearer "):
            return "Bearer <secret>"
        return value


def shorten_json(payload):
    """The first records of a long list and the first characters of base64 content."""
    if isinstance(payload, list) and len(payload) > KEEP_RECORDS:
        return [*payload[:KEEP_RECORDS], f"{MORE}{len(payload) - KEEP_RECORDS}"]
    if isinstance(payload, dict) and isinstance(payload.get("DOWNLOAD_CONTENT"), str):
        content = payload["DOWNLOAD_CONTENT"]
        if len(content) > KEEP_BASE64:
            shortened = f"{content[:KEEP_BASE64]}… ({len(content)} characters in all)"
            return {**payload, "DOWNLOAD_CONTENT": shortened}
    return payload


def render_json(body: dict) -> str:
    if isinstance(body, dict) and "return" in body:
        body = {**body, "return": shorten_json(body["return"])}
    text = json.dumps(body, indent=2, ensure_ascii=False)
    return re.sub(rf'"{MORE}(\d+)"', r"… (\1 more)", text)


def render_xml(raw: bytes) -> str:
    """The SOAP answer, indented for reading, with long lists and base64 content shortened."""
    try:
        root = etree.fromstring(raw, etree.XMLParser(resolve_entities=False, huge_tree=True))  # noqa: S320
    except etree.XMLSyntaxError:
        return raw.decode("utf-8", "replace")
    for result in root.iter(f"{{{TNS}}}*"):
        if not result.tag.endswith("Result"):
            continue
        records = list(result)
        if len(records) > KEEP_RECORDS and all(r.tag == records[0].tag for r in records):
            for extra in records[KEEP_RECORDS:]:
                result.remove(extra)
            result.append(etree.Comment(f" … ({len(records) - KEEP_RECORDS} more) "))
    for content in root.iter(f"{{{TNS}}}DOWNLOAD_CONTENT"):
        if content.text and len(content.text) > KEEP_BASE64:
            whole = len(content.text)
            content.text = content.text[:KEEP_BASE64] + "…"
            content.addnext(etree.Comment(f" shortened here: {whole} base64 characters in all "))
    etree.indent(root, space="  ")
    declaration = "<?xml version='1.0' encoding='UTF-8'?>\n"
    return declaration + etree.tostring(root, encoding="unicode")


def request_text(capture: Capture, response: requests.Response, shown_body: str | None) -> str:
    sent = response.request
    lines = [f"{sent.method} {sent.path_url} HTTP/1.1", f"Host: {SHOWN_HOST}"]
    for name in ("Authorization", "Content-Type", "SOAPAction", "Content-Length"):
        value = sent.headers.get(name)
        if value is None or (name == "Content-Length" and shown_body is not None):
            continue
        lines.append(f"{name}: {capture.authorization(value) if name == 'Authorization' else value}")
    if shown_body is not None:
        lines += ["", shown_body]
    return "\n".join(lines)


def response_text(response: requests.Response, body: str) -> str:
    lines = [f"HTTP/1.1 {response.status_code} {response.reason}"]
    shown = [
        n for n in SHOWN_RESPONSE_HEADERS if n in response.headers and (n != "Allow" or response.status_code == 405)
    ]
    lines += [f"{name}: {response.headers[name]}" for name in shown]
    return "\n".join([*lines, "", body]) if body else "\n".join(lines)


def exchange_markdown(capture: Capture, title: str, request: str, answer: str) -> str:
    return capture.scrub(f"**{title}**\n\n```http\n{request}\n```\n\n```http\n{answer}\n```\n")


# ---------------------------------------------------------------- the two surfaces


class Surfaces:
    def __init__(self, capture: Capture, order: dict[str, list[str]]):
        self.capture = capture
        self.order = order  # method -> its parameters, in the WSDL's order

    def rest(self, page, block, title, method, params=None, *, auth=None, verb=None, raw_body=None, headers=None):
        """One REST call; parameter names are sent in lower case, as tuOtempO's REST clients do.
        A parameter whose value is None is left out."""
        params = {k.lower(): v for k, v in (params or {}).items() if v is not None}
        url = f"{self.capture.base_url}/api/{method.lower()}"
        all_headers = {**(headers or {}), **({"Authorization": auth} if auth else {})}
        verb = verb or "GET"
        shown = None
        if raw_body is not None:
            response = requests.post(url, data=raw_body, headers=all_headers, timeout=60)
            shown = raw_body.decode() if isinstance(raw_body, bytes) else raw_body
        elif verb == "GET":
            response = requests.get(url, params=params, headers=all_headers, timeout=60)
        else:
            shown = json.dumps(params, indent=2, ensure_ascii=False)
            all_headers["Content-Type"] = "application/json"
            response = requests.post(url, data=shown.encode(), headers=all_headers, timeout=60)
        try:
            body = response.json()
            shown_answer = render_json(body)
        except ValueError:
            body, shown_answer = None, response.text
        if page:
            text = exchange_markdown(
                self.capture,
                f"REST — {title}",
                request_text(self.capture, response, shown),
                response_text(response, shown_answer),
            )
            self.capture.add(page, block, text)
        return response, body

    def soap(self, page, block, title, method, params=None, *, auth=None):
        """One SOAP 1.1 call: the envelope below is exactly what is POSTed. A parameter whose value is
        None is left out."""
        params = {k: v for k, v in (params or {}).items() if v is not None}
        ordered = [name for name in self.order[method] if name in params]
        unknown = set(params) - set(ordered)
        assert not unknown, f"{method} has no parameter {unknown}"
        inner = "\n".join(f"      <ws:{name}>{escape(params[name])}</ws:{name}>" for name in ordered)
        operation = f"    <ws:{method}>\n{inner}\n    </ws:{method}>" if ordered else f"    <ws:{method}/>"
        return self.soap_envelope(page, block, title, method, operation, auth=auth)

    def soap_envelope(self, page, block, title, action, operation, *, auth=None):
        """POSTs the SOAP 1.1 envelope around `operation` (the Body's content, written out as is)."""
        envelope = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}" xmlns:ws="{TNS}">\n'
            "  <soapenv:Header/>\n"
            f"  <soapenv:Body>\n{operation}\n  </soapenv:Body>\n"
            "</soapenv:Envelope>"
        )
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}
        if auth:
            headers["Authorization"] = auth
        response = requests.post(f"{self.capture.base_url}/soap/", data=envelope.encode(), headers=headers, timeout=60)
        is_xml = "xml" in response.headers.get("Content-Type", "")
        shown_answer = render_xml(response.content) if is_xml else response.text
        if page:
            text = exchange_markdown(
                self.capture,
                f"SOAP — {title}",
                request_text(self.capture, response, envelope),
                response_text(response, shown_answer),
            )
            self.capture.add(page, block, text)
        root = etree.fromstring(response.content) if is_xml else None  # noqa: S320
        return response, root


def soap_values(root, record: str) -> list[dict[str, str | None]]:
    return [{etree.QName(child).localname: child.text for child in node} for node in root.iter(f"{{{TNS}}}{record}")]


# ---------------------------------------------------------------- writing the pages


def replace_block(path: Path, block: str, text: str) -> None:
    start, end = (
        ("<!-- captured:start -->", "<!-- captured:end -->")
        if block == "captured"
        else (f"<!-- captured:{block}:start -->", f"<!-- captured:{block}:end -->")
    )
    page = path.read_text()
    if start not in page or end not in page:
        raise SystemExit(f"{path.relative_to(ROOT)} has no {start} ... {end} markers")
    before, rest = page.split(start, 1)
    _, after = rest.split(end, 1)
    path.write_text(f"{before}{start}\n{text.rstrip()}\n{end}{after}")


def write_pages(capture: Capture, stamp: str) -> list[Path]:
    written = []
    for (page, block), texts in capture.blocks.items():
        path = DOCS / page
        header = f"_Captured {stamp} from the demo hospital (`seed_demo --seed 1`) by `docs/examples/capture.py`._\n"
        replace_block(path, block, header + "\n" + "\n".join(texts))
        written.append(path)
    return sorted(set(written))


def command_block(result: subprocess.CompletedProcess, command: str, capture: Capture) -> str:
    # Standard error first: the commands shown write to it before their standard output.
    lines = [f"$ {command}"]
    if result.stderr.strip():
        lines.append(result.stderr.rstrip())
    if result.stdout.strip():
        lines.append(result.stdout.rstrip())
    lines.append(f"(exit status {result.returncode})")
    return capture.scrub("```console\n" + "\n".join(lines) + "\n```\n")


# ---------------------------------------------------------------- the scenario


def fmt(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def run(workdir: Path) -> None:
    env = prepare_environment(workdir)
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from webservices.registry import methods

    call_command("migrate", verbosity=0)
    seeded = manage(env, "seed_demo", "--seed", "1")
    if seeded.returncode:
        raise SystemExit(seeded.stderr)

    port = free_port()
    capture = Capture(base_url=f"http://127.0.0.1:{port}")
    madrid = timezone.get_default_timezone()
    now = timezone.localtime(timezone.now(), madrid)
    stamp = f"on {now:%d/%m/%Y at %H:%M} ({madrid.key})"

    # Credentials, made the way an operator makes them.
    clients = {}
    for name, extra in (
        ("tuotempo-web", []),
        ("tuotempo-app", ["--pattern", "tid"]),
        ("tuotempo-madrid", ["--centers", "MAD"]),
    ):
        made = manage(env, "create_integration_client", name, *extra)
        if made.returncode:
            raise SystemExit(made.stderr)
        answer = json.loads(made.stdout.strip().splitlines()[-1])
        clients[name] = Credentials(answer["name"], answer["secret"])
        capture.secrets.append(answer["secret"])
        capture.names[clients[name].basic()] = name
        if name == "tuotempo-web":
            command = "python manage.py create_integration_client tuotempo-web"
            capture.add("integrators.md", "client", command_block(made, command, capture))
    web, app, mad = (clients[n].basic() for n in ("tuotempo-web", "tuotempo-app", "tuotempo-madrid"))

    server = start_server(env, port, workdir / "server.log")
    try:
        order = {m.name: [p.name for p in m.all_params()] for m in methods()}
        scenario(Surfaces(capture, order), web=web, app=app, mad=mad, bearer=clients["tuotempo-web"].bearer())
        auth_and_limits(Surfaces(capture, order), web=web)
    finally:
        server.terminate()
        server.wait(timeout=30)

    results_import(env, workdir, capture)
    for path in write_pages(capture, stamp):
        print(f"wrote {path.relative_to(ROOT)}")


def demo_choices():
    """The demo rows the examples talk about, picked by rule so that any seed works."""
    from django.db.models import Count, Q
    from django.utils import timezone

    from appointments.models import ACTIVE_STATUSES, Appointment
    from patients.models import Patient
    from results.models import MedicalResult, ResultStatus

    now = timezone.now()
    patient = (
        Patient.objects.filter(lid__startswith="DEMO-P", merged_into__isnull=True)
        .exclude(mobile_phone="")
        .exclude(email="")
        .annotate(total=Count("appointments"), future=Count("appointments", filter=Q(appointments__start__gt=now)))
        .filter(future__gte=1)
        .order_by("-total", "lid")
        .first()
    )
    week_ago = now - dt.timedelta(days=7)
    recent = (
        MedicalResult.objects.filter(status=ResultStatus.VALID, created__gte=week_ago, center__isnull=False)
        .select_related("patient")
        .order_by("created", "lid")
        .first()
    )
    withdrawn = MedicalResult.objects.filter(status=ResultStatus.WITHDRAWN).select_related("patient").first()
    started = Appointment.objects.filter(status__in=ACTIVE_STATUSES, start__lt=now).order_by("-start", "lid").first()
    someone_else = (
        Appointment.objects.filter(status__in=ACTIVE_STATUSES, start__gt=now)
        .exclude(patient=patient)
        .order_by("start", "lid")
        .first()
    )
    id_holder = (
        Patient.objects.filter(lid__startswith="DEMO-P", merged_into__isnull=True)
        .exclude(id_number="")
        .exclude(pk=patient.pk)
        .order_by("lid")
        .first()
    )
    # A patient with no appointment and no result in MAD: a client limited to MAD does not know them.
    elsewhere = (
        Patient.objects.filter(lid__startswith="DEMO-P", merged_into__isnull=True)
        .exclude(appointments__resource__location__center__lid="MAD")
        .exclude(results__center__lid="MAD")
        .filter(appointments__isnull=False)
        .order_by("lid")
        .first()
    )
    found = patient and recent and withdrawn and started and someone_else and id_holder and elsewhere
    assert found, "the demo lacks a case"
    return patient, recent, withdrawn, started, someone_else, id_holder, elsewhere


def scenario(s: Surfaces, *, web: str, app: str, mad: str, bearer: str) -> None:
    from django.utils import timezone

    patient, recent, withdrawn, started, someone_else, id_holder, elsewhere = demo_choices()
    madrid = timezone.get_default_timezone()
    today = timezone.localdate(timezone=madrid)
    tomorrow = today + dt.timedelta(days=1)
    m = "methods/{}.md".format

    # --- GetCenters, KeyEntities
    s.rest(m("GetCenters"), "captured", "every center of the client's scope", "GetCenters", auth=web)
    s.soap(m("GetCenters"), "captured", "the same, with a Bearer token", "GetCenters", auth=bearer)
    s.rest(m("KeyEntities"), "captured", "one center", "KeyEntities", {"CENTER_LID": "MIL"}, auth=web)
    s.soap(m("KeyEntities"), "captured", "one center", "KeyEntities", {"CENTER_LID": "LPA"}, auth=web)
    s.rest(m("KeyEntities"), "captured", "error: a center outside the client's scope (client limited to MAD)",
           "KeyEntities", {"CENTER_LID": "LPA"}, auth=mad)  # fmt: skip
    s.soap(m("KeyEntities"), "captured", "error: a center outside the client's scope (client limited to MAD)",
           "KeyEntities", {"CENTER_LID": "LPA"}, auth=mad)  # fmt: skip

    # --- searchAvailabilities
    page = m("searchAvailabilities")
    _, found = s.rest(
        page,
        "captured",
        "a morning band, from tomorrow, three slots",
        "searchAvailabilities",
        {
            "ACTIVITY_LID": "DER-1V",
            "AVA_START_DAY": fmt(tomorrow),
            "AVA_MIN_TIME": "10:00",
            "AVA_MAX_TIME": "13:00",
            "AVA_RESULTS_NUMBER": "3",
        },  # fmt: skip
        auth=web,
    )
    s.soap(
        page,
        "captured",
        "one center, an insurance, ISO dates, empty optional fields (they count as absent)",
        "searchAvailabilities",
        {
            "ACTIVITY_LID": "CAR-REV",
            "AVA_START_DAY": tomorrow.isoformat(),
            "AVA_END_DAY": (tomorrow + dt.timedelta(days=3)).isoformat(),
            "AVA_START_TIME": "",
            "AVA_END_TIME": "",
            "AVA_MIN_TIME": "",
            "AVA_MAX_TIME": "",
            "AVA_RESULTS_NUMBER": "3",
            "RESOURCE_LID": "",
            "INSURANCE_LID": "SAN",
            "LOCATION_LID": "",
            "CENTER_LID": "MAD",
        },  # fmt: skip
        auth=web,
    )
    s.rest(page, "captured", "error: a date that does not exist", "searchAvailabilities",
           {"ACTIVITY_LID": "DER-1V", "AVA_START_DAY": "31/02/2031"}, auth=web)  # fmt: skip
    s.soap(page, "captured", "error: an unknown activity", "searchAvailabilities",
           {"ACTIVITY_LID": "NO-SUCH-ACTIVITY"}, auth=web)  # fmt: skip

    # Slots to book, from a search that is not shown.
    _, more = s.rest(None, None, "", "searchAvailabilities",
                     {"ACTIVITY_LID": "DER-1V", "AVA_START_DAY": fmt(tomorrow), "AVA_RESULTS_NUMBER": "12"},
                     auth=web)  # fmt: skip
    first = found["return"][0]
    others = [slot for slot in more["return"] if slot["AVAILABILITY_LID"] != first["AVAILABILITY_LID"]]
    second, third, fourth = others[0], others[1], others[2]

    # --- addAppointment
    page = m("addAppointment")
    new_patient = {
        "ACTIVITY_LID": "DER-1V", "AVAILABILITY_LID": first["AVAILABILITY_LID"], "USER_LID": "",
        "USER_FIRST_NAME": "Ana", "USER_SECOND_NAME": "Pérez", "USER_THIRD_NAME": "Gil", "USER_GENDER": "F",
        "USER_DATE_OF_BIRTH": "14/03/1985", "USER_MOBILE_PHONE": "+34 600 123 456",
        "USER_EMAIL": "ana.perez@example.org", "USER_ID_NUMBER": "00000001R", "NOTES": "Primera visita",
    }  # fmt: skip
    _, booked = s.rest(page, "captured", "a new patient books the first slot of the search above by its "
                       "AVAILABILITY_LID", "addAppointment", new_patient, auth=web, verb="POST")  # fmt: skip
    new_app, new_user = booked["return"]["APP_LID"], booked["return"]["USER_LID"]
    s.rest(page, "captured", "the same request sent again (tuOtempO retrying): same APP_LID, no second appointment",
           "addAppointment", new_patient, auth=web, verb="POST")  # fmt: skip
    by_fields = {
        "ACTIVITY_LID": "DER-1V", "RESOURCE_LID": second["RESOURCE_LID"], "USER_LID": patient.lid,
        "APP_DATE": second["AVA_DATE"], "APP_START_TIME": second["AVA_START_TIME"], "AVAILABILITY_LID": "",
        "INSURANCE_LID": "",
    }  # fmt: skip
    _, root = s.soap(page, "captured", "a known patient books a slot named by resource, activity, date and time",
                     "addAppointment", by_fields, auth=web)  # fmt: skip
    known_app = soap_values(root, "addAppointmentResult")[0]["APP_LID"]
    taken = {"ACTIVITY_LID": "DER-1V", "AVAILABILITY_LID": first["AVAILABILITY_LID"], "USER_LID": patient.lid}
    s.rest(page, "captured", "error: the slot was just taken by another patient", "addAppointment", taken,
           auth=web, verb="POST")  # fmt: skip
    s.soap(page, "captured", "error: the slot was just taken by another patient (not a fault: the answer says so)",
           "addAppointment", taken, auth=web)  # fmt: skip
    s.soap(page, "captured", "error: AVAILABILITY_LID and APP_START_TIME disagree", "addAppointment",
           {**taken, "AVAILABILITY_LID": third["AVAILABILITY_LID"], "APP_START_TIME": "23:55"}, auth=web)  # fmt: skip

    s.rest(page, "captured", "error: the slot is not named (reported in the answer)", "addAppointment",
           {"ACTIVITY_LID": "DER-1V", "USER_LID": patient.lid, "APP_DATE": second["AVA_DATE"]}, auth=web,
           verb="POST")  # fmt: skip
    s.rest(page, "captured", "error: a time outside the doctor's availability", "addAppointment",
           {**by_fields, "AVAILABILITY_LID": None, "INSURANCE_LID": None, "APP_START_TIME": "23:55"}, auth=web,
           verb="POST")  # fmt: skip
    s.soap(page, "captured", "error: a date that cannot be read (INVALID_INPUT in the answer, not a fault)",
           "addAppointment", {**by_fields, "APP_DATE": "31/02/2031"}, auth=web)  # fmt: skip
    s.rest(page, "captured", "error: only a USER_TID, which names nobody for a client of the lid pattern, and no "
           "name to register a patient with (in the answer too)",
           "addAppointment", {**taken, "USER_LID": None, "USER_TID": "TT-1"}, auth=web, verb="POST")  # fmt: skip
    s.soap(page, "captured", "error: a CENTER_LID outside the client's scope (client limited to MAD), in the answer",
           "addAppointment", {**taken, "CENTER_LID": "LPA"}, auth=mad)  # fmt: skip

    # Two more appointments of the known patient, booked without being shown.
    extra = []
    for slot in (third, fourth):
        _, answer = s.rest(None, None, "", "addAppointment",
                           {"ACTIVITY_LID": "DER-1V", "AVAILABILITY_LID": slot["AVAILABILITY_LID"],
                            "USER_LID": patient.lid}, auth=web, verb="POST")  # fmt: skip
        extra.append(answer["return"]["APP_LID"])

    # --- checkAppointment
    page = m("checkAppointment")
    s.rest(page, "captured", "the appointment booked above", "checkAppointment", {"APP_LID": new_app}, auth=web)
    s.soap(page, "captured", "an appointment booked by SOAP", "checkAppointment", {"APP_LID": known_app}, auth=web)
    s.rest(page, "captured", "error: an unknown APP_LID", "checkAppointment", {"APP_LID": "A999999"}, auth=web)
    s.soap(page, "captured", "error: an unknown APP_LID", "checkAppointment", {"APP_LID": "A999999"}, auth=web)

    # The moment before the cancellations below, as tuOtempO would keep it for its next call.
    time.sleep(1.1)
    last_request = timezone.localtime(timezone.now(), madrid).strftime("%d/%m/%Y %H:%M:%S")
    time.sleep(1.1)

    # --- deleteAppointment
    page = m("deleteAppointment")
    s.rest(page, "captured", "cancels the new patient's appointment", "deleteAppointment", {"APP_LID": new_app},
           auth=web, verb="POST")  # fmt: skip
    s.rest(page, "captured", "the same again: already cancelled is OK", "deleteAppointment", {"APP_LID": new_app},
           auth=web, verb="POST")  # fmt: skip
    s.soap(page, "captured", "cancels another appointment", "deleteAppointment", {"APP_LID": extra[0]}, auth=web)
    s.rest(page, "captured", "error: an appointment that has already started", "deleteAppointment",
           {"APP_LID": started.lid}, auth=web, verb="POST")  # fmt: skip
    s.soap(page, "captured", "error: an unknown APP_LID (in the answer, not a fault)", "deleteAppointment",
           {"APP_LID": "A999999"}, auth=web)  # fmt: skip
    s.rest(page, "captured", "error: APP_LID missing (in the answer too)", "deleteAppointment", {}, auth=web,
           verb="POST")  # fmt: skip

    # --- CancelAppointment
    page = m("CancelAppointment")
    s.rest(page, "captured", "the patient cancels their own appointment", "CancelAppointment",
           {"APP_LID": known_app, "USER_LID": patient.lid}, auth=web, verb="POST")  # fmt: skip
    s.soap(page, "captured", "the patient cancels their own appointment", "CancelAppointment",
           {"APP_LID": extra[1], "USER_LID": patient.lid}, auth=web)  # fmt: skip
    s.rest(page, "captured", "error: another patient's appointment", "CancelAppointment",
           {"APP_LID": someone_else.lid, "USER_LID": patient.lid}, auth=web, verb="POST")  # fmt: skip
    s.soap(page, "captured", "error: another patient's appointment (the message travels in APP_LID)",
           "CancelAppointment", {"APP_LID": someone_else.lid, "USER_LID": patient.lid}, auth=web)  # fmt: skip
    s.soap(page, "captured", "a client of the tid pattern names the patient by USER_LID here too (a reminder "
           "method, guide A.4): another patient's appointment is refused (in the answer, not a fault)",
           "CancelAppointment", {"APP_LID": someone_else.lid, "USER_LID": patient.lid}, auth=app)  # fmt: skip

    # --- getAppointments
    page = m("getAppointments")
    s.rest(page, "captured", "every appointment of a patient, past, future and cancelled", "getAppointments",
           {"USER_LID": patient.lid}, auth=web)  # fmt: skip
    s.rest(page, "captured", f"only what changed after LAST_REQUEST_TIMESTAMP ({last_request}): the three "
           "cancellations made since", "getAppointments", {"USER_LID": patient.lid,
           "LAST_REQUEST_TIMESTAMP": last_request}, auth=web)  # fmt: skip
    s.soap(page, "captured", "a window of dates", "getAppointments",
           {"USER_LID": patient.lid, "START_DATE": fmt(today), "END_DATE": fmt(today + dt.timedelta(days=30))},
           auth=web)  # fmt: skip
    s.rest(page, "captured", "error: only a USER_TID, from a client of the lid pattern", "getAppointments",
           {"USER_TID": "TT-1"}, auth=web)  # fmt: skip
    s.soap(page, "captured", "error: an unknown USER_LID", "getAppointments", {"USER_LID": "P999999"}, auth=web)
    s.rest(page, "captured", f"error: a client limited to MAD asks about {elsewhere.lid}, who has no appointment and "
           "no result there (the answer of an unknown USER_LID)", "getAppointments", {"USER_LID": elsewhere.lid},
           auth=mad)  # fmt: skip

    # --- SearchAppointments
    page = m("SearchAppointments")
    s.rest(page, "captured", "the reminder batch: every appointment of tomorrow in one center, no patient",
           "SearchAppointments", {"START_DATE": fmt(tomorrow), "END_DATE": fmt(tomorrow), "CENTER_LID": "LPA"},
           auth=web)  # fmt: skip
    s.soap(page, "captured", "one patient", "SearchAppointments",
           {"USER_LID": patient.lid, "START_DATE": fmt(today)}, auth=web)  # fmt: skip
    s.rest(page, "captured", "error: no patient and a window longer than 31 days", "SearchAppointments",
           {"START_DATE": fmt(today), "END_DATE": fmt(today + dt.timedelta(days=40))}, auth=web)  # fmt: skip
    s.soap(page, "captured", "error: no patient and no dates", "SearchAppointments", {}, auth=web)

    # --- getTestResultsList
    page = m("getTestResultsList")
    s.rest(page, "captured", "the default window (the last 7 days)", "getTestResultsList",
           {"USER_LID": recent.patient.lid}, auth=web)  # fmt: skip
    start = timezone.localtime(withdrawn.created, madrid).date()
    s.soap(page, "captured", "from a date, a withdrawn result included", "getTestResultsList",
           {"USER_LID": withdrawn.patient.lid, "RESULT_START_DATE": fmt(start)}, auth=web)  # fmt: skip
    s.rest(page, "captured", "error: an unknown USER_LID", "getTestResultsList", {"USER_LID": "P999999"}, auth=web)
    s.soap(page, "captured", "error: no patient named", "getTestResultsList", {}, auth=web)

    # --- getTestResultContent
    page = m("getTestResultContent")
    s.rest(page, "captured", "a valid result (JSON carries the content as base64 text)", "getTestResultContent",
           {"DOWNLOAD_LID": recent.lid}, auth=web)  # fmt: skip
    s.soap(page, "captured", "a valid result (xs:base64Binary)", "getTestResultContent",
           {"DOWNLOAD_LID": recent.lid}, auth=web)  # fmt: skip
    s.rest(page, "captured", "a withdrawn result", "getTestResultContent", {"DOWNLOAD_LID": withdrawn.lid}, auth=web)
    s.soap(page, "captured", "a withdrawn result", "getTestResultContent", {"DOWNLOAD_LID": withdrawn.lid}, auth=web)
    s.soap(page, "captured", "error: an unknown DOWNLOAD_LID", "getTestResultContent",
           {"DOWNLOAD_LID": "NO-SUCH-RESULT"}, auth=web)  # fmt: skip

    # --- patient matching, both patterns
    page = "patient-matching.md"
    slots = more["return"][4:]
    s.rest(page, "lid", "lid pattern: no USER_LID, but the ID number of a known patient (written another way)",
           "addAppointment", {"ACTIVITY_LID": "DER-1V", "AVAILABILITY_LID": slots[0]["AVAILABILITY_LID"],
           "USER_FIRST_NAME": "Someone", "USER_SECOND_NAME": "Else",
           "USER_ID_NUMBER": spaced(id_holder.id_number)}, auth=web, verb="POST")  # fmt: skip
    s.rest(page, "lid", "lid pattern: an unknown USER_LID is searched for as a new patient", "addAppointment",
           {"ACTIVITY_LID": "DER-1V", "AVAILABILITY_LID": slots[1]["AVAILABILITY_LID"], "USER_LID": "P999999",
            "USER_FIRST_NAME": "Ana", "USER_SECOND_NAME": "Pérez", "USER_THIRD_NAME": "Gil",
            "USER_DATE_OF_BIRTH": "1985-03-14", "USER_EMAIL": "ANA.PEREZ@example.org"}, auth=web,
           verb="POST")  # fmt: skip
    tid_booking = {"ACTIVITY_LID": "DER-1V", "AVAILABILITY_LID": slots[2]["AVAILABILITY_LID"],
                   "USER_TID": "TT-884211", "USER_FIRST_NAME": "Marco", "USER_SECOND_NAME": "Rossi",
                   "USER_DATE_OF_BIRTH": "02/07/1979", "USER_MOBILE_PHONE": "+39 333 000 1111"}  # fmt: skip
    s.rest(page, "tid", "tid pattern: an unknown USER_TID, nobody matches: a patient is registered with it",
           "addAppointment", tid_booking, auth=app, verb="POST")  # fmt: skip
    s.soap(page, "tid", "tid pattern: the same USER_TID later names the same patient", "addAppointment",
           {"ACTIVITY_LID": "DER-1V", "AVAILABILITY_LID": slots[3]["AVAILABILITY_LID"], "USER_TID": "TT-884211"},
           auth=app)  # fmt: skip
    s.rest(page, "tid", "tid pattern: USER_LID is refused", "getAppointments", {"USER_LID": new_user}, auth=app)
    s.rest(page, "tid", "tid pattern: the patient's appointments by USER_TID", "getAppointments",
           {"USER_TID": "TT-884211"}, auth=app)  # fmt: skip

    # Last, since it changes who is who: the desk merges a duplicate record (the admin's "merged into").
    duplicate = someone_else.patient
    duplicate.merged_into = patient
    duplicate.save()
    s.rest(m("checkAppointment"), "captured", f"after the desk merged {duplicate.lid} into {patient.lid}: "
           f"an appointment booked on {duplicate.lid} names {patient.lid}, the record the merge kept",
           "checkAppointment", {"APP_LID": someone_else.lid}, auth=web)  # fmt: skip


def spaced(id_number: str) -> str:
    """An ID number as a person might type it: lower case, with a dash before the letter."""
    if id_number[-1:].isalpha():
        return f"{id_number[:-1]}-{id_number[-1].lower()}"
    return id_number.lower()


def answer_complete(received: bytes) -> bool:
    """Whether the whole answer has arrived: by its Content-Length, else once its JSON body is whole."""
    head, found, body = received.partition(b"\r\n\r\n")
    if not found:
        return False
    match = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    if match:
        return len(body) >= int(match[1])
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def auth_and_limits(s: Surfaces, *, web: str) -> None:
    page = "integrators.md"
    s.rest(page, "auth", "no credentials", "GetCenters")
    s.soap(page, "auth", "no credentials (HTTP 401, no envelope is read)", "GetCenters")
    s.rest(page, "rest", "a read by POST, with a form body", "checkAppointment", raw_body=b"app_lid=A999999",
           auth=web, headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    s.rest(page, "rest", "a write by GET is refused", "addAppointment", auth=web)
    s.rest(page, "rest", "an unknown method", "getResources", auth=web)
    s.soap_envelope(page, "soap", "an operation the service does not have", "getResources",
                    "    <ws:getResources>\n      <ws:CENTER_LID>MAD</ws:CENTER_LID>\n    </ws:getResources>",
                    auth=web)  # fmt: skip
    s.soap_envelope(page, "soap", "a parameter given twice", "checkAppointment",
                    "    <ws:checkAppointment>\n      <ws:APP_LID>A1</ws:APP_LID>\n      <ws:APP_LID>A2</ws:APP_LID>\n"
                    "    </ws:checkAppointment>", auth=web)  # fmt: skip

    # A body over the limit: only the declared length matters, nothing is read.
    limit = 25 * 1024 * 1024
    with socket.create_connection(("127.0.0.1", int(s.capture.base_url.rsplit(":", 1)[1])), timeout=30) as sock:
        head = (
            f"POST /api/addappointment HTTP/1.1\r\nHost: {SHOWN_HOST}\r\nAuthorization: {web}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {limit + 1}\r\nConnection: close\r\n\r\n"
        )
        sock.sendall(head.encode())
        received = b""
        # The server may keep the connection open: read until the answer is whole.
        while not answer_complete(received):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    status_line, _, rest = received.decode("utf-8", "replace").partition("\r\n")
    headers, _, body = rest.partition("\r\n\r\n")
    content_type = next((h for h in headers.split("\r\n") if h.lower().startswith("content-type")), "")
    shown_request = "\n".join(
        [
            "POST /api/addappointment HTTP/1.1",
            f"Host: {SHOWN_HOST}",
            f"Authorization: {s.capture.authorization(web)}",
            "Content-Type: application/json",
            f"Content-Length: {limit + 1}",
            "",
            "(body not sent: the answer comes first)",
        ]
    )
    shown_answer = "\n".join(
        [status_line.replace("HTTP/1.0", "HTTP/1.1"), content_type, "", render_json(json.loads(body))]
    )
    s.capture.add(page, "limits", exchange_markdown(s.capture, "REST — a body over 25 MB", shown_request, shown_answer))

    # Failed logins from one address, until the server refuses every attempt from it for a while.
    wrong = "Basic " + base64.b64encode(b"tuotempo-web:not-the-secret").decode()
    for _ in range(50):
        response, _ = s.rest(None, None, "", "GetCenters", auth=wrong)
        if response.status_code == 429:
            break
    s.rest(page, "throttle", "after repeated failed logins from this address", "GetCenters", auth=web)
    s.soap(page, "throttle", "after repeated failed logins from this address", "GetCenters", auth=web)


# ---------------------------------------------------------------- the results import

GOOD_MANIFEST = """DOWNLOAD_LID;USER_LID;DOWNLOAD_CODE;DOWNLOAD_FILENAME;DOWNLOAD_TYPE;FILE_PATH;STATUS;CENTER_LID
LAB-2026-000101;{patient};K7Q2M9;analitica_completa.pdf;pdf;files/analitica_completa.pdf;;MAD
LAB-2026-000102;{patient};R4T8W1;radiografia_torax.png;png;files/radiografia_torax.png;Valid;MAD
LAB-2026-000103;{patient};Z1X5C3;informe.txt;txt;files/informe.txt;;
"""
UPDATE_MANIFEST = """DOWNLOAD_LID;USER_LID;DOWNLOAD_CODE;DOWNLOAD_FILENAME;DOWNLOAD_TYPE;FILE_PATH;STATUS;CENTER_LID
LAB-2026-000101;{patient};K7Q2M9;analitica_completa_v2.pdf;pdf;files/analitica_completa_v2.pdf;;MAD
LAB-2026-000103;{patient};Z1X5C3;informe.txt;txt;;Cancelled;
"""
BAD_MANIFEST = """DOWNLOAD_LID,USER_LID,DOWNLOAD_CODE,DOWNLOAD_FILENAME,DOWNLOAD_TYPE,FILE_PATH,STATUS
LAB-2026-000201,{patient},A1B2C3,analitica.pdf,pdf,files/analitica_completa.pdf,
LAB-2026-000202,P999999,D4E5F6,orina.pdf,pdf,files/orina.pdf,
LAB-2026-000203,{patient},G7H8I9,radiografia.pdf,pdf,files/radiografia_torax.png,
LAB-2026-000201,{patient},J1K2L3,otra.pdf,pdf,files/analitica_completa.pdf,Pending
"""


def results_import(env: dict[str, str], workdir: Path, capture: Capture) -> None:
    from demo.hospital import _pdf
    from patients.models import Patient

    patient = Patient.objects.filter(lid__startswith="DEMO-P").order_by("lid").first().lid
    lab = workdir / "lab"
    (lab / "files").mkdir(parents=True)
    (lab / "files" / "analitica_completa.pdf").write_bytes(_pdf(["Informe de análisis clínicos"]))
    (lab / "files" / "analitica_completa_v2.pdf").write_bytes(_pdf(["Informe de análisis clínicos (corregido)"]))
    (lab / "files" / "radiografia_torax.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    (lab / "files" / "informe.txt").write_text("Informe: valores dentro de la normalidad.\n")
    page = "results-import.md"
    for block, name, text in (
        ("good", "manifest.csv", GOOD_MANIFEST),
        ("update", "correction.csv", UPDATE_MANIFEST),
        ("bad", "bad.csv", BAD_MANIFEST),
    ):
        (lab / name).write_text(text.format(patient=patient))
        shown = f"`{name}`:\n\n```text\n{text.format(patient=patient).rstrip()}\n```\n\n"
        result = manage(env, "import_results", str(lab / name))
        output = command_block(result, f"python manage.py import_results {name}", capture)
        capture.add(page, block, shown + output.replace(str(lab) + "/", "").replace(str(lab), "."))


def main() -> None:
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    workdir = Path(tempfile.mkdtemp(prefix="his-capture-"))
    try:
        run(workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
