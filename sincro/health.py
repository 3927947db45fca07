"""What /health/ready and /metrics learn about Sincro: whether a worker is alive, and rows by outcome."""

import datetime as dt

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from core.operations import Figure
from sincro.models import CancellationRow, DownloadRow, ReservationRow, WorkerBeat

MSG_NO_WORKER = "down: no Sincro worker has reported in the last {seconds} s (start manage.py sincro_worker)"
TABLES = {
    "TT_RESERVATIONS_TMP": ReservationRow,
    "TT_DELETE_RESERVATION": CancellationRow,
    "TT_DOWNLOADS_TMP": DownloadRow,
}


def worker_heartbeat() -> str | None:
    """None while some worker has beaten recently, else what is wrong."""
    seconds = settings.HIS_SINCRO_HEARTBEAT_SECONDS
    since = timezone.now() - dt.timedelta(seconds=seconds)
    if WorkerBeat.objects.filter(beat__gte=since).exists():
        return None
    return MSG_NO_WORKER.format(seconds=seconds)


def row_figures() -> list[Figure]:
    pending = Figure("his_sincro_rows_pending", "Support-table rows not applied yet, by table.", "gauge")
    applied = Figure("his_sincro_rows_applied_total", "Support-table rows applied, by table and outcome.", "counter")
    for table, model in TABLES.items():
        counts = model.objects.aggregate(
            pending=Count("pk", filter=Q(status_trigger__isnull=True)),
            ok=Count("pk", filter=Q(status_trigger="OK")),
            error=Count("pk", filter=Q(status_trigger__startswith="ERROR")),
        )
        pending.samples.append(({"table": table}, counts["pending"]))
        applied.samples.append(({"table": table, "outcome": "OK"}, counts["ok"]))
        applied.samples.append(({"table": table, "outcome": "ERROR"}, counts["error"]))
    return [pending, applied]
