"""The UTC offsets of the centers' time zones, as periods, for SQLite's views (PostgreSQL converts with
AT TIME ZONE itself). Written once per zone; a new center's zone is added when the center is saved,
and every zone in use when the worker starts."""

import datetime as dt
import functools
import zoneinfo

from django.conf import settings
from django.db import connection, transaction

from centers.models import Center
from sincro.models import ZoneOffset

FIRST, LAST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC), dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
EARLIEST, LATEST = dt.datetime(1850, 1, 1, tzinfo=dt.UTC), dt.datetime(2200, 1, 1, tzinfo=dt.UTC)


def _offset(zone: zoneinfo.ZoneInfo, instant: dt.datetime) -> int:
    return int(instant.astimezone(zone).utcoffset().total_seconds() // 60)


@functools.cache  # a zone's rules do not change while a process runs
def periods(name: str) -> tuple[tuple[dt.datetime, dt.datetime, int], ...]:
    """(since, until, minutes east of UTC) covering 1850-2200; transitions found day by day, then to
    the second."""
    zone = zoneinfo.ZoneInfo(name)
    found, since, current = [], EARLIEST, _offset(zone, FIRST)
    day = FIRST
    while day < LAST:
        following = day + dt.timedelta(days=1)
        if _offset(zone, following) != current:
            low, high = day, following  # the change is after low, at or before high
            while (high - low) > dt.timedelta(seconds=1):
                middle = low + (high - low) / 2
                if _offset(zone, middle) == current:
                    low = middle
                else:
                    high = middle
            high = high.replace(microsecond=0)
            found.append((since, high, current))
            since, current = high, _offset(zone, high)
        day = following
    found.append((since, LATEST, current))
    return tuple(found)


@transaction.atomic
def ensure(name: str) -> None:
    if connection.vendor != "sqlite":  # PostgreSQL's views use AT TIME ZONE
        return
    if ZoneOffset.objects.filter(zone=name).exists():
        return
    rows = [ZoneOffset(zone=name, since=a, until=b, minutes=m) for a, b, m in periods(name)]
    ZoneOffset.objects.bulk_create(rows, batch_size=1000)


def ensure_all() -> None:
    for name in {settings.TIME_ZONE, *Center.objects.values_list("time_zone", flat=True)}:
        ensure(name)
