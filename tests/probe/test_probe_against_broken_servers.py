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
