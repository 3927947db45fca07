from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from results.services import ResultImportError, import_manifest


class Command(BaseCommand):
    help = (
        "Imports medical results from a CSV manifest (DOWNLOAD_LID, USER_LID, DOWNLOAD_CODE, DOWNLOAD_FILENAME, "
        "DOWNLOAD_TYPE, FILE_PATH, optional STATUS and CENTER_LID). All or nothing: any bad row imports nothing "
        "and every bad row is reported."
    )

    def add_arguments(self, parser):
        parser.add_argument("manifest", type=Path, help="CSV file; relative FILE_PATHs are read from its folder.")

    def handle(self, *args, manifest: Path, **options):
        try:
            report = import_manifest(path=manifest)
        except ResultImportError as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(exc.message) from None
        self.stdout.write(self.style.SUCCESS(str(report)))
