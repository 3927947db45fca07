from exchange.exports import export_catalog
from exchange.runs import ExchangeCommand, RunReport


class Command(ExchangeCommand):
    help = (
        "Writes catalog_YYYYMMDD.txt (guide B.2.1.3: the KeyEntities columns, tab-separated, one row per "
        "resource, activity and insurance) to a folder: file:///dir, ftp://, ftps:// or sftp://user@host/dir."
    )

    def add_arguments(self, parser):
        parser.add_argument("--to", required=True, metavar="URL", help="The folder to write to.")
        parser.add_argument("--center", metavar="CENTER_LID", help="Only this center's resources.")

    def describe(self, *, center, **options):
        return f"--center {center}" if center else ""

    def transfer(self, location, run, *, center, **options):
        written = export_catalog(location=location, center=center)
        return RunReport(
            rows=written.rows,
            files=[written.name],
            summary=f"{written.rows} catalogue row(s) written to {location.where}/{written.name}",
        )
