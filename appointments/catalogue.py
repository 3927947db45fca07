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
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import connection

from appointments.models import CatalogueVersion

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
