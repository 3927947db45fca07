import pytest

from probe.scenario import Options, run_probe
from probe.transport import Credentials
from tests.probe.hospital import RESULTS_PATIENT, TIME_ZONE, build_hospital, new_client


@pytest.fixture
def hospital(transactional_db):
    return build_hospital()


@pytest.fixture
def credentials(hospital) -> Credentials:
    name, secret = new_client()
    return Credentials(user=name, secret=secret)


def endpoint(base: str, surface: str) -> str:
    return f"{base}/soap/" if surface == "soap" else f"{base}/api/"


@pytest.fixture
def probe(credentials):
    """Runs the probe as a vendor would against our hospital: exact clock, a patient with results."""

    def run(base: str, surface: str, **options):
        options.setdefault("credentials", credentials)
        options.setdefault("time_zone", TIME_ZONE)
        options.setdefault("results_user", RESULTS_PATIENT)
        return run_probe(Options(url=endpoint(base, surface), surface=surface, **options))

    return run
