"""Who is calling: HTTP Basic (NAME:SECRET) or Bearer (SECRET), on both surfaces."""

import base64
import binascii
import datetime as dt
import hmac
import ipaddress

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from his.errors import FORBIDDEN, THROTTLED, UNAUTHORIZED, HisError
from his.models import AuditEntry, IntegrationClient, hash_secret

REALM = 'Basic realm="his", charset="UTF-8", Bearer realm="his"'
MSG_NO_CREDENTIALS = "Credentials are required: send Authorization: Basic base64(NAME:SECRET) or Bearer SECRET."
MSG_BAD_CREDENTIALS = "These credentials are not valid, or the client is inactive."
MSG_ADDRESS_REFUSED = "This client may not call from address {address}."
MSG_THROTTLED = "Too many failed authentications from this address or for this client; retry in {seconds} seconds."

_DUMMY_HASH = hash_secret("no such client")


def _credentials(request: HttpRequest) -> tuple[str | None, str]:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return None, value
    if scheme.lower() == "basic" and value:
        try:
            name, sep, secret = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise HisError(UNAUTHORIZED, MSG_BAD_CREDENTIALS) from None
        if sep:
            return name, secret
        raise HisError(UNAUTHORIZED, MSG_BAD_CREDENTIALS)
    raise HisError(UNAUTHORIZED, MSG_NO_CREDENTIALS)


def _ip(address: str):
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        return None


def _in(address: str, networks) -> bool:
    ip = _ip(address)
    return ip is not None and any(ip in network for network in networks)


def client_address(request: HttpRequest) -> str | None:
    """The caller's address: REMOTE_ADDR, or behind a trusted proxy, the last address of
    X-Forwarded-For that is not one of the trusted proxies."""
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = settings.HIS_TRUSTED_PROXIES
    if not proxies or remote is None or not _in(remote, proxies):
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    for address in reversed(forwarded):
        if not _in(address, proxies):
            return address if _ip(address) else remote
    return remote


def address_allowed(client: IntegrationClient, address: str | None) -> bool:
    rules = [r.strip() for r in client.allowed_ips.replace(",", "\n").splitlines() if r.strip()]
    if not rules:
        return True
    ip = _ip(address or "")
    if ip is None:
        return False
    for rule in rules:
        try:
            if ip in ipaddress.ip_network(rule, strict=False):
                return True
        except ValueError:
            continue
    return False


def check_throttle(address: str | None, name: str | None) -> None:
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
        raise HisError(THROTTLED, MSG_THROTTLED.format(seconds=window), retry_after=window)


def authenticate(request: HttpRequest) -> IntegrationClient:
    """The active client whose credentials the request carries; the secret is compared in
    constant time against its stored hash."""
    name, secret = _credentials(request)
    request.his_attempted_name = name
    address = client_address(request)
    check_throttle(address, name)
    digest = hash_secret(secret)
    if name is None:
        client = IntegrationClient.objects.filter(secret_hash=digest).first()
    else:
        client = IntegrationClient.objects.filter(name=name).first()
    expected = client.secret_hash if client else _DUMMY_HASH
    if not (hmac.compare_digest(expected, digest) and client and client.is_active):
        raise HisError(UNAUTHORIZED, MSG_BAD_CREDENTIALS)
    if not address_allowed(client, address):
        raise HisError(FORBIDDEN, MSG_ADDRESS_REFUSED.format(address=address))
    return client
