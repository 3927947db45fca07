"""One webservice call, whatever the surface: authenticate, invoke, audit, map failures.

Both shells call `serve()`; it never lets an exception through other than HisError, so no input
reaches an HTTP 500 or shows a traceback.
"""

import logging
import time
from collections.abc import Mapping
from typing import Any

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest
from django.utils import timezone

from his.auth import authenticate, client_address
from his.errors import SERVICE_UNAVAILABLE, HisError
from his.models import AuditEntry, IntegrationClient
from his.wire import Answer, Method, audit_ids, invoke

logger = logging.getLogger(__name__)

MSG_UNAVAILABLE = "The hospital's database is unavailable right now; try again in a moment."
MSG_INTERNAL = "The hospital's system could not answer this request; the error has been logged."


def serve(method: Method, *, request: HttpRequest, surface: str, raw: Mapping[str, Any]) -> Answer:
    started = time.monotonic()
    client = getattr(request, "his_client", None)
    answer: Answer | None = None
    outcome = "OK"
    try:
        if client is None:
            client = request.his_client = authenticate(request)
        answer = invoke(method, client=client, raw=raw)
        if answer.error is not None:
            outcome = answer.error.code.name
        return answer
    except HisError as exc:
        outcome = exc.code.name
        raise
    except (OperationalError, InterfaceError) as exc:
        logger.warning("database unavailable during %s: %s", method.name, exc, exc_info=True)
        outcome = SERVICE_UNAVAILABLE.name
        raise HisError(SERVICE_UNAVAILABLE, MSG_UNAVAILABLE, retry_after=5) from None
    except DatabaseError:
        logger.exception("database error during %s", method.name)
        outcome = SERVICE_UNAVAILABLE.name
        raise HisError(SERVICE_UNAVAILABLE, MSG_UNAVAILABLE, retry_after=5) from None
    except Exception:
        logger.exception("unexpected error during %s", method.name)
        outcome = "INTERNAL_ERROR"
        raise HisError(SERVICE_UNAVAILABLE, MSG_INTERNAL) from None
    finally:
        record(
            request=request,
            client=client,
            surface=surface,
            method=method.name,
            outcome=outcome,
            started=started,
            ids=audit_ids(raw, answer),
        )


def record(
    *,
    request: HttpRequest,
    client: IntegrationClient | None,
    surface: str,
    method: str,
    outcome: str,
    started: float,
    ids: dict[str, Any] | None = None,
) -> None:
    """Writes one audit entry; a failure to write it is logged, never shown to the caller."""
    request.his_audited = True
    try:
        AuditEntry.objects.create(
            time=timezone.now(),
            client=client,
            client_name=(client.name if client else getattr(request, "his_attempted_name", None) or "")[:100],
            surface=surface,
            method=method[:50],
            outcome=outcome,
            duration_ms=int((time.monotonic() - started) * 1000),
            remote_addr=client_address(request),
            ids=ids or {},
        )
    except Exception:
        logger.exception("could not write the audit entry for %s", method)
