"""Reads about integration clients: where they may call from, and who failed to authenticate lately."""

import datetime as dt
import ipaddress

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from centers.models import Center
from clients.addresses import parse_ip
from clients.models import AuditEntry, IntegrationClient
from core.errors import FORBIDDEN, NOT_FOUND, THROTTLED, UNAUTHORIZED, DomainError

MSG_THROTTLED = "Too many failed authentications from this address or for this client; retry in {seconds} seconds."
MSG_CENTER_FORBIDDEN = "{T.CENTER:cap} {lid!r} is not one of the centers this client may use."
MSG_CENTER_UNKNOWN = "{T.CENTER:cap} {lid!r} does not exist."


def client_centers(client: IntegrationClient) -> list[Center] | None:
    """The client's centers, or None when it may see every center."""
    centers = list(client.centers.all())
    return centers or None


def centers_of_call(client: IntegrationClient, center_lid: str | None) -> list[Center] | None:
    """The centers one call of the client spans: the one it names, which must be in its scope, else its
    whole scope (None: every center)."""
    scope = client_centers(client)
    if center_lid is None:
        return scope
    if scope is not None:
        for center in scope:
            if center.lid == center_lid:
                return [center]
        raise DomainError(FORBIDDEN, MSG_CENTER_FORBIDDEN, lid=center_lid)
    center = Center.objects.filter(lid=center_lid).first()
    if center is None:
        raise DomainError(NOT_FOUND, MSG_CENTER_UNKNOWN, lid=center_lid)
    return [center]


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
    """Refuses every attempt from an address, or for a client name, that failed to authenticate
    too often lately. The failures are counted in the audit log, so every server instance
    sharing the database sees the same count."""
    window = settings.HIS_AUTH_FAILURE_WINDOW
    since = timezone.now() - dt.timedelta(seconds=window)
    who = Q(remote_addr=address) if address else Q(pk__in=[])
    if name:
        who |= Q(client_name=name)
    failures = AuditEntry.objects.filter(who, time__gte=since, outcome=UNAUTHORIZED.name)
    if failures[: settings.HIS_AUTH_FAILURE_LIMIT].count() >= settings.HIS_AUTH_FAILURE_LIMIT:
        raise DomainError(THROTTLED, MSG_THROTTLED, seconds=window, retry_after=window)
