"""How the probe reads answers: strictly for the format rules, leniently for everything else."""

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings

from probe.guide import BY_NAME
from probe.report import SKIP, WARN, Findings, Report, verdicts
from probe.rules import BY_ID
from probe.transport import Exchange, _unwrap
from probe.values import read_date, read_time, strict_date, strict_time


@pytest.mark.parametrize("value", ["30/11/2026", "2026-11-30", "30-11-2026", "30.11.2026", "2026-11-30T00:00:00"])
def test_a_date_is_read_whatever_its_spelling(value):
    assert read_date(value) == dt.date(2026, 11, 30)


@pytest.mark.parametrize(
    ("value", "strict"),
    [("30/11/2026", True), ("2026-11-30", False), ("31/02/2026", False), ("1/12/2026", False), (None, False)],
)
def test_only_dd_mm_yyyy_is_the_guide_s_date(value, strict):
    assert strict_date(value) is strict


@pytest.mark.parametrize(
    ("value", "strict"), [("09:30", True), ("23:59", True), ("9:30", False), ("09:30:00", False), ("24:00", False)]
)
def test_only_hh_mm_is_the_guide_s_time(value, strict):
    assert strict_time(value) is strict


@pytest.mark.parametrize("value", ["09:30", "9:30", "09:30:00"])
def test_a_time_is_read_whatever_its_spelling(value):
    assert read_time(value) == dt.time(9, 30)


def test_a_list_answer_is_a_list_however_the_wsdl_wraps_it():
    search = BY_NAME["searchAvailabilities"]
    slot = {"RESOURCE_LID": "D1", "AVA_DATE": "30/11/2026"}
    assert _unwrap([slot], search) == [slot]
    assert _unwrap({"Availability": [slot]}, search) == [slot]
    assert _unwrap(slot, search) == [slot]  # one record where a list was declared (PHP-style)
    assert _unwrap({"Availability": slot}, search) == [slot]
    assert _unwrap(None, search) == []


def test_breaking_a_warn_rule_is_a_warning_and_an_unchecked_rule_is_skipped():
    findings = Findings()
    findings.ok("NO-STORE")
    findings.fail("NO-STORE", "no Cache-Control")
    findings.ok("SEARCH-ORDER")
    result = {v.rule.id: v for v in verdicts(findings, (BY_ID["NO-STORE"], BY_ID["SEARCH-ORDER"], BY_ID["BOOK"]))}
    assert (result["NO-STORE"].status, result["NO-STORE"].reason) == (WARN, "no Cache-Control")
    assert result["SEARCH-ORDER"].status == "PASS"
    assert (result["BOOK"].status, result["BOOK"].reason) == (SKIP, "not checked")


def test_every_rule_names_its_line_of_the_guide():
    for rule in BY_ID.values():
        assert rule.guide.split()[0][0] in "ABC", rule.id
        assert not rule.contract or rule.contract.startswith("§"), rule.id


def test_the_vendor_documentation_lists_every_rule():
    text = (Path(settings.BASE_DIR) / "docs" / "probe.md").read_text()
    assert [rule.id for rule in BY_ID.values() if f"| `{rule.id}` |" not in text] == []


def test_an_answer_cannot_send_control_sequences_to_the_terminal():
    exchange = Exchange("rest", "GetCenters", "GET", "http://x/api/getcenters", {}, dt.datetime.now(dt.UTC))
    exchange.status, exchange.body = 200, b'{"msg": "\x1b[2J\x1b]0;owned\x07"}'
    findings = Findings()
    findings.fail("GETCENTERS", "CENTER_NAME '\x1b[31mred'", exchange)
    report = Report("http://x/api/", "rest", dt.datetime.now(dt.UTC), 0.1, 1, verdicts(findings))
    assert "\x1b" not in report.text() and "\x07" not in report.text() and "?[31mred" in report.text()
    assert "\x1b" not in report.junit() and "?[31mred" in report.junit()
