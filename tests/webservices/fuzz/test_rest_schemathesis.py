"""Generated REST calls, driven by the project's own OpenAPI schema (/api/schema/).

Every operation of the schema (each read over GET and POST, each write over POST) gets at least
100 generated requests, valid and invalid by the schema, with a valid client's credentials.
Whatever is sent, the hospital must answer without a server error, in tuOtempO's envelope, with a
status, content type and body that its own schema declares for that operation.
"""

import datetime as dt
import json
from collections import Counter

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import Failure

from tests.webservices.fuzz.conftest import KNOWN_IDS, TALLY
from webservices.dispatch import MSG_INTERNAL
from webservices.registry import methods

pytestmark = [pytest.mark.fuzz, pytest.mark.live]

EXAMPLES_PER_OPERATION = 100
# The guide's eleven methods: the eight reads over GET and over POST, the three writes over POST.
OPERATIONS = 19
MIN_REQUESTS_PER_OPERATION = 20  # hypothesis stops early on small input spaces; none is that small here
DATE_PARAMS = {"AVA_START_DAY", "AVA_END_DAY", "APP_DATE", "START_DATE", "END_DATE", "RESULT_START_DATE"}
TIME_PARAMS = {"AVA_START_TIME", "AVA_END_TIME", "APP_START_TIME"}


class NotInEnvelope(Failure):
    """The answer is not tuOtempO's envelope."""

    def __init__(self, *, operation: str, message: str):
        self.operation = operation
        self.title = "Answer outside the envelope"
        self.message = message
        self.code = "not_in_envelope"
        self.case_id = None
        self.severity = None

    @property
    def _unique_key(self) -> str:
        return self.message


def in_the_envelope(ctx, response, case) -> bool | None:
    """A JSON object with result, return and msg; an ERROR also names its code, and never hides an
    internal error behind it."""
    if case.method.upper() == "OPTIONS":
        return None  # DRF's metadata answer: a finding of its own, see test_options_is_answered_in_the_envelope
    content_type = response.headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    problems = []
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    if not content_type.startswith("application/json"):
        problems.append(f"content type is {content_type!r}, not JSON")
    if not isinstance(body, dict):
        problems.append(f"the body is not a JSON object: {response.content[:200]!r}")
    else:
        missing = {"result", "return", "msg"} - set(body)
        if missing:
            problems.append(f"keys {sorted(missing)} are missing from {sorted(body)}")
        if body.get("result") not in ("OK", "ERROR"):
            problems.append(f"result is {body.get('result')!r}")
        if body.get("result") == "ERROR" and not body.get("code"):
            problems.append("an ERROR answer without its code")
        if body.get("result") == "OK" and response.status_code >= 400:
            problems.append(f"result OK with HTTP {response.status_code}")
        if body.get("msg") == MSG_INTERNAL:
            problems.append("an internal error (logged server-side)")
    if problems:
        raise NotInEnvelope(
            operation=case.operation.label,
            message=f"HTTP {response.status_code}: " + "; ".join(problems),
        )
    return None


def steered(context, values):
    """Sometimes replaces generated ids, dates and times by ones of the seeded hospital, so that
    generated calls also reach real rows (slots, appointments, results)."""
    if not isinstance(values, dict):
        return st.just(values)
    today = dt.date.today()
    known = {name: value for name, value in KNOWN_IDS.items() if name != "AVAILABILITY_LID"}  # not a slot id
    for name in DATE_PARAMS:
        known[name] = st.integers(0, 7).map(lambda n: (today + dt.timedelta(days=n)).strftime("%d/%m/%Y"))
    for name in TIME_PARAMS:
        known[name] = st.integers(36, 51).map(lambda q: f"{q // 4:02d}:{q % 4 * 15:02d}")
    names = [n for n in sorted(known) if n in parameter_names(context.operation)]
    if not names:
        return st.just(values)

    def replace(chosen):
        return {**values, **chosen}

    draws = {n: known[n] if isinstance(known[n], st.SearchStrategy) else st.just(known[n]) for n in names}
    return st.one_of(
        st.just(values),
        st.fixed_dictionaries({}, optional=draws).map(replace),
        st.fixed_dictionaries(draws),  # only the seeded hospital's values: a call that can succeed
    )


