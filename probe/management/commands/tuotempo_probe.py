import json
import os
import zoneinfo
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from probe.scenario import Options, run_probe
from probe.transport import Credentials

SECRET_VARIABLE = "TUOTEMPO_PROBE_SECRET"  # noqa: S105 - the name of a variable, not a secret
BEARER_VARIABLE = "TUOTEMPO_PROBE_BEARER"


class Command(BaseCommand):
    help = (
        "Plays tuOtempO against an endpoint that claims to implement the integration guide and prints "
        "a report per rule (PASS / WARN / FAIL / SKIP). Exit status 0 when nothing fails."
    )
    requires_system_checks = []  # a client of another server: nothing of this one needs checking

    def add_arguments(self, parser):
        parser.add_argument("--url", required=True, help="The SOAP endpoint (its ?wsdl is the WSDL) or the REST base.")
        parser.add_argument("--surface", required=True, choices=["soap", "rest"])
        parser.add_argument("--user", help="Basic user name (with --secret).")
        parser.add_argument("--secret", help=f"Basic password; or set {SECRET_VARIABLE}.")
        parser.add_argument("--bearer", help=f"Bearer secret instead of --user/--secret; or set {BEARER_VARIABLE}.")
        parser.add_argument("--read-only", action="store_true", help="Book nothing: only the read methods.")
        parser.add_argument("--center", help="A CENTER_LID sent with every call (a client of one center).")
        parser.add_argument(
            "--pattern", choices=["lid", "tid"], default="lid", help="How the client names patients (default lid)."
        )
        parser.add_argument(
            "--time-zone",
            help="The hospital's IANA time zone (the westernmost of its centers): makes 'today' and "
            "'slot in the past' exact. Without it a slot counts as past only if it is past everywhere.",
        )
        parser.add_argument("--results-user", help="A patient (USER_LID, or USER_TID) with results to read.")
        parser.add_argument("--concurrent", type=int, default=5, help="Simultaneous bookings of one slot (default 5).")
        parser.add_argument("--timeout", type=float, default=60.0, help="Seconds to wait for each answer.")
        parser.add_argument("--json", type=Path, help="Also write the report as JSON to this file.")
        parser.add_argument("--junit", type=Path, help="Also write the report as JUnit XML to this file.")

    def handle(self, *args, **o):
        secret = o["secret"] or os.environ.get(SECRET_VARIABLE)
        bearer = o["bearer"] or os.environ.get(BEARER_VARIABLE)
        if bearer and (o["user"] or o["secret"]):
            raise CommandError("Give --user with --secret, or --bearer, not both.")
        if bool(o["user"]) != bool(secret) and not bearer:
            raise CommandError(f"--user needs --secret (or {SECRET_VARIABLE}), and --secret needs --user.")
        if o["time_zone"]:
            try:
                zoneinfo.ZoneInfo(o["time_zone"])
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise CommandError(
                    f"--time-zone {o['time_zone']!r} is not an IANA time zone (e.g. Europe/Madrid)."
                ) from None
        if o["concurrent"] < 2:
            raise CommandError("--concurrent must be at least 2.")
        options = Options(
            url=o["url"],
            surface=o["surface"],
            credentials=Credentials(user=o["user"], secret=secret, bearer=bearer),
            read_only=o["read_only"],
            center=o["center"],
            pattern=o["pattern"],
            time_zone=o["time_zone"],
            results_user=o["results_user"],
            concurrent=o["concurrent"],
            timeout=o["timeout"],
        )
        report = run_probe(options)
        self.stdout.write(report.text())
        if o["json"]:
            o["json"].write_text(json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        if o["junit"]:
            o["junit"].write_text(report.junit(), encoding="utf-8")
        if not report.passed:
            raise CommandError(f"the endpoint breaks the guide or the contract: {report.summary()}", returncode=1)
