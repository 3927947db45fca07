"""Reads about integration clients: where they may call from, and who failed to authenticate lately."""

import datetime as dt
import ipaddress
import math

from django.conf import settings
from django.utils import timezone

from clients.addresses import parse_ip
from clients.models import AuditEntry, IntegrationClient
from core.errors import THROTTLED, UNAUTHORIZED, DomainError

MSG_THROTTLED = "Too many failed authentications from this address or for this client; retry in {seconds} seconds."
MSG_RATE = "This client made {limit} calls within the last minute, its limit; retry in {seconds} seconds."
RATE_WINDOW_SECONDS = 60


def address_allowed(client: IntegrationClient, address: str | None) -> bool:
    """Whether the client may call from that address (an empty allow-list allows any)."""
    rules = [r.strip() for r in client.allowed_ips.replace(",", "\n").splitlines() if r.strip()]
    if not rules:
        return True
    ip = parse_ip(address or "")
    if ip is None:
        return False
    for rule in rules:
        try:
            if ip in ipaddress.ip_network(rule, strict=False):
                return True
        except ValueError:
            continue
    return False


def check_not_throttled(*, address: str | None, name: str | None) -> None:
    """Refuses the attempts of an address under a client name (or with a bare secret, no name) once that
    pair failed to authenticate too often lately. Another address, or another name, is not affected, so
    nobody can lock the real client out. Failures are counted in the audit log, which every server
    instance shares."""
    window = settings.HIS_AUTH_FAILURE_WINDOW
    since = timezone.now() - dt.timedelta(seconds=window)
    failures = AuditEntry.objects.filter(
        remote_addr=address, client_name=(name or "")[:100], time__gte=since, outcome=UNAUTHORIZED.name
    )
    if failures[: settings.HIS_AUTH_FAILURE_LIMIT].count() >= settings.HIS_AUTH_FAILURE_LIMIT:
        raise DomainError(THROTTLED, MSG_THROTTLED, seconds=window, retry_after=window)


def check_rate(client: IntegrationClient) -> None:
    """Refuses a call beyond the client's rate (calls served within the last minute, by every instance:
    counted in the audit log), saying when the oldest of them leaves the window."""
    limit = client.rate_limit
    if not limit:
        return
    now = timezone.now()
    window = dt.timedelta(seconds=RATE_WINDOW_SECONDS)
    served = AuditEntry.objects.filter(client=client, time__gte=now - window).exclude(outcome=THROTTLED.name)
    oldest_counted = served.order_by("-time").values_list("time", flat=True)[limit - 1 : limit].first()
    if oldest_counted is not None:
        seconds = max(1, math.ceil((oldest_counted + window - now).total_seconds()))
        raise DomainError(THROTTLED, MSG_RATE, limit=limit, seconds=seconds, retry_after=seconds)
