"""Writes about integration clients and what they did."""

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from centers.models import Center
from clients.models import DEFAULT_RATE_LIMIT, AuditEntry, IntegrationClient, PatientPattern
from clients.signals import call_recorded
from core.errors import CONFLICT, INVALID_INPUT, NOT_FOUND, DomainError
from core.operations import current_request_id

logger = logging.getLogger(__name__)

MSG_NAME_TAKEN = "An integration client named {name!r} already exists."
MSG_UNKNOWN_CENTERS = "Unknown {T.CENTER}: {lids}."
MSG_BAD_PATTERN = "The patient pattern must be 'lid' or 'tid', not {pattern!r}."
MSG_BAD_NAME = "A client name must be 1 to 100 characters without ':' (it is the Basic user name)."


def check_client_name(*, name: str) -> None:
    """Refuses a name that cannot be the user name of HTTP Basic credentials."""
    if not name or len(name) > 100 or ":" in name:
        raise DomainError(INVALID_INPUT, MSG_BAD_NAME)


@transaction.atomic
def create_integration_client(
    *,
    name: str,
    center_lids: Sequence[str] | None = None,
    pattern: str = PatientPattern.LID,
    allowed_ips: str = "",
    rate_limit: int = DEFAULT_RATE_LIMIT,
) -> tuple[IntegrationClient, str]:
    """A new active client and its secret, which is shown this once and stored only hashed. Without a list
    of centers it holds the grant of every center; with one, only those centers."""
    check_client_name(name=name)
    if pattern not in PatientPattern.values:
        raise DomainError(INVALID_INPUT, MSG_BAD_PATTERN, pattern=pattern)
    if IntegrationClient.objects.filter(name=name).exists():
        raise DomainError(CONFLICT, MSG_NAME_TAKEN, name=name)
    centers = list(Center.objects.filter(lid__in=center_lids or ()))
    missing = sorted(set(center_lids or ()) - {c.lid for c in centers})
    if missing:
        raise DomainError(NOT_FOUND, MSG_UNKNOWN_CENTERS, lids=", ".join(missing))
    client = IntegrationClient(
        name=name,
        patient_pattern=pattern,
        allowed_ips=allowed_ips,
        all_centers=center_lids is None,
        rate_limit=rate_limit,
    )
    secret = client.set_new_secret()
    client.save()
    client.centers.set(centers)
    return client, secret


@transaction.atomic
def rotate_secret(*, client: IntegrationClient) -> str:
    """Replaces the client's secret; the old one stops working at once."""
    secret = client.set_new_secret()
    client.secret_rotated = timezone.now()
    client.save(update_fields=["secret_hash", "secret_rotated"])
    return secret


@transaction.atomic
def deactivate_clients(*, clients: Iterable[IntegrationClient]) -> int:
    """Refuses every further call of these clients at once; returns how many were active until now."""
    return IntegrationClient.objects.filter(pk__in=[c.pk for c in clients], is_active=True).update(is_active=False)


def record_call(
    *,
    client: IntegrationClient | None,
    client_name: str | None,
    surface: str,
    method: str,
    outcome: str,
    duration_ms: int,
    address: str | None,
    ids: dict[str, Any] | None = None,
    message: str = "",
    request_id: str | None = None,
    params: list[str] | None = None,
    warnings: list[dict[str, str]] | None = None,
) -> None:
    """Writes one audit entry: ids only, never names, contact data or content (`message`, a failed
    call's error message, must already be without the values the caller typed; `params`, the names
    the call sent, and `warnings`, what it relied on of the server's leniency, hold no values). The
    request id is the one being served unless given. A failure to write it is logged, never shown
    to the caller; either way `call_recorded` is sent, so the call is counted even when the database
    is gone."""
    entry = AuditEntry(
        time=timezone.now(),
        client=client,
        client_name=(client.name if client else client_name or "")[:100],
        surface=surface,
        method=method[:50],
        outcome=outcome,
        duration_ms=duration_ms,
        remote_addr=address,
        ids=ids or {},
        request_id=(current_request_id() if request_id is None else request_id)[:64],
        message=message[:300],
        params=params or [],
        warnings=warnings or [],
    )
    stored = False
    try:
        entry.save(force_insert=True)
        stored = True
    except Exception:
        logger.exception("could not write the audit entry for %s", method)
    for receiver, result in call_recorded.send_robust(sender=AuditEntry, entry=entry, stored=stored):
        if isinstance(result, Exception):
            logger.error("%r failed on the audit entry of %s: %r", receiver, method, result)
