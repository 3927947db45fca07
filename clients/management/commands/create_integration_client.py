import json

from django.core.management.base import BaseCommand, CommandError

from clients.models import DEFAULT_RATE_LIMIT
from clients.services import create_integration_client
from core.errors import DomainError


class Command(BaseCommand):
    help = "Creates an integration client (one tuOtempO instance) and prints its secret once, as JSON."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument(
            "--centers",
            default=None,
            help="Comma-separated CENTER_LIDs, the only centers the client may use. Without it: every center.",
        )
        parser.add_argument("--pattern", default="lid", choices=["lid", "tid"], help="Patient pattern.")
        parser.add_argument("--allowed-ips", default="", help="Comma-separated addresses or CIDR networks.")
        parser.add_argument(
            "--rate-limit",
            type=int,
            default=DEFAULT_RATE_LIMIT,
            help=f"Calls per minute before THROTTLED (default {DEFAULT_RATE_LIMIT}; 0: no limit).",
        )

    def handle(self, *args, name, centers, pattern, allowed_ips, rate_limit, **options):
        lids = None if centers is None else [lid.strip() for lid in centers.split(",") if lid.strip()]
        try:
            client, secret = create_integration_client(
                name=name, center_lids=lids, pattern=pattern, allowed_ips=allowed_ips, rate_limit=rate_limit
            )
        except DomainError as error:
            raise CommandError(error.message) from None
        scope = "every center: the grant of all centers, present and future" if lids is None else ", ".join(lids)
        if lids == []:
            scope = "no center yet: it sees nothing until centers are added in the admin"
        self.stderr.write(
            f"Created client {client.name!r} ({scope}, pattern {pattern}). Keep the secret: it is not shown again."
        )
        self.stdout.write(json.dumps({"name": client.name, "secret": secret}))
