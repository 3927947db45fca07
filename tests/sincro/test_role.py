"""create_sincro_role: the agent's login role reads the views and writes the support tables, and can
read or write nothing else (checked by connecting as that role with psycopg)."""

import os

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from sincro.viewsql import SUPPORT_TABLES, VIEWS
from tests.sincro.conftest import ddmmyyyy, future_day

ROLE = f"sincro_agent_test_{os.getpid()}"
PASSWORD = "a-password-for-the-test"


@pytest.fixture
def role(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("roles are PostgreSQL's")
    call_command("create_sincro_role", ROLE, "--password", PASSWORD)
    params = {k: v for k, v in connection.get_connection_params().items() if k in ("dbname", "host", "port")}
    db = psycopg.connect(**params, user=ROLE, password=PASSWORD, autocommit=True)
    yield db
    db.close()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP OWNED BY {ROLE}")
        cursor.execute(f"DROP ROLE {ROLE}")


def refused(db, statement: str) -> bool:
    try:
        db.execute(statement)
    except psycopg.errors.InsufficientPrivilege:
        return True
    return False


def test_the_role_reads_the_views_and_writes_the_support_tables_only(role, sincro_client, clinic):
    for view in VIEWS:
        role.execute(f"SELECT * FROM {view}").fetchall()
    row_id = role.execute(
        "INSERT INTO TT_RESERVATIONS_TMP (APP_TID, APP_ACTION, APP_DATE, APP_START_TIME, RESOURCE_LID, ACTIVITY_LID, "
        "USER_FIRST_NAME) VALUES ('T1', 'ADD', %s, '09:30', 'D1', 'V1', 'Ana') RETURNING APP_TMP_ID",
        (ddmmyyyy(future_day()),),
    ).fetchone()[0]
    assert role.execute("SELECT STATUS_TRIGGER FROM TT_RESERVATIONS_TMP WHERE APP_TMP_ID = %s", (row_id,)).fetchone()
    role.execute("INSERT INTO TT_DELETE_RESERVATION (APP_LID) VALUES ('A1')")
    for table in SUPPORT_TABLES:
        role.execute(f"SELECT * FROM {table}").fetchall()
        assert refused(role, f"UPDATE {table} SET STATUS_TRIGGER = 'OK'"), table
        assert refused(role, f"DELETE FROM {table}"), table

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_type = 'BASE TABLE'"
        )
        others = sorted({name for (name,) in cursor.fetchall()} - {t.lower() for t in SUPPORT_TABLES})
    assert "appointments_patient" in others and "his_integrationclient" in others
    for table in others:
        assert refused(role, f'SELECT * FROM "{table}" LIMIT 1'), f"{table} can be read"
        assert refused(role, f'DELETE FROM "{table}"'), f"{table} can be written"
    assert refused(role, "CREATE TABLE stolen (id int)")
    assert refused(role, "CREATE VIEW stolen AS SELECT * FROM TT_RESOURCES")


def test_it_refuses_a_name_that_is_not_a_role_name(transactional_db):
    if connection.vendor != "postgresql":
        with pytest.raises(CommandError, match="needs PostgreSQL"):
            call_command("create_sincro_role", "agent")
        return
    with pytest.raises(CommandError, match="is not a role name"):
        call_command("create_sincro_role", "Robert'); DROP TABLE x; --")


def test_a_migration_that_redefines_the_views_keeps_the_roles_grants(role, sincro_client, clinic):
    """Migrations that change a view replace it in place (viewsql.replace_statements): the agent's role,
    set up once by the hospital's DBA, still reads it afterwards."""
    from sincro.viewsql import replace_statements

    with connection.cursor() as cursor:
        for statement in replace_statements(connection.vendor):
            cursor.execute(statement)
    for view in VIEWS:
        role.execute(f"SELECT * FROM {view}").fetchall()
