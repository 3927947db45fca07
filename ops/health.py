"""GET /health/live and GET /health/ready, for a load balancer or an orchestrator.

Built by hand rather than with django-health-check: its view answers a failure with HTTP 500 (the
contract says 503), runs the checks in threads of their own (each probe then opens database
connections outside the request's), and has no migrations check; the shape here is its shape: named
checks, each "ok" or what is down. No credentials, no data: names and short reasons only.

Besides the checks below, every check another app registered in core.operations runs too (the Sincro
worker's heartbeat, once the Sincro app is installed); an app that is not installed has none.
"""

import functools
import logging
import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from core.operations import database_unavailable, readiness_checks

logger = logging.getLogger(__name__)

OK = "ok"
MSG_DB_DOWN = "down: the database does not answer ({kind})"
MSG_NOT_CHECKED = "not checked: the database does not answer"
MSG_NOT_MIGRATED = "down: {count} migration(s) not applied ({names})"
MSG_STORAGE_DOWN = "down: the result files' storage cannot be {what} ({kind})"
MSG_CHECK_FAILED = "down: the check failed ({kind})"
PROBE = b"his readiness probe\n"


def check_database() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return None


@functools.cache
def migrations_on_disk() -> frozenset[tuple[str, str]]:
    """Every migration of the code this process runs (read once: the code does not change under it)."""
    return frozenset(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


def check_migrations() -> str | None:
    applied = set(MigrationRecorder(connection).applied_migrations())
    missing = sorted(migrations_on_disk() - applied)
    if not missing:
        return None
    names = ", ".join(f"{app}.{name}" for app, name in missing[:3]) + (", ..." if len(missing) > 3 else "")
    return MSG_NOT_MIGRATED.format(count=len(missing), names=names)


def check_storage() -> str | None:
    """Writes, reads back and deletes a small file where result files are stored (MEDIA_ROOT)."""
    what = "written"
    try:
        name = default_storage.save(f".health/{uuid.uuid4().hex}.txt", ContentFile(PROBE))
        what = "read"
        with default_storage.open(name, "rb") as handle:
            if handle.read() != PROBE:
                return MSG_STORAGE_DOWN.format(what=what, kind="content differs")
        what = "cleaned"
        default_storage.delete(name)
    except Exception as exc:  # any storage backend: disk, S3...
        logger.warning("readiness: storage cannot be %s: %s", what, exc)
        return MSG_STORAGE_DOWN.format(what=what, kind=type(exc).__name__)
    return None


def run_checks() -> dict[str, str]:
    """Each check's name and "ok" or what is down."""
    results: dict[str, str] = {}
    try:
        check_database()
        results["database"] = OK
        database_up = True
    except DatabaseError as exc:
        logger.warning("readiness: database unavailable: %s", exc)
        database_unavailable.send(sender="health", exception=exc)
        results["database"] = MSG_DB_DOWN.format(kind=type(exc).__name__)
        database_up = False
    checks = {"migrations": check_migrations, "storage": check_storage, **readiness_checks()}
    for name, check in checks.items():
        if name == "migrations" and not database_up:
            results[name] = MSG_NOT_CHECKED
            continue
        try:
            problem = check()
        except Exception as exc:
            logger.warning("readiness check %s failed: %s", name, exc)
            problem = MSG_CHECK_FAILED.format(kind=type(exc).__name__)
        results[name] = OK if problem is None else problem
    return results


def _answer(body: dict, status: int = 200) -> JsonResponse:
    return JsonResponse(body, status=status, headers={"Cache-Control": "no-store"})


@require_safe
def live(request: HttpRequest) -> JsonResponse:
    """The process answers: nothing else is looked at (a restart would not cure the database)."""
    return _answer({"status": "ok"})


@require_safe
def ready(request: HttpRequest) -> JsonResponse:
    """Whether this instance can serve calls: 200 when every check is ok, else 503 naming what is down."""
    results = run_checks()
    down = sorted(name for name, result in results.items() if result != OK)
    if down:
        return _answer({"status": "down", "down": down, "checks": results}, status=503)
    return _answer({"status": "ok", "checks": results})
