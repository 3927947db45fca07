"""The admin's login, throttled like the webservices' authentication."""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver

from clients.addresses import client_address
from clients.selectors import check_not_throttled
from clients.services import record_call
from core.errors import THROTTLED, UNAUTHORIZED, DomainError

ADMIN_LOGIN = "admin login"


def admin_name(username: str | None) -> str:
    return f"admin:{username or ''}"[:100]


class ThrottledModelBackend(ModelBackend):
    """Refuses every admin login attempt, right password or not, from an address or for a user name
    that failed too often lately (HIS_AUTH_FAILURE_LIMIT within HIS_AUTH_FAILURE_WINDOW). Failures
    are counted in the audit log, so every instance sees the same count."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is not None:
            try:
                check_not_throttled(address=client_address(request), name=admin_name(username))
            except DomainError:
                request.admin_login_throttled = True
                raise PermissionDenied from None
        return super().authenticate(request, username=username, password=password, **kwargs)


@receiver(user_login_failed)
def audit_failed_admin_login(sender, credentials, request=None, **kwargs):
    if request is None:
        return
    outcome = THROTTLED if getattr(request, "admin_login_throttled", False) else UNAUTHORIZED
    record_call(client=None, client_name=admin_name(credentials.get("username")), surface="ADMIN",
                method=ADMIN_LOGIN, outcome=outcome.name, duration_ms=0, address=client_address(request))  # fmt: skip
