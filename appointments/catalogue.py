"""Catalogue answers kept per catalogue version, in each process, checked against the database on
every call.

The catalogue (centers, locations, doctors, activities, insurances, prices, relations, rules,
absences) changes a few times a day and is read on every search and every KeyEntities. Each
process keeps what it computed from it under the catalogue version current when it read it
(`CatalogueVersion`, moved by database triggers in the same transaction as any change), and reads
that version, one primary-key read, on every call: a change committed by any process, through the
ORM, a queryset update, a bulk load or raw SQL, is seen by the very next call of every process.
Nothing is shared between processes and nothing expires by time.

A webservice call reads the version once (`one_version`): every answer it takes from what is kept is
of that one version, and the call pays one read for all of them.

A version is never given twice (migration 0008), so an answer computed inside a transaction that
later rolls back is kept under a version no other call will ever read. An answer computed while a
change commits may be newer than its version, never older.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NamedTuple

from django.db import connection

from appointments.models import Activity, Appointment, CatalogueVersion, Insurance, Resource
from centers.models import Center, Location

# How many answers each kind keeps (per argument set: scope, filters), the least recently used
# dropped first. The current version's answers replace an older version's as they are asked for.
MAX_KEYS = 256

_kept: dict[str, OrderedDict] = {}
_lock = threading.Lock()  # threaded servers (development, tests) share the process's answers


_call_versions: ContextVar[dict | None] = ContextVar("catalogue_call_versions", default=None)


@contextmanager
def one_version() -> Iterator[None]:
    """Inside the block, the version is read the first time it is needed and that value serves the rest
    of the block: for one call, not for a process that runs on (a worker, a command), which must read it
    each time to see changes."""
    token = _call_versions.set({})
    try:
        yield
    finally:
        _call_versions.reset(token)


@contextmanager
def _reading(version: int) -> Iterator[None]:
    """Outside a call, a version just read serves the block; inside one, the call's does already."""
    if _call_versions.get() is not None:
        yield
        return
    token = _call_versions.set({(connection.alias, connection.settings_dict["NAME"]): version})
    try:
        yield
    finally:
        _call_versions.reset(token)


def current_version() -> int | None:
    """The catalogue version as this connection sees it now (inside `one_version`, as it saw it first in
    the block); None if the row is missing (a table just emptied: nothing is kept until the next change
    writes it again)."""
    read = _call_versions.get()
    database = (connection.alias, connection.settings_dict["NAME"])
    if read is not None and database in read:
        return read[database]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT version FROM {CatalogueVersion._meta.db_table} WHERE id = 1")
        row = cursor.fetchone()
    version = None if row is None else row[0]
    if read is not None:
        read[database] = version
    return version


def catalogue_key(kind: str, key: Hashable, version: int) -> tuple:
    """A key naming one answer of this database at one catalogue version, for whoever keeps what it
    makes of the answer (a rendered body)."""
    return (connection.alias, connection.settings_dict["NAME"], kind, key, version)


def cached(kind: str, key: Hashable, compute: Callable[[], Any], *, version: int | None = None) -> Any:
    """`compute()`'s answer for `key` at the current catalogue version: kept from an earlier call of
    this process at the same version, else computed now (and kept). The version is read now unless
    the caller read it already in this call (`version`)."""
    if version is None:
        version = current_version()
    if version is None:
        return compute()
    full_key = (connection.alias, connection.settings_dict["NAME"], key)
    with _lock:
        kept = _kept.setdefault(kind, OrderedDict())
        entry = kept.get(full_key)
        if entry is not None and entry[0] == version:
            kept.move_to_end(full_key)
            return entry[1]
    with _reading(version):  # what compute() takes from other kept answers is of this same version
        value = compute()
    with _lock:
        kept[full_key] = (version, value)
        kept.move_to_end(full_key)
        while len(kept) > MAX_KEYS:
            kept.popitem(last=False)
    return value


def forget() -> None:
    """Drops every kept answer of this process (tests that compare a cold call with a warm one)."""
    with _lock:
        _kept.clear()


# Where each kind of row meets its center (a client's scope).
CENTER_PATHS = {Resource: "location__center", Location: "center", Appointment: "resource__location__center"}
# Catalogue rows a caller names by id, with what their answers read of them.
CATALOGUE_ROWS = {Resource: ("location__center",), Location: ("center",), Activity: (), Insurance: ()}


class KeptRows(NamedTuple):
    by_lid: dict[str, Any]
    by_pk: dict[int, Any]


def catalogue_rows(model, centers: Collection[Center] | None) -> KeptRows:
    """Every row of a catalogue model (doctors, locations, activities, insurances) this caller may name,
    by external id and by primary key; doctors and locations of its centers only. Read once per catalogue
    version and scope, and kept: searches and bookings name them on every call, and the slot engine
    makes its offers of them."""
    scoped = model in CENTER_PATHS and centers is not None

    def read() -> KeptRows:
        rows = model.objects.select_related(*CATALOGUE_ROWS[model])
        if scoped:
            rows = rows.filter(**{f"{CENTER_PATHS[model]}__in": list(centers)})
        rows = list(rows)
        return KeptRows({row.lid: row for row in rows}, {row.pk: row for row in rows})

    key = (model._meta.label, tuple(sorted(c.pk for c in centers)) if scoped else None)
    return cached("catalogue_rows", key, read)
