"""manage.py tuotempo_probe: the report on standard output, JSON and JUnit files, the exit status."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from lxml import etree

from probe.rules import RULES
from tests.probe.conftest import endpoint
from tests.probe.hospital import RESULTS_PATIENT, TIME_ZONE
from tests.probe.proxy import Proxy, UnorderedSlots

pytestmark = pytest.mark.live


def junit(path):
    return etree.fromstring(path.read_bytes(), etree.XMLParser(resolve_entities=False, no_network=True))


def run(url, surface, credentials, *extra):
    out = StringIO()
    args = [
        "--url",
        endpoint(url, surface),
        "--surface",
        surface,
        "--user",
        credentials.user,
        f"--secret={credentials.secret}",
        "--time-zone",
        TIME_ZONE,
        "--results-user",
        RESULTS_PATIENT,
        *extra,
    ]
    call_command("tuotempo_probe", *args, stdout=out)
    return out.getvalue()


def test_a_passing_run_prints_every_rule_and_writes_json_and_junit(live_server, credentials, tmp_path):
    text = run(
        live_server.url, "soap", credentials, "--json", str(tmp_path / "r.json"), "--junit", str(tmp_path / "r.xml")
    )

    assert all(rule.id in text for rule in RULES)
    assert "0 FAIL" in text and credentials.secret not in text
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["passed"] is True and report["counts"]["FAIL"] == 0
    assert [r["id"] for r in report["rules"]] == [r.id for r in RULES]
    suite = junit(tmp_path / "r.xml")
    assert suite.tag == "testsuite" and suite.get("failures") == "0" and suite.get("tests") == str(len(RULES))
    assert len(suite.findall("testcase/skipped")) == report["counts"]["SKIP"]


def test_a_failing_run_exits_with_status_1_and_says_which_line_it_breaks(live_server, credentials, tmp_path):
    with Proxy(live_server.url, UnorderedSlots()) as broken, pytest.raises(CommandError) as refused:
        run(
            broken,
            "rest",
            credentials,
            "--read-only",
            "--json",
            str(tmp_path / "r.json"),
            "--junit",
            str(tmp_path / "r.xml"),
        )

    assert refused.value.returncode == 1 and "1 FAIL" in str(refused.value)
    report = json.loads((tmp_path / "r.json").read_text())
    order = next(r for r in report["rules"] if r["id"] == "SEARCH-ORDER")
    assert order["status"] == "FAIL" and order["guide"].startswith("B.2.2") and "§5" in order["contract"]
    assert order["exchanges"][0]["request"].startswith("GET http://127.0.0.1:")
    failure = junit(tmp_path / "r.xml").find("testcase/failure")
    assert "comes after" in failure.get("message") and "searchavailabilities" in failure.text


def test_the_secret_may_come_from_the_environment(live_server, credentials, monkeypatch):
    monkeypatch.setenv("TUOTEMPO_PROBE_SECRET", credentials.secret)
    out = StringIO()
    call_command(
        "tuotempo_probe",
        "--url",
        endpoint(live_server.url, "rest"),
        "--surface",
        "rest",
        "--user",
        credentials.user,
        "--read-only",
        stdout=out,
    )
    assert "PASS  AUTH-REQUIRED" in out.getvalue()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "x"], "--user needs --secret"),
        (["--user", "x", "--secret", "y", "--bearer", "z"], "not both"),
        (["--time-zone", "Mars/Olympus"], "not an IANA time zone"),
        (["--concurrent", "1"], "at least 2"),
    ],
)
def test_bad_options_are_refused_before_any_call(args, message, monkeypatch):
    monkeypatch.delenv("TUOTEMPO_PROBE_SECRET", raising=False)
    with pytest.raises(CommandError, match=message):
        call_command("tuotempo_probe", "--url", "http://127.0.0.1:9/api/", "--surface", "rest", *args)
