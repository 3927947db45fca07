from exchange.imports import import_folder
from exchange.runs import ExchangeCommand
from exchange.transports import open_folder


class Command(ExchangeCommand):
    help = (
        "Applies tuOtempO's replies (guide A.1.2.1): every *.csv in the folder; CANCELLED by USER/ADMIN cancels, "
        "APPROVED records the patient's confirmation. Each file is then moved to processed/ or failed/ with a "
        ".report.txt. Exit status 3 when some rows or files were refused."
    )
    url_option = "from_url"

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="from_url", required=True, metavar="URL", help="The folder to read.")
        parser.add_argument("--center", metavar="CENTER_LID", help="Apply only to this center's appointments.")

    def describe(self, *, center, **options):
        return f"--center {center}" if center else ""

    def transfer(self, location, run, *, center, **options):
        with open_folder(location) as folder:
            return import_folder(folder=folder, run=run, center=center)
