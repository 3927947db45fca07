import pytest

from clients.services import create_integration_client
from tests.sincro.agent import SincroAgent

SINCRO_CLIENT = "sincro-test"


@pytest.fixture
def sincro_client(transactional_db, settings):
    """The integration client the worker applies rows as (every center, pattern lid)."""
    client, secret = create_integration_client(name=SINCRO_CLIENT)
    settings.HIS_SINCRO_CLIENT = SINCRO_CLIENT
    client.secret = secret  # to ask the webservices the same questions
    return client


@pytest.fixture
def agent(transactional_db):
    agent = SincroAgent()
    yield agent
    agent.close()
