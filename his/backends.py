"""The admin's login, throttled like the webservices' authentication."""

import time

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver

from his.auth import check_throttle, client_address
from his.dispatch import record
from his.errors import THROTTLED, UNAUTHORIZED, HisError

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
                check_throttle(client_address(request), admin_name(username))
            except HisError:
                request.his_throttled = True
                raise PermissionDenied from None
        return super().authenticate(request, username=username, password=password, **kwargs)


@receiver(user_login_failed)
def audit_failed_admin_login(sender, credentials, request=None, **kwargs):
    if request is None:
        return
    request.his_attempted_name = admin_name(credentials.get("username"))
    outcome = THROTTLED if getattr(request, "his_throttled", False) else UNAUTHORIZED
    record(request=request, client=None, surface="ADMIN", method=ADMIN_LOGIN, outcome=outcome.name,
           started=time.monotonic())  # fmt: skip
