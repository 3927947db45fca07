"""The probe's run: tuOtempO's calls in the order tuOtempO makes them, each answer checked against
the rules of probe/rules.py.

The steps: the surface (WSDL or REST paths), credentials, the catalogue (GetCenters, KeyEntities),
searchAvailabilities, then (unless read-only) the booking life cycle, simultaneous bookings, the
reminder methods, refused writes, and cancelling everything it booked; medical results; bad input;
and last the rules that hold for every answer of the run (no server error, envelope, formats...).

Each aspect of the contract belongs to one rule: a check reads what it needs leniently (a date
in another format still sorts) and leaves the strict check of that aspect to its own rule, so a
defect shows as one failing rule, not as a cascade.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
import traceback
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from probe.checks_answers import AnswerChecks
from probe.checks_booking import BookingChecks
from probe.checks_search import SearchChecks
from probe.checks_surface import StopProbe, SurfaceChecks
from probe.guide import BY_NAME, Method
from probe.report import Findings, Report, verdicts
from probe.rules import RULES, SOAP
from probe.transport import Credentials, Reply, RestTarget, SoapTarget, Target
from probe.values import Slot

# Without --time-zone, a slot is "past" only when it is past everywhere: before the wall clock of
# UTC-12, the last place on Earth where a day begins.
EARLIEST_CLOCK = dt.timedelta(hours=-12)


@dataclass
class Options:
    url: str
    surface: str  # "soap" or "rest"
    credentials: Credentials = field(default_factory=Credentials)
    read_only: bool = False
    center: str | None = None
    pattern: str = "lid"  # how the client names patients: USER_LID or USER_TID
    time_zone: str | None = None  # the hospital's (westernmost) time zone, for "today" and "past"
    results_user: str | None = None  # a patient with medical results to read
    concurrent: int = 5
    days: int = 14  # how far ahead to look for free slots
    timeout: float = 60.0


def run_probe(options: Options) -> Report:
    return Probe(options).run()


class Probe(SurfaceChecks, SearchChecks, BookingChecks, AnswerChecks):
    """One run against one endpoint; `run()` gives the report."""

    def __init__(self, options: Options, target: Target | None = None):
        self.options = options
        if target is None:
            kind = SoapTarget if options.surface == SOAP else RestTarget
            target = kind(options.url, options.credentials, options.timeout)
        self.target = target
        self.f = Findings()
        self.run_id = secrets.token_hex(3).upper()
        self.zone = zoneinfo.ZoneInfo(options.time_zone) if options.time_zone else None
        self.notes: list[str] = []
        self.errors: list[str] = []
        self.booked: dict[str, bool] = {}  # APP_LID -> cancelled
        self.missing: set[str] = set()  # methods the target does not serve
        self.activity: str | None = None
        self.slots: list[Slot] = []  # the first search, in order
        self.resource: str | None = None
        self.activities: list[str] = []  # from KeyEntities, likeliest to have slots first
        self.person: dict[str, str] = {}  # the life cycle's patient, as the probe sent it
        self.appointment: tuple | None = None  # (APP_LID, USER_LID, Slot) of the life cycle
        self.winner: tuple | None = None  # (Reply, person) of the simultaneous bookings

    # -------------------------------------------------------------- running

    def run(self) -> Report:
        started, clock = dt.datetime.now(dt.UTC), time.monotonic()
        steps: list[Callable[[], None]] = [self.surface, self.credentials, self.catalogue, self.search]
        if not self.options.read_only:
            steps += [self.book, self.book_together, self.cancel_by_patient, self.delete, self.bad_writes]
        steps += [self.results, self.bad_input]
        try:
            for step in steps:
                if not self.attempt(step):
                    break
        finally:
            if not self.options.read_only:
                self.attempt(self.cleanup)
        self.attempt(self.every_answer)
        self.explain_skips()
        return Report(
            url=self.options.url,
            surface=self.options.surface,
            started=started,
            seconds=time.monotonic() - clock,
            calls=len(self.target.replies) + (1 if self.options.surface == SOAP else 0),
            verdicts=verdicts(self.f),
            notes=self.notes,
            errors=self.errors,
        )

    def attempt(self, step: Callable[[], None]) -> bool:
        """Runs one step; False when nothing more can be checked. A failure of the probe itself
        (an answer it did not expect to have to read) is reported, and the other steps still run."""
        try:
            step()
        except StopProbe:
            return False
        except Exception as error:  # a probe bug must not hide the other steps
            where = traceback.extract_tb(error.__traceback__)[-1]
            module = Path(where.filename).name
            self.errors.append(f"{step.__name__}: {type(error).__name__}: {error} ({module}:{where.lineno})")
        return True

    def explain_skips(self) -> None:
        for rule in RULES:
            if self.f.observed(rule.id):
                continue
            if rule.surface and rule.surface != self.options.surface:
                self.f.skip(rule.id, f"{rule.surface.upper()} only")
            elif rule.writes and self.options.read_only:
                self.f.skip(rule.id, "--read-only")

    # -------------------------------------------------------------- calling

    def call(self, method: str, params: dict | None = None, **how) -> Reply:
        values = dict(params or {})
        if self.options.center and BY_NAME[method].takes_center and "CENTER_LID" not in values:
            values["CENTER_LID"] = self.options.center
        return self.target.call(method, values, **how)

    # -------------------------------------------------------------- clock

    def wall_clock(self, at: dt.datetime | None = None) -> dt.datetime:
        """Now (or `at`) as the hospital's wall clock; without its zone, the earliest wall clock on Earth."""
        moment = at or dt.datetime.now(dt.UTC)
        if self.zone:
            return moment.astimezone(self.zone).replace(tzinfo=None)
        return (moment + EARLIEST_CLOCK).replace(tzinfo=None)

    def today(self) -> dt.date:
        if self.zone:
            return self.wall_clock().date()
        return dt.datetime.now(dt.UTC).date()

    # -------------------------------------------------------------- field checks

    def field_problems(self, reply: Reply, method: Method | None = None) -> list[str]:
        """Rows that lack a field (REST: no key at all) or leave a NOT NULL one empty."""
        method = method or reply.method
        problems = []
        for i, row in enumerate(reply.records(), 1):
            for spec in method.fields:
                if self.options.surface == "rest" and spec.name not in row:
                    problems.append(f"record {i} has no {spec.name}")
                elif spec.required and row.get(spec.name) in (None, ""):
                    problems.append(f"record {i}: {spec.name} is empty (NOT NULL in the guide)")
        return problems
