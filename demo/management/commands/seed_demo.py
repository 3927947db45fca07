from django.core.management.base import BaseCommand

from demo.hospital import SINCRO_DEMO_CLIENT, ensure_sincro_client, seed_demo_hospital, summarise


class Command(BaseCommand):
    help = (
        "Loads the demo hospital (centers, doctors, activities, insurances, weekly rules, patients, "
        "appointments, results). Deterministic for a seed; a second run changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1, help="Seed of the generated patients and appointments.")

    def handle(self, *args, seed: int, **options):
        created = seed_demo_hospital(seed=seed)
        self.stdout.write(summarise(created, seed=seed))
        if ensure_sincro_client():
            self.stdout.write(f"Sincro client {SINCRO_DEMO_CLIENT!r} created: make run's worker applies rows as it.")
