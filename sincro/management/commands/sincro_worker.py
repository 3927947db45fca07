from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from sincro.worker import Worker


class Command(BaseCommand):
    help = (
        "Applies the rows tuOtempO's Sincro agent writes into the support tables (TT_RESERVATIONS_TMP, "
        "TT_DELETE_RESERVATION, TT_DOWNLOADS_TMP) as the integration client HIS_SINCRO_CLIENT. Runs until "
        "stopped; --once applies what is pending and exits."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Apply the pending rows, then exit.")

    def handle(self, *args, once: bool, **options):
        try:
            applied = Worker(out=self.stdout).run(once=once)
        except ImproperlyConfigured as exc:  # no client named, or not one that exists
            raise CommandError(str(exc)) from None
        if once:
            self.stdout.write(f"{applied} row(s) applied.")
