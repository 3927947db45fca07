"""Who is calling: HTTP Basic (NAME:SECRET) or Bearer (SECRET), on both surfaces."""

import base64
import binascii
import hmac

from django.http import HttpRequest

from clients.addresses import client_address
from clients.models import IntegrationClient, hash_secret
from clients.selectors import address_allowed, check_not_throttled, check_rate
from core.errors import FORBIDDEN, UNAUTHORIZED, DomainError
from webservices.context import call_of

REALM = 'Basic realm="his", charset="UTF-8", Bearer realm="his"'
MSG_NO_CREDENTIALS = "Credentials are required: send Authorization: Basic base64(NAME:SECRET) or Bearer SECRET."
MSG_BAD_CREDENTIALS = "These credentials are not valid, or the client is inactive."
MSG_ADDRESS_REFUSED = "This client may not call from address {address}."

_DUMMY_HASH = hash_secret("no such client")
CHALLENGED = "CHALLENGED"  # the audit's outcome of a call without credentials: a challenge, not a failure


def _credentials(request: HttpRequest) -> tuple[str | None, str] | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return None, value
    if scheme.lower() == "basic" and value:
        try:
            name, sep, secret = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise DomainError(UNAUTHORIZED, MSG_BAD_CREDENTIALS) from None
        if sep:
            return name, secret
        raise DomainError(UNAUTHORIZED, MSG_BAD_CREDENTIALS)
    if header.strip():
        raise DomainError(UNAUTHORIZED, MSG_BAD_CREDENTIALS)  # an unknown scheme: a failed attempt
    return None


def authenticate(request: HttpRequest) -> IntegrationClient:
    """The active client whose credentials the request carries, noted on the call; DomainError when there
    is none. In this order: no credentials is a challenge (401, not counted as a failure); an address that
    failed too often under that name is refused; a client called from an address outside its allow-list
    is refused before its secret is looked at; the secret is compared in constant time with its stored
    hash; last, the client's rate of calls."""
    call = call_of(request)
    if call.client is not None:
        return call.client
    credentials = _credentials(request)
    if credentials is None:
        call.outcome = CHALLENGED
        raise DomainError(UNAUTHORIZED, MSG_NO_CREDENTIALS)
    name, secret = credentials
    call.attempted_name = name
    address = client_address(request)
    check_not_throttled(address=address, name=name)
    digest = hash_secret(secret)
    if name is None:
        client = IntegrationClient.objects.filter(secret_hash=digest).first()
        # A bare secret from a wrong address is answered as a wrong secret: the answer confirms nothing.
        if client is not None and not address_allowed(client, address):
            client = None
    else:
        client = IntegrationClient.objects.filter(name=name, is_active=True).first()
        if client is not None and not address_allowed(client, address):
            raise DomainError(FORBIDDEN, MSG_ADDRESS_REFUSED, address=address)
    expected = client.secret_hash if client else _DUMMY_HASH
    if not (hmac.compare_digest(expected, digest) and client and client.is_active):
        raise DomainError(UNAUTHORIZED, MSG_BAD_CREDENTIALS)
    call.client = client
    check_rate(client)
    return client
