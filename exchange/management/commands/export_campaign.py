from exchange.exports import CHANNELS, export_campaign
from exchange.runs import ExchangeCommand, RunReport


class Command(ExchangeCommand):
    help = (
        "Writes campaign_YYYYMMDD.csv and .xlsx (guide A.6): the patients who accepted the privacy terms and "
        "chose the channel (any channel without --channel), with only the contacts they chose; no names."
    )

    def add_arguments(self, parser):
        parser.add_argument("--to", required=True, metavar="URL", help="The folder to write to.")
        parser.add_argument("--center", metavar="CENTER_LID", help="Only patients of this center.")
        parser.add_argument("--channel", choices=sorted(CHANNELS), help="sms, email or tel (landline).")

    def describe(self, *, center, channel, **options):
        return " ".join(f"--{k} {v}" for k, v in (("center", center), ("channel", channel)) if v)

    def transfer(self, location, run, *, center, channel, **options):
        written = export_campaign(location=location, center=center, channel=channel)
        rows = written[0].rows
        names = [w.name for w in written]
        return RunReport(
            rows=rows, files=names, summary=f"{rows} patient(s) written to {location.where}/{' and '.join(names)}"
        )
