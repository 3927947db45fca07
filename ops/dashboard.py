"""The integration dashboard in the admin: what each integration client did lately, from the audit log.

A thin view: one selector (clients.selectors.integration_traffic) gives the figures; this turns them
into rows and links to the audit log's admin list, filtered through its query string.
"""

from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext

from clients.models import AuditEntry, IntegrationClient
from clients.selectors import ClientTraffic, integration_traffic
from core.errors import THROTTLED, UNAUTHORIZED

PERMISSION = "clients.view_auditentry"
REFUSED_OUTCOMES = f"{UNAUTHORIZED.name},{THROTTLED.name}"


def audit_link(**filters) -> str:
    """The audit log's admin list with these filters (its list filters' own query parameters)."""
    params = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in filters.items() if v is not None}
    return f"{reverse('admin:clients_auditentry_changelist')}?{urlencode(params)}"


def client_filter(client: IntegrationClient | None) -> dict:
    return {"client__id__exact": client.pk} if client else {"client__isnull": "True"}


def client_rows(traffic: ClientTraffic, since_day, since_week) -> list[dict]:
    who = client_filter(traffic.client)
    rows = []
    for method, outcome, day, week in traffic.counts:
        match = {**who, "method__exact": method, "outcome__exact": outcome}
        rows.append(
            {
                "method": method,
                "outcome": outcome,
                "ok": outcome == "OK",
                "day": day,
                "week": week,
                "day_link": audit_link(**match, time__gte=since_day),
                "week_link": audit_link(**match, time__gte=since_week),
            }
        )
    return rows


def dashboard(request: HttpRequest) -> HttpResponse:
    """Staff with the right to read the audit log only (the admin's login protects the page)."""
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied
    figures = integration_traffic()
    clients = []
    for traffic in figures.clients:
        who = client_filter(traffic.client)
        clients.append(
            {
                "traffic": traffic,
                "name": traffic.client.name if traffic.client else gettext("No authenticated client"),
                "rows": client_rows(traffic, figures.since_day, figures.since_week),
                "all_link": audit_link(**who, time__gte=figures.since_week),
                "ok_link": audit_link(**who, outcome__exact="OK"),
                "errors": [
                    {"entry": e, "link": reverse("admin:clients_auditentry_change", args=[e.pk])}
                    for e in traffic.errors
                ],
            }
        )
    refused = [
        {
            "row": r,
            "link": audit_link(
                **({"remote_addr": r.address} if r.address else {"remote_addr__isnull": "True"}),
                surface__exact=r.surface,
                outcome__in=REFUSED_OUTCOMES,
                time__gte=figures.since_week,
            ),
        }
        for r in figures.refused
    ]
    context = {
        **admin.site.each_context(request),
        "title": gettext("Integration dashboard"),
        "opts": AuditEntry._meta,
        "figures": figures,
        "clients": clients,
        "refused": refused,
        "audit_link": reverse("admin:clients_auditentry_changelist"),
    }
    return TemplateResponse(request, "ops/dashboard.html", context)