def parameter_names(operation) -> set[str]:
    name = operation.definition.raw.get("operationId", "").removesuffix("_get")
    for method in methods():
        if method.name == name:
            return {p.name for p in method.all_params()}
    return set()


def tally(case, response) -> None:
    meta = case.meta
    how = f"{meta.phase.name.value}/{meta.generation.mode.value}" if meta else "explicit"
    try:
        body = json.loads(response.content)
        result = body.get("result")
    except (ValueError, AttributeError):
        body, result = None, None
    TALLY["REST requests", case.operation.label, how] += 1
    TALLY["REST answers", "generated calls", f"HTTP {response.status_code} {result}"] += 1
    if result == "OK" and isinstance(body.get("return"), dict) and body["return"].get("ADD_RESULT") == "OK":
        TALLY["REST answers", "generated calls that hit real data", "bookings made"] += 1
    elif result == "OK" and body.get("return"):
        TALLY["REST answers", "generated calls that hit real data", f"{case.operation.label} OK, not empty"] += 1


@pytest.fixture
def api_schema(live_server, fuzz_hospital):
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/")
    schema.hook("flatmap_query")(steered)
    schema.hook("flatmap_body")(steered)
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
def test_every_generated_call_is_answered_in_the_envelope_without_a_server_error(case, bearer):
    response = case.call(headers={"Authorization": bearer}, timeout=30)
    tally(case, response)
    case.validate_response(
        response,
        checks=[
            not_a_server_error,
            in_the_envelope,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )


def test_every_operation_of_the_schema_was_fuzzed(request):
    """Runs after the generated calls (same module, later): every operation of the schema, and no fewer,
    was sent generated requests (a schema that lost an operation, or a filter that skipped one, fails)."""
    generated = [item for item in request.session.items if "every_generated_call" in item.name]
    if not generated:
        pytest.skip("the generated calls were not selected in this run")
    fuzzed: Counter[str] = Counter()
    for (what, label, _), n in TALLY.items():
        if what == "REST requests" and label.startswith(("GET /api/", "POST /api/")):
            fuzzed[label] += n
    assert len(fuzzed) == OPERATIONS, sorted(fuzzed)
    assert min(fuzzed.values()) >= MIN_REQUESTS_PER_OPERATION, fuzzed


# ------------------------------------------------------------------ findings the schema does not reach
# Each test below reproduces one finding of the generated-input run (docs/reliability.md), now fixed.

EXTREME_DATES = [dt.date(1, 1, 1), dt.date(1, 1, 2), dt.date(9999, 12, 30), dt.date(9999, 12, 31)]
DATE_CALLS = [
    ("searchavailabilities", "AVA_START_DAY", {"ACTIVITY_LID": KNOWN_IDS["ACTIVITY_LID"]}),
    ("getappointments", "START_DATE", {"USER_LID": KNOWN_IDS["USER_LID"]}),
    ("searchappointments", "END_DATE", {"USER_LID": KNOWN_IDS["USER_LID"]}),
    ("gettestresultslist", "RESULT_START_DATE", {"USER_LID": KNOWN_IDS["USER_LID"]}),
    ("addappointment", "APP_DATE", {"RESOURCE_LID": "FZD", "ACTIVITY_LID": "FZA", "APP_START_TIME": "12:00",
                                    "USER_LID": KNOWN_IDS["USER_LID"]}),
]  # fmt: skip


def assert_in_envelope(response) -> dict:
    assert response.headers["Content-Type"].startswith("application/json"), (response.status_code, response.text[:300])
    body = response.json()
    assert set(body) >= {"result", "return", "msg"}, body
    assert response.status_code < 500 and body["msg"] != MSG_INTERNAL, (response.status_code, body)
    return body


def test_any_calendar_date_is_answered_in_the_envelope_without_an_internal_error(live_server, fuzz_hospital, bearer):
    session = requests.Session()
    session.headers["Authorization"] = bearer

    @settings(max_examples=60, deadline=None, derandomize=True, database=None)
    @given(call=st.sampled_from(DATE_CALLS), day=st.dates())
    @example(call=DATE_CALLS[0], day=dt.date(9999, 12, 31))
    @example(call=DATE_CALLS[1], day=dt.date(1, 1, 1))
    def answered(call, day):
        name, param, params = call
        values = {**params, param: day.strftime("%d/%m/") + f"{day.year:04d}"}
        if name == "addappointment":
            response = session.post(f"{live_server.url}/api/{name}", json=values, timeout=30)
        else:
            response = session.get(f"{live_server.url}/api/{name}", params=values, timeout=30)
        TALLY["REST requests", "extreme dates", f"HTTP {response.status_code}"] += 1
        assert_in_envelope(response)

    answered()


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-23:59"])
def test_an_extreme_timestamp_is_refused_as_invalid_input(live_server, fuzz_hospital, bearer, stamp):
    response = requests.get(
        f"{live_server.url}/api/getappointments",
        params={"LAST_REQUEST_TIMESTAMP": stamp, "USER_LID": KNOWN_IDS["USER_LID"]},
        headers={"Authorization": bearer},
        timeout=30,
    )
    TALLY["REST requests", "hand-written", f"HTTP {response.status_code}"] += 1
    assert assert_in_envelope(response)["code"] == "INVALID_INPUT"


@pytest.mark.parametrize(
    "body", [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000], ids=["arrays", "objects"]
)
def test_a_deeply_nested_json_body_is_refused_in_the_envelope(live_server, bearer, body):
    response = requests.post(
        f"{live_server.url}/api/getcenters",
        data=body,
        headers={"Authorization": bearer, "Content-Type": "application/json"},
        timeout=30,
    )
    TALLY["REST requests", "hand-written", f"HTTP {response.status_code}"] += 1
    assert assert_in_envelope(response)["code"] == "INVALID_INPUT"


def test_options_is_answered_in_the_envelope(live_server, bearer):
    response = requests.options(f"{live_server.url}/api/getcenters", headers={"Authorization": bearer}, timeout=30)
    TALLY["REST requests", "hand-written", f"HTTP {response.status_code}"] += 1
    assert "result" in assert_in_envelope(response)


def test_a_deeper_unknown_path_is_answered_in_the_envelope(live_server, bearer):
    response = requests.get(f"{live_server.url}/api/getcenters/x", headers={"Authorization": bearer}, timeout=30)
    TALLY["REST requests", "hand-written", f"HTTP {response.status_code}"] += 1
    assert assert_in_envelope(response)["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("content_type", "body", "code"),
    [
        ("application/json", b"{not json", "INVALID_INPUT"),
        ("application/json", b'["a list"]', "INVALID_INPUT"),
        ("application/json", b'{"CENTER_LID": ["a", "b"]}', "INVALID_INPUT"),
        ("application/json", b'{"CENTER_LID": "\xff\xfe"}', "INVALID_INPUT"),
        ("application/json", b'{"AVA_RESULTS_NUMBER": NaN}', "INVALID_INPUT"),
        ("application/json", b'{"AVA_RESULTS_NUMBER": ' + b"9" * 5000 + b"}", "INVALID_INPUT"),
        ("application/xml", b"<a/>", "INVALID_INPUT"),
        ("multipart/form-data; boundary=x", b"--x\r\n", "INVALID_INPUT"),
    ],
    ids=["not JSON", "a list", "a list value", "non-UTF-8", "NaN", "a 5000-digit number", "XML", "multipart"],
)
def test_an_odd_body_is_refused_in_the_envelope(live_server, fuzz_hospital, bearer, content_type, body, code):
    response = requests.post(
        f"{live_server.url}/api/searchavailabilities",
        data=body,
        headers={"Authorization": bearer, "Content-Type": content_type},
        timeout=30,
    )
    TALLY["REST requests", "hand-written", f"HTTP {response.status_code}"] += 1
    assert 400 <= response.status_code < 500
    assert assert_in_envelope(response)["code"] == code
