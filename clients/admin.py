"""Admin for integration clients and the audit log."""

import base64

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clients import services
from clients.models import AuditEntry, IntegrationClient
from core.admin import ReadOnlyModelAdmin
from core.errors import DomainError

MSG_SHOWN_ONCE = _(
    "Secret of integration client {name}: {secret} (shown only this once; copy it now). "
    "Basic credentials: {name}:{secret} (header: Authorization: Basic {basic})."
)
MSG_DEACTIVATED = _("{count} integration client(s) deactivated: their calls are now refused.")


def secret_message(*, name: str, secret: str) -> str:
    basic = base64.b64encode(f"{name}:{secret}".encode()).decode()
    return MSG_SHOWN_ONCE.format(name=name, secret=secret, basic=basic)


class IntegrationClientForm(forms.ModelForm):
    def clean_name(self):
        name = self.cleaned_data["name"]
        try:
            services.check_client_name(name=name)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None
        return name


@admin.register(IntegrationClient)
class IntegrationClientAdmin(admin.ModelAdmin):
    """Clients are created, rotated and deactivated through clients.services; the secret is shown only once."""

    form = IntegrationClientForm
    list_display = ("name", "is_active", "patient_pattern", "scope", "rate_limit", "created", "secret_rotated")
    list_filter = ("is_active", "patient_pattern", "all_centers", "centers")
    search_fields = ("name",)
    filter_horizontal = ("centers",)
    fields = (
        "name", "is_active", "patient_pattern", "all_centers", "centers", "allowed_ips", "rate_limit", "created",
        "secret_rotated",
    )  # fmt: skip
    readonly_fields = ("created", "secret_rotated")
    actions = ("deactivate_clients", "rotate_secret")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("centers")

    def get_fields(self, request, obj=None):
        if obj is None:  # a new client is active; the rest is stamped when it is created
            return ("name", "patient_pattern", "all_centers", "centers", "allowed_ips")
        return super().get_fields(request, obj)

    @admin.display(description=_("centers"))
    def scope(self, obj: IntegrationClient) -> str:
        if obj.all_centers:
            return gettext("every center")
        return ", ".join(c.lid for c in obj.centers.all()) or gettext("none (sees nothing)")

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        client, secret = services.create_integration_client(
            name=obj.name,
            center_lids=None if obj.all_centers else [c.lid for c in form.cleaned_data["centers"]],
            pattern=obj.patient_pattern,
            allowed_ips=obj.allowed_ips,
        )
        # The admin goes on with the form's own instance (its log entry, the redirect): make it the created one.
        obj.pk = client.pk
        obj.refresh_from_db()
        obj._state.adding = False
        # Only the hash is stored: this message is the one place the secret is ever shown.
        messages.success(request, secret_message(name=client.name, secret=secret))

    @admin.action(description=_("Deactivate selected clients"))
    def deactivate_clients(self, request, queryset):
        count = services.deactivate_clients(clients=queryset)
        self.message_user(request, MSG_DEACTIVATED.format(count=count), messages.SUCCESS)

    @admin.action(description=_("Rotate secret (the old one stops working at once)"))
    def rotate_secret(self, request, queryset):
        for client in queryset:
            secret = services.rotate_secret(client=client)
            self.message_user(request, secret_message(name=client.name, secret=secret), messages.SUCCESS)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyModelAdmin):
    """The audit log is evidence: nobody adds, edits or deletes entries by hand."""

    list_display = ("time", "client_name", "surface", "method", "outcome", "duration_ms", "remote_addr", "ids")
    list_filter = ("client", "method", "outcome", "surface", "time")
    search_fields = ("client_name", "method", "outcome", "remote_addr", "ids", "request_id")
    date_hierarchy = "time"
    show_full_result_count = False
