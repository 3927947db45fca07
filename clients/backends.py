"""The admin's login: refused by django-axes after repeated failures, and audited beside the webservices."""

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

from clients.addresses import client_address
from clients.services import record_call
from core.errors import THROTTLED, UNAUTHORIZED

ADMIN_LOGIN = "admin login"


def admin_name(username: str | None) -> str:
    return f"admin:{username or ''}"[:100]


class LockoutBackend(AxesStandaloneBackend):
    """axes' refusal of an address locked out for that user name, noted on the request for the audit."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        try:
            return super().authenticate(request, username=username, password=password, **kwargs)
        except AxesBackendPermissionDenied:
            request.admin_login_locked_out = True
            raise


@receiver(user_login_failed)
def audit_failed_admin_login(sender, credentials, request=None, **kwargs):
    if request is None:
        return
    outcome = THROTTLED if getattr(request, "admin_login_locked_out", False) else UNAUTHORIZED
    record_call(client=None, client_name=admin_name(credentials.get("username")), surface="ADMIN",
                method=ADMIN_LOGIN, outcome=outcome.name, duration_ms=0, address=client_address(request))  # fmt: skip
