"""The worker's loop: applies pending rows, then waits to be woken (PostgreSQL: LISTEN, which the
support tables' insert triggers NOTIFY) or polls (SQLite), beating its heart for /health/ready, and
rebuilding TT_AVAILABILITIES when rules or absences were written in bulk."""

import logging
import os
import signal
import socket
import time

import psycopg
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from appointments.catalogue import current_version
from sincro import apply, intervals, zones
from sincro.models import WorkerBeat
from sincro.viewsql import CHANNEL

logger = logging.getLogger(__name__)
BEAT_SECONDS = 5
CATALOGUE_SECONDS = 10


class Listener:
    """A connection of its own that LISTENs on PostgreSQL; a plain sleep on SQLite."""

    def __init__(self):
        self.connection = None
        if connection.vendor == "postgresql":
            params = connection.get_connection_params()
            params.pop("cursor_factory", None)
            params.pop("context", None)
            params.pop("prepare_threshold", None)
            self.connection = psycopg.connect(**params, autocommit=True)
            self.connection.execute(f"LISTEN {CHANNEL}")

    def wait(self, seconds: float) -> None:
        if self.connection is None:
            time.sleep(seconds)
            return
        for _ in self.connection.notifies(timeout=seconds, stop_after=1):
            pass

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


class Worker:
    def __init__(self, *, name: str | None = None, out=None):
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.out = out
        self.applied = 0
        self.stopping = False
        self.last_beat = 0.0
        self.last_check = 0.0
        self.catalogue = None

    def say(self, text: str) -> None:
        if self.out is not None:
            self.out.write(text)
        logger.info(text)

    def prepare(self):
        client = apply.agent_client()
        apply.become_agent(client)
        zones.ensure_all()
        self.scope = apply.agent_scope(client)
        self.refresh_intervals(force=True)
        self.beat(force=True)
        return client

    def refresh_intervals(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_check < CATALOGUE_SECONDS:
            return
        self.last_check = now
        current = current_version()
        if current is None or current != self.catalogue:
            zones.ensure_all()
            count = intervals.rebuild()
            self.catalogue = current
            logger.info("sincro: %d availability intervals written", count)

    def beat(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_beat < BEAT_SECONDS:
            return
        self.last_beat = now
        WorkerBeat.objects.update_or_create(name=self.name, defaults={"beat": timezone.now(), "applied": self.applied})

    def drain(self) -> int:
        count = apply.apply_pending(self.scope)
        self.applied += count
        return count

    def stop(self, *args) -> None:
        self.stopping = True

    def run(self, *, once: bool = False) -> int:
        client = self.prepare()
        self.say(f"Sincro worker {self.name} applies rows as {client.name!r}.\n")
        if once:
            count = self.drain()
            self.beat(force=True)
            return count
        signal.signal(signal.SIGTERM, self.stop)
        listener = Listener()
        try:
            while not self.stopping:
                try:
                    close_old_connections()
                    self.drain()
                    self.refresh_intervals()
                    self.beat()
                except DatabaseError as exc:  # the database went away: rows wait, nothing is lost
                    logger.warning("sincro: database error, retrying: %s", exc)
                    connection.close()
                    time.sleep(settings.HIS_SINCRO_POLL_SECONDS)
                    continue
                listener.wait(settings.HIS_SINCRO_POLL_SECONDS)
        finally:
            listener.close()
            WorkerBeat.objects.filter(name=self.name).delete()
        return self.applied
