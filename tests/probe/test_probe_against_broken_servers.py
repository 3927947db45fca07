"""The probe against broken servers: this server behind a proxy that applies one defect. The rule
for that defect fails, with its reason, and no other rule does."""

import pytest

from probe.report import FAIL
from tests.probe.hospital import active_overlaps, probe_appointments
from tests.probe.proxy import DoubleBooking, FaultInsteadOfError, MissingField, Proxy, UnorderedSlots, WrongDateFormat

pytestmark = pytest.mark.live

DEFECTS = {
    # name: (defect, the rule that must fail, words its reason must hold)
    "dates-as-iso": (WrongDateFormat, "FORMAT-DATE", "not dd/mm/yyyy"),
    "slots-latest-first": (UnorderedSlots, "SEARCH-ORDER", "comes after"),
    "no-center-name": (lambda: MissingField("GetCenters", "CENTER_NAME"), "GETCENTERS", "CENTER_NAME"),
    "no-duration": (
        lambda: MissingField("KeyEntities", "ACTIVITY_DURATION"),
        "KEYENTITIES-PRICES",
        "no ACTIVITY_DURATION",
    ),
    "fault-for-add-error": (FaultInsteadOfError, "WRITE-ERRORS-IN-ANSWER", "ADD_RESULT=ERROR"),
    "double-booking": (DoubleBooking, "BOOK-CONCURRENT", "simultaneous bookings"),
}


@pytest.mark.parametrize("surface", ["soap", "rest"])
@pytest.mark.parametrize("defect", DEFECTS)
def test_the_defect_fails_its_rule_and_no_other(defect, surface, live_server, probe):
    make, rule, words = DEFECTS[defect]
    with Proxy(live_server.url, make()) as broken:
        report = probe(broken, surface)

    failed = {v.rule.id: v.reason for v in report.verdicts if v.status == FAIL}
    assert list(failed) == [rule], report.text()
    assert words in failed[rule], failed[rule]
    assert report.verdict(rule).exchanges, "a failure shows the request and the answer"
    assert not report.errors, report.errors
    # Whatever the proxy told the probe, the probe cancelled what it booked.
    assert not [lid for lid, active, _ in probe_appointments() if active]
    assert active_overlaps() == 0


def test_the_double_booking_report_names_both_winners(live_server, probe):
    with Proxy(live_server.url, DoubleBooking()) as broken:
        report = probe(broken, "rest", concurrent=4)

    reason = report.verdict("BOOK-CONCURRENT").reason
    assert "of 4 simultaneous bookings" in reason and "answered OK (APP_LID" in reason
    assert len(report.verdict("BOOK-CONCURRENT").exchanges) == 2


@pytest.mark.parametrize("surface", ["soap", "rest"])
def test_an_endpoint_that_does_not_answer_fails_without_the_probe_failing(surface, probe, credentials):
    report = probe("http://127.0.0.1:9", surface, timeout=5)  # nothing listens on the discard port

    assert not report.passed and not report.errors
    first = "WSDL-READ" if surface == "soap" else "REST-PATHS"
    assert report.verdict(first).status == FAIL and "ConnectionError" in report.verdict(first).reason


def test_a_url_that_is_not_the_service_fails_the_surface_rules(live_server, probe):
    report = probe(f"{live_server.url}/admin", "rest")

    assert not report.errors, report.errors
    assert report.verdict("REST-PATHS").status == FAIL and report.verdict("REST-ENVELOPE").status == FAIL
    assert report.verdict("GETCENTERS").status == FAIL
