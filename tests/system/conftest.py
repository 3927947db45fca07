"""System tests: the real server (gunicorn) on a real PostgreSQL, under load and faults.

They need PostgreSQL: without a postgres:// DATABASE_URL the whole folder is skipped; with one that
cannot be reached they fail. Each session works in a database of its own (his_system_<pid>) on the
server DATABASE_URL names, dropped at the end.
"""

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from tests.system import helpers

HERE = Path(__file__).resolve().parent
DATABASE_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = urlsplit(DATABASE_URL).scheme in ("postgres", "postgresql", "pgsql")
MSG_NEEDS_POSTGRES = (
    "system tests need PostgreSQL: set DATABASE_URL=postgres://USER@HOST:PORT/NAME (a database his_system_<pid> "
    "is created on that server), or run `make reliability`"
)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "system: starts gunicorn on PostgreSQL and puts it under load and faults (make reliability)"
    )


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason=MSG_NEEDS_POSTGRES)
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.system)
            if not ON_POSTGRES:
                item.add_marker(skip)


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


@dataclass(frozen=True)
class SystemDb:
    url: str
    secret: str  # of the integration client the load uses
    throttle_secret: str  # of a client whose name the throttling test locks out
    workdir: Path


@pytest.fixture(scope="session")
def system_db(tmp_path_factory):
    """A fresh database, migrated, with a small hospital and two integration clients."""
    name = f"his_system_{os.getpid()}"
    admin_url = with_database(DATABASE_URL, "postgres")
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        pytest.fail(f"DATABASE_URL points at PostgreSQL but it cannot be reached: {exc}", pytrace=False)
    url = with_database(DATABASE_URL, name)
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        helpers.manage(url, "migrate", "--noinput", "--verbosity", "0")
        helpers.manage(url, "shell", "-c", "from tests.system.helpers import seed_small_hospital as s; s()")
        yield SystemDb(
            url=url,
            # The load measures the server, not a client's quota: its client has no request-rate limit.
            secret=helpers.create_client(url, helpers.CLIENT_NAME, "--rate-limit", "0"),
            throttle_secret=helpers.create_client(url, helpers.THROTTLE_CLIENT_NAME),
            workdir=tmp_path_factory.mktemp("system"),
        )
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=30) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def start_server(system_db):
    """Starts gunicorn instances on the test database (`make serve`'s command); stops them all after."""
    started: list[helpers.Server] = []

    def start(*, workers: int = 2, env: dict | None = None) -> helpers.Server:
        server = helpers.Server(
            database_url=system_db.url,
            secret=system_db.secret,
            workdir=system_db.workdir,
            workers=workers,
            env=env or {},
        )
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


def pytest_terminal_summary(terminalreporter):
    if helpers.FIGURES:
        terminalreporter.section("system test figures")
        for line in helpers.FIGURES:
            terminalreporter.write_line(line)
