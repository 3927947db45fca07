"""Start-up refuses environment values it cannot use, naming the variable."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_settings(**env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("HIS_") and k != "DATABASE_URL"}
    environment.update(env)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import his.settings as s; print(s.DEBUG, s.TIME_ZONE, s.DATABASES['default']['ENGINE'])",
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HIS_DEBUG", "maybe"),
        ("HIS_TIME_ZONE", "Mars/Olympus"),
        ("HIS_LANGUAGE", "klingon"),
        ("DATABASE_URL", "mysql://root@localhost/his"),
        ("DATABASE_URL", "not a url"),
        ("HIS_SECRET_KEY", "short"),
        ("HIS_ALLOWED_HOSTS", " , "),
        ("HIS_MAX_BODY_BYTES", "lots"),
        ("HIS_HTTPS", "2"),
        ("HIS_TRUSTED_PROXIES", "10.0.0.1, not-an-address"),
    ],
)
def test_it_refuses_a_bad_value_naming_the_variable(variable, value):
    result = _load_settings(**{variable: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr


def test_debug_is_off_unless_asked_for_and_defaults_apply():
    result = _load_settings()
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "Europe/Madrid", "django.db.backends.sqlite3"]


def test_it_accepts_good_values():
    result = _load_settings(HIS_DEBUG="yes", HIS_TIME_ZONE="Atlantic/Canary", DATABASE_URL="postgres://u@h:5432/d")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "Atlantic/Canary", "django.db.backends.postgresql"]


def _manage(*args, **env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("HIS_") and k != "DATABASE_URL"}
    environment.update(env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True,
                          text=True, timeout=120)  # fmt: skip


def test_production_mode_passes_the_deployment_checks():
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", HIS_HTTPS="1", HIS_SECRET_KEY=secrets.token_urlsafe(50)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_openapi_schema_is_valid_and_generated_without_warnings():
    result = _manage("spectacular", "--validate", "--fail-on-warn", "--file", os.devnull)
    assert result.returncode == 0, result.stderr
