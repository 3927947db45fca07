"""Plays tuOtempO's Sincro agent: a plain DB-API connection (sqlite3 or psycopg, never Django's) that
reads the TT_* views and writes rows into the support tables with the guide's SQL, then waits for the
trigger's outcome."""

import sqlite3
import time

import psycopg
from django.db import connection


class SincroAgent:
    def __init__(self):
        settings = connection.settings_dict
        self.vendor = connection.vendor
        if self.vendor == "sqlite":
            self.db = sqlite3.connect(settings["NAME"], timeout=30, isolation_level=None)
        else:
            params = connection.get_connection_params()
            for name in ("cursor_factory", "context", "prepare_threshold"):
                params.pop(name, None)
            self.db = psycopg.connect(**params, autocommit=True)

    def _sql(self, sql: str) -> str:
        return sql.replace("%s", "?") if self.vendor == "sqlite" else sql

    def rows(self, sql: str, params=()) -> list[dict]:
        """Rows as dicts keyed by the guide's (upper-case) column names."""
        cursor = self.db.execute(self._sql(sql), params or None) if params else self.db.execute(sql)
        names = [column[0].upper() for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def columns(self, view: str) -> list[str]:
        cursor = self.db.execute(f"SELECT * FROM {view} WHERE 1 = 0")
        cursor.fetchall()
        return [column[0].upper() for column in cursor.description]

    def insert(self, table: str, id_column: str, **values) -> int:
        """INSERT as the agent writes it (guide names, upper case), leaving the system id and
        INSERT_TIME to their defaults; returns the new row's id."""
        names = ", ".join(name.upper() for name in values)
        marks = ", ".join(["%s"] * len(values))
        cursor = self.db.execute(
            self._sql(f"INSERT INTO {table} ({names}) VALUES ({marks}) RETURNING {id_column}"), list(values.values())
        )
        return cursor.fetchone()[0]

    def add(self, **values) -> int:
        return self.insert("TT_RESERVATIONS_TMP", "APP_TMP_ID", **values)

    def row(self, table: str, id_column: str, row_id: int) -> dict:
        return self.rows(f"SELECT * FROM {table} WHERE {id_column} = %s", (row_id,))[0]

    def wait(self, table: str, id_column: str, row_id: int, timeout: float = 30) -> dict:
        """The row once STATUS_TRIGGER says how it went."""
        deadline = time.monotonic() + timeout
        while True:
            row = self.row(table, id_column, row_id)
            if row["STATUS_TRIGGER"] or time.monotonic() > deadline:
                return row
            time.sleep(0.05)

    def close(self) -> None:
        self.db.close()
