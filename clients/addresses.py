"""The address a request comes from, as the allow-lists, throttling and the audit log see it."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def parse_ip(address: str):
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        return None


def _in(address: str, networks) -> bool:
    ip = parse_ip(address)
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
            return address if parse_ip(address) else remote
    return remote
