"""One run of an exchange command: recorded in the exchange log from its start, ended with its
outcome, and turned into the command's exit status: 0 done, 1 failed (with a one-line reason),
3 done in part (some rows or files refused; the report names them)."""

import contextlib
import time
from dataclasses import dataclass, field

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import timezone

from exchange.domain import DomainError
from exchange.models import ExchangeRun, RunOutcome
from exchange.transports import ExchangeError, Location, parse_url

EXIT_PARTIAL = 3
MSG_DATABASE = "The database cannot be reached: {reason}."
MSG_UNEXPECTED = "Unexpected {kind}: {reason}."


@dataclass
class RunReport:
    """What a run did: rows written or read, rows or files refused, files written, a summary."""

    rows: int = 0
    errors: int = 0
    files: list[str] = field(default_factory=list)
    summary: str = ""


class ExchangeCommand(BaseCommand):
    """An exchange command: parses its URL, runs `transfer`, and records the run whatever happens."""

    url_option = "to"

    def transfer(self, location: Location, run: ExchangeRun, **options) -> RunReport:
        raise NotImplementedError

    def describe(self, **options) -> str:
        """The run's options worth keeping in the log (never a secret)."""
        return ""

    def handle(self, *args, **options):
        started, clock = timezone.now(), time.monotonic()
        location, problem = None, ""
        try:
            location = parse_url(options[self.url_option])
        except ExchangeError as exc:
            problem = str(exc)
        try:
            run = ExchangeRun.objects.create(
                command=self._name(),
                destination=location.where if location else "(unusable URL)",
                options=self.describe(**options)[:200],
                started=started,
            )
        except DatabaseError as exc:
            raise CommandError(MSG_DATABASE.format(reason=_one_line(exc, location))) from None
        if problem:
            self._end(run, clock, RunOutcome.FAILED, RunReport(summary=problem))
            raise CommandError(problem)
        try:
            report = self.transfer(location, run, **options)
        except (ExchangeError, DomainError, ValueError) as exc:
            message = _one_line(exc, location)
            self._end(run, clock, RunOutcome.FAILED, RunReport(summary=message))
            raise CommandError(message) from None
        except DatabaseError as exc:
            message = MSG_DATABASE.format(reason=_one_line(exc, location))
            self._end(run, clock, RunOutcome.FAILED, RunReport(summary=message))
            raise CommandError(message) from None
        except Exception as exc:
            message = MSG_UNEXPECTED.format(kind=type(exc).__name__, reason=_one_line(exc, location))
            self._end(run, clock, RunOutcome.FAILED, RunReport(summary=message))
            raise CommandError(message) from None
        outcome = RunOutcome.PARTIAL if report.errors else RunOutcome.OK
        self._end(run, clock, outcome, report)
        if report.errors:
            raise CommandError(report.summary, returncode=EXIT_PARTIAL)
        self.stdout.write(report.summary)

    def _name(self) -> str:
        return type(self).__module__.rsplit(".", 1)[-1]

    @staticmethod
    def _end(run: ExchangeRun, clock: float, outcome: str, report: RunReport) -> None:
        run.outcome = outcome
        run.duration_ms = round((time.monotonic() - clock) * 1000)
        run.rows, run.errors = report.rows, report.errors
        run.files = "\n".join(report.files)
        run.message = report.summary
        with contextlib.suppress(DatabaseError):  # the run's own failure is what the command reports
            run.save()


def _one_line(exc: BaseException, location: Location | None) -> str:
    text = " ".join(str(getattr(exc, "message", None) or exc).split()) or type(exc).__name__
    for secret in location.secrets if location else ():
        text = text.replace(secret, "***")
    return text
