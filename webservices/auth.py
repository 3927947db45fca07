"""Who is calling: HTTP Basic (NAME:SECRET) or Bearer (SECRET), on both surfaces."""

import base64
import binascii
import hmac

from django.http import HttpRequest

from clients.addresses import client_address
from clients.models import IntegrationClient, hash_secret
from clients.selectors import address_allowed, check_not_throttled
from core.errors import FORBIDDEN, UNAUTHORIZED, DomainError
from webservices.context import call_of

REALM = 'Basic realm="his", charset="UTF-8", Bearer realm="his"'
MSG_NO_CREDENTIALS = "Credentials are required: send Authorization: Basic base64(NAME:SECRET) or Bearer SECRET."
MSG_BAD_CREDENTIALS = "These credentials are not valid, or the client is inactive."
MSG_ADDRESS_REFUSED = "This client may not call from address {address}."

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
            raise DomainError(UNAUTHORIZED, MSG_BAD_CREDENTIALS) from None
        if sep:
            return name, secret
        raise DomainError(UNAUTHORIZED, MSG_BAD_CREDENTIALS)
    raise DomainError(UNAUTHORIZED, MSG_NO_CREDENTIALS)


def authenticate(request: HttpRequest) -> IntegrationClient:
    """The active client whose credentials the request carries (the secret compared in constant time
    against its stored hash), noted on the call; DomainError when there is none."""
    call = call_of(request)
    if call.client is not None:
        return call.client
    name, secret = _credentials(request)
    call.attempted_name = name
    address = client_address(request)
    check_not_throttled(address=address, name=name)
    digest = hash_secret(secret)
    if name is None:
        client = IntegrationClient.objects.filter(secret_hash=digest).first()
    else:
        client = IntegrationClient.objects.filter(name=name).first()
    expected = client.secret_hash if client else _DUMMY_HASH
    if not (hmac.compare_digest(expected, digest) and client and client.is_active):
        raise DomainError(UNAUTHORIZED, MSG_BAD_CREDENTIALS)
    if not address_allowed(client, address):
        raise DomainError(FORBIDDEN, MSG_ADDRESS_REFUSED, address=address)
    call.client = client
    return client
