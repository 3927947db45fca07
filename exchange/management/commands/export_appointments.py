from exchange.exports import export_appointments
from exchange.runs import ExchangeCommand, RunReport

MAX_HOURS = 24 * 366


def hours(value: str) -> int:
    number = int(value)
    if not 0 <= number <= MAX_HOURS:
        raise ValueError(value)
    return number


hours.__name__ = f"number of hours (0 to {MAX_HOURS})"  # argparse names the type in its message


class Command(ExchangeCommand):
    help = (
        "Writes appointments_YYYYMMDD_HHMM.csv (guide A.1.1: contact by phone or e-mail only, cancelled "
        "appointments with their STATUS) to a folder: file:///dir, ftp://, ftps:// or sftp://user@host/dir. "
        "Runs with the hospital's authority over every center; --center limits it to one."
    )

    def add_arguments(self, parser):
        parser.add_argument("--to", required=True, metavar="URL", help="The folder to write to.")
        parser.add_argument("--hours-ahead", type=hours, default=72, metavar="H", help="Default 72.")
        parser.add_argument("--hours-back", type=hours, default=24, metavar="H", help="Default 24.")
        parser.add_argument("--center", metavar="CENTER_LID", help="Only this center's appointments.")

    def describe(self, *, hours_back, hours_ahead, center, **options):
        return f"--hours-back {hours_back} --hours-ahead {hours_ahead}" + (f" --center {center}" if center else "")

    def transfer(self, location, run, *, hours_back, hours_ahead, center, **options):
        written = export_appointments(location=location, hours_back=hours_back, hours_ahead=hours_ahead, center=center)
        return RunReport(
            rows=written.rows,
            files=[written.name],
            summary=f"{written.rows} appointment(s) written to {location.where}/{written.name}",
        )
