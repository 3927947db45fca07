"""GET /metrics in Prometheus' text format, and the counters behind it.

The webservice counters are fed from one place: the audit entry of each call (clients.signals
.call_recorded, sent by clients.services.record_call), so the metrics, the audit log and the log line
of a call always agree. Labels name clients (once authenticated), surfaces, methods of the guide and
outcome codes: never a patient, and never a text a caller chose (an unknown method is "other").

Under gunicorn with several workers each worker counts in files of PROMETHEUS_MULTIPROC_DIR
(prometheus-client's multiprocess mode, set up by ops/gunicorn_config.py) and a scrape, whichever
worker answers it, adds up every worker's files, those of workers that have exited included.
Figures kept in the database (core.operations.register_figures: exchange runs, Sincro rows...) are
read at each scrape, by the worker that answers it.
"""

import hmac
import ipaddress
import logging
import os
import sys

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from clients.addresses import client_address, parse_ip
from clients.models import AuditEntry, Surface
from core.errors import CONFLICT, THROTTLED, UNAUTHORIZED
from core.operations import figure_sources
from tuotempo.words import METHOD_NAMES

logger = logging.getLogger(__name__)

OTHER = "other"  # the method label of a call that named no method of the guide
BOOKING_METHODS = ("addAppointment",)
CANCELLING_METHODS = ("CancelAppointment", "deleteAppointment")
REFUSED = (UNAUTHORIZED.name, THROTTLED.name)
# Seconds: webservice answers run from milliseconds (GetCenters) to seconds (a year of slots, a file).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

REQUESTS = Counter(
    "his_webservice_requests",
    "Webservice calls answered, by surface, method of the guide, outcome (OK or the error code) and client.",
    ["surface", "method", "outcome", "client"],
)
LATENCY = Histogram(
    "his_webservice_request_duration_seconds",
    "Time to answer a webservice call (as the audit log measures it), by surface and method.",
    ["surface", "method"],
    buckets=LATENCY_BUCKETS,
)
BOOKINGS = Counter("his_bookings", "Appointments booked through the webservices (addAppointment OK).", ["client"])
CONFLICTS = Counter(
    "his_booking_conflicts",
    "Calls refused with CONFLICT: a slot taken meanwhile, an appointment no longer changeable.",
    ["method", "client"],
)
CANCELLATIONS = Counter("his_cancellations", "Appointments cancelled through the webservices.", ["method", "client"])
REFUSED_LOGINS = Counter(
    "his_refused_logins",
    "Authentications refused: bad or missing credentials (UNAUTHORIZED) or too many failures (THROTTLED); "
    "surface SOAP, REST or ADMIN (the admin's login page).",
    ["surface", "outcome"],
)
DATABASE_ERRORS = Counter(
    "his_database_errors",
    "Requests answered with a database failure: webservice calls (SERVICE_UNAVAILABLE), pages, readiness probes.",
    ["where"],
)


_GUIDE_SPELLING = {name.lower(): name for name in METHOD_NAMES}


def method_label(method: str) -> str:
    """The guide's name of the method (a REST path names it in any case), else "other"."""
    return _GUIDE_SPELLING.get(method.lower(), OTHER)


def count_call(sender, entry: AuditEntry, **kwargs) -> None:
    """Counts one recorded call (receiver of clients.signals.call_recorded)."""
    outcome = entry.outcome
    if entry.surface == Surface.ADMIN:
        if outcome in REFUSED:
            REFUSED_LOGINS.labels(Surface.ADMIN.value, outcome).inc()
        return
    surface = str(entry.surface)
    method = method_label(entry.method)
    client = entry.client.name if entry.client_id else ""
    REQUESTS.labels(surface, method, outcome, client).inc()
    LATENCY.labels(surface, method).observe(entry.duration_ms / 1000)
    if outcome in REFUSED:
        REFUSED_LOGINS.labels(surface, outcome).inc()
    elif outcome == CONFLICT.name:
        CONFLICTS.labels(method, client).inc()
    elif outcome == "OK" and method in BOOKING_METHODS:
        BOOKINGS.labels(client).inc()
    elif outcome == "OK" and method in CANCELLING_METHODS:
        CANCELLATIONS.labels(method, client).inc()


def count_database_error(sender, **kwargs) -> None:
    """Receiver of core.operations.database_unavailable; the sender names where (webservices, health)."""
    DATABASE_ERRORS.labels(str(sender)[:30]).inc()


def count_page_database_error(sender, request=None, **kwargs) -> None:
    """Receiver of Django's got_request_exception: a page (the admin...) failed on the database."""
    if isinstance(sys.exc_info()[1], DatabaseError):
        DATABASE_ERRORS.labels("pages").inc()


# ------------------------------------------------------------------ figures read from the database


class FiguresCollector:
    """The figures other apps registered (core.operations.register_figures), read at each scrape."""

    def describe(self):
        return []  # nothing to read when registered: the figures are read at collect()

    def collect(self):
        for name, source in figure_sources().items():
            try:
                figures = list(source())
            except Exception as exc:  # one app's figures failing must not cost the whole scrape
                logger.warning("metrics: the figures of %s could not be read: %s", name, exc)
                continue
            for figure in figures:
                family_type = CounterMetricFamily if figure.kind == "counter" else GaugeMetricFamily
                labels = sorted({key for sample_labels, _ in figure.samples for key in sample_labels})
                family = family_type(figure.name, figure.documentation, labels=labels)
                for sample_labels, value in figure.samples:
                    family.add_metric([str(sample_labels.get(key, "")) for key in labels], value)
                yield family


def exposition() -> bytes:
    """Every metric, in the text format: the counters of every worker, then the figures."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
        counted = generate_latest(registry)
    else:
        counted = generate_latest(REGISTRY)
    figures = CollectorRegistry(auto_describe=False)
    figures.register(FiguresCollector())
    return counted + generate_latest(figures)


# ------------------------------------------------------------------ who may read them


def _address_allowed(address: str | None) -> bool:
    ip = parse_ip(address or "")
    if ip is None:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip.version == network.version and ip in network for network in settings.HIS_METRICS_ALLOWED)


def _token_given(request: HttpRequest) -> bool:
    token = settings.HIS_METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not token or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[7:].strip().encode(), token.encode())


def metrics_allowed(request: HttpRequest) -> bool:
    """A caller from HIS_METRICS_ALLOWED (default: this machine) or with the HIS_METRICS_TOKEN bearer."""
    return _token_given(request) or _address_allowed(client_address(request))


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request):
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain", headers={"Cache-Control": "no-store"})
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
