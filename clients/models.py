"""Who may call the webservices, and what each call did."""

import hashlib
import secrets

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from centers.models import Center


class PatientPattern(models.TextChoices):
    """How a client names patients: the guide's two patterns."""

    LID = "lid", _("by the hospital's patient id (USER_LID)")
    TID = "tid", _("by its own patient id (USER_TID)")


DEFAULT_RATE_LIMIT = 3000  # calls per minute and client: far above tuOtempO's need, far below an abuse


def hash_secret(secret: str) -> str:
    # Secrets are 256-bit random tokens, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


class IntegrationClient(models.Model):
    """One tuOtempO instance calling the webservices, with its secret, scope and patient pattern."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    secret_hash = models.CharField(_("secret (hash)"), max_length=64, unique=True, editable=False)
    all_centers = models.BooleanField(
        _("every center"),
        default=False,
        help_text=_(
            "The grant of every center, present and future. Without it the client sees only the centers "
            "listed below, and nothing when none is listed."
        ),
    )
    centers = models.ManyToManyField(
        Center,
        verbose_name=_("centers"),
        blank=True,
        related_name="integration_clients",
        help_text=_("The centers this client may use."),
    )
    rate_limit = models.PositiveIntegerField(
        _("calls per minute"),
        default=DEFAULT_RATE_LIMIT,
        help_text=_("Calls beyond this within any minute are refused (THROTTLED, with Retry-After); 0: no limit."),
    )
    patient_pattern = models.CharField(
        _("patient ids"), max_length=3, choices=PatientPattern.choices, default=PatientPattern.LID
    )
    is_active = models.BooleanField(_("active"), default=True)
    allowed_ips = models.TextField(
        _("allowed addresses"),
        blank=True,
        help_text=_("Addresses or networks (CIDR), one per line or comma-separated; empty allows any."),
    )
    created = models.DateTimeField(_("created on"), auto_now_add=True)
    secret_rotated = models.DateTimeField(_("secret changed on"), auto_now_add=True)

    class Meta:
        db_table = "his_integrationclient"  # its table since the first release (the his app's history)
        ordering = ["name"]
        verbose_name = _("integration client")
        verbose_name_plural = _("integration clients")

    def __str__(self) -> str:
        return self.name

    def set_new_secret(self) -> str:
        """Gives the client a new secret and returns it; only its hash is kept."""
        secret = secrets.token_urlsafe(32)
        self.secret_hash = hash_secret(secret)
        return secret


class Surface(models.TextChoices):
    SOAP = "SOAP", "SOAP"
    REST = "REST", "REST"
    ADMIN = "ADMIN", _("Admin login")
    SINCRO = "DB", _("Sincro (database tables)")


class AuditEntry(models.Model):
    """One webservice call. Holds ids and parameter names only: never names, contact data or file content."""

    time = models.DateTimeField(_("time"), db_index=True)
    client = models.ForeignKey(
        IntegrationClient, verbose_name=_("client"), null=True, blank=True, on_delete=models.SET_NULL
    )
    client_name = models.CharField(_("client name"), max_length=100, blank=True)
    surface = models.CharField(_("surface"), max_length=5, choices=Surface.choices)
    method = models.CharField(_("method"), max_length=50, db_index=True)
    outcome = models.CharField(_("outcome"), max_length=30, db_index=True, help_text=_("OK or an error code."))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    remote_addr = models.GenericIPAddressField(_("address"), null=True, blank=True)
    ids = models.JSONField(_("ids"), default=dict, blank=True)
    request_id = models.CharField(
        _("request id"),
        max_length=64,
        blank=True,
        db_index=True,
        help_text=_("X-Request-ID: the same id in the logs and at the proxy."),
    )
    message = models.CharField(
        _("message"),
        max_length=300,
        blank=True,
        help_text=_("A failed call's error message, without any value the caller typed."),
    )
    params = models.JSONField(
        _("parameter names"),
        default=list,
        blank=True,
        help_text=_("The names of the parameters the call sent, as it spelled them; never their values."),
    )
    warnings = models.JSONField(
        _("warnings"),
        default=list,
        blank=True,
        help_text=_(
            "What the call relied on of the server's leniency (a date as yyyy-mm-dd, a name in lower case, "
            "an unknown parameter ignored...): code, parameter and sentence; never a value."
        ),
    )

    class Meta:
        db_table = "his_auditentry"  # its table since the first release (the his app's history)
        ordering = ["-time"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [
            # Counting recent failed authentications of an address under a client name (throttling,
            # before every call): partial, so the count reads failures only, not every call.
            models.Index(
                fields=["remote_addr", "client_name", "time"],
                name="audit_failure_address_name",
                condition=Q(outcome="UNAUTHORIZED"),
            ),
            # Counting a client's calls of the last minute (its rate limit, on every call).
            models.Index(fields=["client", "time"], name="audit_client_time"),
        ]

    def __str__(self) -> str:
        return f"{self.time:%d/%m/%Y %H:%M:%S} {self.surface} {self.method} {self.outcome}"


class InspectedCall(AuditEntry):
    """The audit log as an integrator testing its own client reads it (the admin's request inspector):
    each call's parameter names and the leniency it relied on."""

    class Meta:
        proxy = True
        ordering = ["-time"]
        verbose_name = _("inspected call")
        verbose_name_plural = _("request inspector")
