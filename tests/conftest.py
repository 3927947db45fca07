import pytest


def pytest_collection_modifyitems(config, items):
    """The system tests run last: one of them restarts PostgreSQL, which would break the
    connection of any database test after it in the same run."""
    items.sort(key=lambda item: item.get_closest_marker("system") is not None)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """SQLite tests use a file of their own, not memory: concurrency and live-server tests need
    real separate connections, and two test runs must never share a database."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("db") / "test.sqlite3")


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Every test writes result files into its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(scope="session")
def soap_surface(live_server):
    from tests.surfaces import Soap

    return Soap(live_server.url)


@pytest.fixture(scope="session")
def rest_surface(live_server):
    from tests.surfaces import Rest

    return Rest(live_server.url)


@pytest.fixture(params=["soap", "rest"])
def surface(request, live_server):
    """The same scenario through a real SOAP client and over REST."""
    return request.getfixturevalue(f"{request.param}_surface")


@pytest.fixture
def make_client(db):
    """Creates an integration client and returns its credentials."""
    from clients.services import create_integration_client
    from tests.surfaces import Credentials

    def make(name="tuotempo", centers=None, pattern="lid", allowed_ips=""):
        client, secret = create_integration_client(
            name=name, center_lids=None if centers is None else list(centers), pattern=pattern, allowed_ips=allowed_ips
        )
        return Credentials(client.name, secret)

    return make


@pytest.fixture
def creds(make_client):
    return make_client()
