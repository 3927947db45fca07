import re
import secrets

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from psycopg import sql

from sincro.viewsql import SUPPORT_TABLES, VIEWS

ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class Command(BaseCommand):
    help = (
        "PostgreSQL: creates (or updates) the login role tuOtempO's Sincro agent connects as. It may SELECT "
        "the TT_* views and SELECT and INSERT into the support tables, and nothing else. Prints a new "
        "password once unless --password is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("role", help="The role's name: lower-case letters, digits and _.")
        parser.add_argument("--password", help="Its password (default: a new random one, printed once).")

    def handle(self, *args, role: str, password: str | None, **options):
        if connection.vendor != "postgresql":
            raise CommandError("create_sincro_role needs PostgreSQL: SQLite has no roles (set DATABASE_URL).")
        if not ROLE_NAME.fullmatch(role):
            raise CommandError(f"{role!r} is not a role name: use lower-case letters, digits and _ (at most 63).")
        new_password = password or secrets.token_urlsafe(24)
        name = sql.Identifier(role)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            verb = "ALTER" if cursor.fetchone() else "CREATE"
            statement = sql.SQL(verb + " ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD {}")
            cursor.execute(statement.format(name, sql.Literal(new_password)).as_string(cursor.connection))
            # Whatever it held before, it holds only this now.
            cursor.execute("SELECT current_schema()")
            schema = sql.Identifier(cursor.fetchone()[0])
            for revoke in (
                "REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}",
                "REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {role}",
                "REVOKE ALL ON SCHEMA {schema} FROM {role}",
                "GRANT USAGE ON SCHEMA {schema} TO {role}",
            ):
                cursor.execute(sql.SQL(revoke).format(schema=schema, role=name).as_string(cursor.connection))
            views = sql.SQL(", ").join(sql.Identifier(view.lower()) for view in VIEWS)
            tables = sql.SQL(", ").join(sql.Identifier(table.lower()) for table in SUPPORT_TABLES)
            grants = (
                sql.SQL("GRANT SELECT ON {} TO {}").format(views, name),
                sql.SQL("GRANT SELECT, INSERT ON {} TO {}").format(tables, name),
            )
            for grant in grants:
                cursor.execute(grant.as_string(cursor.connection))
        self.stdout.write(
            f"{verb.title()}d role {role!r}: SELECT on {len(VIEWS)} views, SELECT and INSERT on {len(SUPPORT_TABLES)} "
            "support tables, nothing else."
        )
        if password is None:
            self.stdout.write(f"Its password (shown once): {new_password}")
