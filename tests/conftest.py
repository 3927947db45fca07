import pytest


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
