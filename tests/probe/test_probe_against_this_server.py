"""The probe against this server, over SOAP and REST: nothing fails, and it leaves nothing booked."""

import pytest

from probe.report import PASS, SKIP
from probe.rules import RULES, WARN
from probe.scenario import Options, Probe
from probe.transport import Credentials
from tests.probe.conftest import endpoint
from tests.probe.hospital import active_overlaps, counts, new_client, probe_appointments

pytestmark = pytest.mark.live

# Where this server departs from CONTRACT.md today, each a WARN rule. CancelAppointment's message
# ("Appointment A27586 does not belong to this patient.") outgrows nvarchar(50) once APP_LIDs reach
# six characters, as they do on PostgreSQL, whose sequences the tests do not reset.
KNOWN_WARNINGS = {"soap": set(), "rest": set()}  # this server is the reference: nothing to warn about


@pytest.mark.parametrize("surface", ["soap", "rest"])
def test_every_rule_passes_on_this_server_and_everything_booked_is_cancelled(surface, live_server, probe):
    before = counts()
    report = probe(live_server.url, surface)

    assert report.passed, report.text()
    statuses = {v.rule.id: v.status for v in report.verdicts}
    other_surface = {r.id for r in RULES if r.surface and r.surface != surface}
    assert {rule for rule, status in statuses.items() if status == SKIP} == other_surface, report.text()
    assert {rule for rule, status in statuses.items() if status == WARN} <= KNOWN_WARNINGS[surface], report.text()
    assert all(statuses[r.id] == PASS for r in RULES if r.severity != WARN and r.id not in other_surface)

    booked = probe_appointments()
    assert len(booked) >= 2  # the life cycle's appointment and the winner of the simultaneous bookings
    assert not [lid for lid, active, _ in booked if active], "the probe left appointments active"
    after = counts()
    assert after["active"] == before["active"] and active_overlaps() == 0
    assert after["appointments"] == before["appointments"] + len(booked)


@pytest.mark.parametrize("surface", ["soap", "rest"])
def test_read_only_books_nothing_and_skips_the_booking_rules(surface, live_server, probe):
    before = counts()
    report = probe(live_server.url, surface, read_only=True)

    assert report.passed, report.text()
    writes = [r.id for r in RULES if r.writes]
    assert {report.verdict(rule).reason for rule in writes} == {"--read-only"}
    assert report.verdict("SEARCH-ORDER").status == PASS and report.verdict("RESULTS-CONTENT").status == PASS
    assert counts() == before


def test_read_only_over_rest_sends_only_gets(live_server, credentials):
    run = Probe(Options(url=endpoint(live_server.url, "rest"), surface="rest", credentials=credentials, read_only=True))
    run.run()
    assert {reply.exchange.verb for reply in run.target.replies} == {"GET"}
    assert not {reply.method.name for reply in run.target.replies} & {
        "addAppointment",
        "deleteAppointment",
        "CancelAppointment",
    }


@pytest.mark.parametrize("surface", ["soap", "rest"])
def test_a_client_of_one_center_books_only_there(surface, live_server, probe, hospital):
    name, secret = new_client("probe-norte", centers=("NOR",))
    report = probe(
        live_server.url, surface, credentials=Credentials(user=name, secret=secret), center="NOR", results_user=None
    )

    assert report.passed, report.text()
    assert {center for _, _, center in probe_appointments()} == {"NOR"}
    # A result of Madrid is out of this client's reach: the probe has no patient with results to read.
    assert report.verdict("RESULTS-LIST").status in (WARN, SKIP)


@pytest.mark.parametrize("surface", ["soap", "rest"])
def test_without_credentials_every_call_is_refused_and_the_probe_says_so(surface, live_server, probe):
    report = probe(live_server.url, surface, credentials=Credentials(), read_only=True)

    assert not report.passed
    assert report.verdict("AUTH-REQUIRED").status == SKIP
    assert "UNAUTHORIZED" in report.verdict("GETCENTERS").reason
