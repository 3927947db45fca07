"""Reads about integration clients: where they may call from, and who failed to authenticate lately."""

import datetime as dt
import ipaddress
import math
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, F, Max, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from clients.addresses import parse_ip
from clients.models import AuditEntry, IntegrationClient, Surface
from core.errors import THROTTLED, UNAUTHORIZED, DomainError

MSG_THROTTLED = "Too many failed authentications from this address or for this client; retry in {seconds} seconds."
MSG_RATE = "This client made {limit} calls within the last minute, its limit; retry in {seconds} seconds."
RATE_WINDOW_SECONDS = 60


def address_allowed(client: IntegrationClient, address: str | None) -> bool:
    """Whether the client may call from that address (an empty allow-list allows any)."""
    rules = [r.strip() for r in client.allowed_ips.replace(",", "\n").splitlines() if r.strip()]
    if not rules:
        return True
    ip = parse_ip(address or "")
    if ip is None:
        return False
    for rule in rules:
        try:
            if ip in ipaddress.ip_network(rule, strict=False):
                return True
        except ValueError:
            continue
    return False


def check_not_throttled(*, address: str | None, name: str | None) -> None:
    """Refuses the attempts of an address under a client name (or with a bare secret, no name) once that
    pair failed to authenticate too often lately. Another address, or another name, is not affected, so
    nobody can lock the real client out. Failures are counted in the audit log, which every server
    instance shares."""
    window = settings.HIS_AUTH_FAILURE_WINDOW
    since = timezone.now() - dt.timedelta(seconds=window)
    failures = AuditEntry.objects.filter(
        remote_addr=address, client_name=(name or "")[:100], time__gte=since, outcome=UNAUTHORIZED.name
    )
    if failures[: settings.HIS_AUTH_FAILURE_LIMIT].count() >= settings.HIS_AUTH_FAILURE_LIMIT:
        raise DomainError(THROTTLED, MSG_THROTTLED, seconds=window, retry_after=window)


def check_rate(client: IntegrationClient) -> None:
    """Refuses a call beyond the client's rate (calls served within the last minute, by every instance:
    counted in the audit log), saying when the oldest of them leaves the window."""
    limit = client.rate_limit
    if not limit:
        return
    now = timezone.now()
    window = dt.timedelta(seconds=RATE_WINDOW_SECONDS)
    served = AuditEntry.objects.filter(client=client, time__gte=now - window).exclude(outcome=THROTTLED.name)
    oldest_counted = served.order_by("-time").values_list("time", flat=True)[limit - 1 : limit].first()
    if oldest_counted is not None:
        seconds = max(1, math.ceil((oldest_counted + window - now).total_seconds()))
        raise DomainError(THROTTLED, MSG_RATE, limit=limit, seconds=seconds, retry_after=seconds)


# ------------------------------------------------------------------ the integration dashboard

LATEST_ERRORS = 5  # per client
REFUSED_ADDRESSES = 20


@dataclass
class ClientTraffic:
    """One client's calls (or, with client None, the calls of no authenticated client)."""

    client: IntegrationClient | None
    last_ok_time: dt.datetime | None = None
    last_ok_method: str = ""
    # (method, outcome, calls in the last 24 hours, calls in the last 7 days), by method then outcome
    counts: list[tuple[str, str, int, int]] = field(default_factory=list)
    errors: list[AuditEntry] = field(default_factory=list)  # the latest failures of the last 7 days

    @property
    def calls_day(self) -> int:
        return sum(day for _, _, day, _ in self.counts)

    @property
    def calls_week(self) -> int:
        return sum(week for _, _, _, week in self.counts)

    @property
    def failures_day(self) -> int:
        return sum(day for _, outcome, day, _ in self.counts if outcome != "OK")


@dataclass
class RefusedAddress:
    address: str | None
    surface: str
    refused_day: int
    refused_week: int
    last: dt.datetime


@dataclass
class IntegrationTraffic:
    since_day: dt.datetime
    since_week: dt.datetime
    clients: list[ClientTraffic]
    refused: list[RefusedAddress]


def integration_traffic(*, now: dt.datetime | None = None) -> IntegrationTraffic:
    """What the integration clients did lately, for the dashboard: per client, its calls of the last
    24 hours and 7 days by method and outcome, its latest failures with their messages and its last
    successful call of the 7 days; and the addresses whose authentications were refused. Four queries,
    whatever the number of clients and calls (aggregates and a window over the audit log's indexes)."""
    now = now or timezone.now()
    since_day, since_week = now - dt.timedelta(days=1), now - dt.timedelta(days=7)
    webservice_calls = AuditEntry.objects.exclude(surface=Surface.ADMIN)
    traffic = {c.pk: ClientTraffic(client=c) for c in IntegrationClient.objects.order_by("name")}
    anonymous = ClientTraffic(client=None)

    def of(client_id) -> ClientTraffic:
        return traffic.get(client_id, anonymous)

    # The last successful call comes from the same aggregate (the latest OK of the week): looking further
    # back per client could read a quiet client's whole history; the audit log's list goes further.
    counts = (
        webservice_calls.filter(time__gte=since_week)
        .values("client_id", "method", "outcome")
        .annotate(day=Count("pk", filter=Q(time__gte=since_day)), week=Count("pk"), last=Max("time"))
        .order_by("client_id", "method", "outcome")
    )
    for row in counts:
        seen = of(row["client_id"])
        seen.counts.append((row["method"], row["outcome"], row["day"], row["week"]))
        if row["outcome"] == "OK" and (seen.last_ok_time is None or row["last"] > seen.last_ok_time):
            seen.last_ok_time, seen.last_ok_method = row["last"], row["method"]

    latest = (
        webservice_calls.filter(time__gte=since_week)
        .exclude(outcome="OK")
        .annotate(rank=Window(RowNumber(), partition_by=[F("client_id")], order_by=[F("time").desc(), F("pk").desc()]))
        .filter(rank__lte=LATEST_ERRORS)
        .order_by("client_id", "-time", "-pk")
        .only("time", "client_id", "surface", "method", "outcome", "message", "request_id", "remote_addr")
    )
    for entry in latest:
        of(entry.client_id).errors.append(entry)

    refused_rows = (
        AuditEntry.objects.filter(time__gte=since_week, outcome__in=[UNAUTHORIZED.name, THROTTLED.name])
        .values("remote_addr", "surface")
        .annotate(day=Count("pk", filter=Q(time__gte=since_day)), week=Count("pk"), last=Max("time"))
        .order_by("-week", "remote_addr")[:REFUSED_ADDRESSES]
    )
    refused = [RefusedAddress(r["remote_addr"], r["surface"], r["day"], r["week"], r["last"]) for r in refused_rows]
    listed = list(traffic.values()) + ([anonymous] if anonymous.counts else [])
    return IntegrationTraffic(since_day=since_day, since_week=since_week, clients=listed, refused=refused)
