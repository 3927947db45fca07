"""The TT_* views (guide A.2, B.1, C.1) in each database's SQL, and the insert triggers that wake the
worker on PostgreSQL. Migrations run these; docs/sincro.md lists the columns.

Names are unquoted, so PostgreSQL folds them to lower case and the guide's queries work as written;
SQLite ignores their case. Dates are dd/mm/yyyy and times hh:mm, each center's wall clock: PostgreSQL
converts with AT TIME ZONE, SQLite (which has no time zones) with the offsets kept in sincro_zoneoffset.
Every view shows only the centers of the integration client the worker applies rows for
(sincro_agent): none before a worker has started.
"""

from dataclasses import dataclass

VIEWS = (
    "TT_RESOURCES",
    "TT_ACTIVITIES",
    "TT_INSURANCES",
    "TT_RESOURCES_ACTIVITIES",
    "TT_INSURANCES_ACTIVITIES",
    "TT_INSURANCES_RESOURCES",
    "TT_AVAILABILITIES",
    "TT_ACTIVITIES_AVAILABILITIES",
    "TT_RESERVATIONS",
    "TT_DOWNLOADS",
)
SUPPORT_TABLES = ("TT_RESERVATIONS_TMP", "TT_DELETE_RESERVATION", "TT_DOWNLOADS_TMP", "TT_DOWNLOADS_FILES")
# Support tables whose inserts the worker applies, with their id column.
WORK_TABLES = {
    "tt_reservations_tmp": "app_tmp_id",
    "tt_delete_reservation": "app_tmp_id",
    "tt_downloads_tmp": "download_tmp_id",
}
CHANNEL = "sincro"
# HIS_SINCRO_DAYS_AHEAD, as the worker keeps it (NULL: TT_RESERVATIONS has no end).
DAYS_AHEAD = "(SELECT MAX(days_ahead) FROM sincro_agent)"


@dataclass(frozen=True)
class Dialect:
    vendor: str

    @property
    def pg(self) -> bool:
        return self.vendor == "postgresql"

    def date(self, column: str) -> str:
        return f"to_char({column}, 'DD/MM/YYYY')" if self.pg else f"strftime('%d/%m/%Y', {column})"

    def time(self, column: str) -> str:
        return f"to_char({column}, 'HH24:MI')" if self.pg else f"substr({column}, 1, 5)"

    def local(self, instant: str, zone: str, offset: str, fmt: str) -> str:
        """An instant as a wall-clock date ('date') or time ('time') of a zone."""
        if self.pg:
            return f"to_char({instant} AT TIME ZONE {zone}, '{'DD/MM/YYYY' if fmt == 'date' else 'HH24:MI'}')"
        pattern = "%d/%m/%Y" if fmt == "date" else "%H:%M"
        return f"strftime('{pattern}', {instant}, printf('%+d minutes', {offset}.minutes))"

    def offset_join(self, alias: str, zone: str, instant: str) -> str:
        if self.pg:
            return ""
        return (
            f"LEFT JOIN sincro_zoneoffset {alias} ON {alias}.zone = {zone} "
            f"AND {alias}.since <= {instant} AND {alias}.until > {instant}"
        )

    def real(self, column: str) -> str:
        return f"CAST({column} AS double precision)" if self.pg else f"CAST({column} AS REAL)"

    def text(self, column: str, length: int) -> str:
        return f"CAST({column} AS varchar({length}))" if self.pg else f"CAST({column} AS TEXT)"

    @property
    def today(self) -> str:
        return "CURRENT_DATE" if self.pg else "date('now')"

    @property
    def horizon(self) -> str:
        """The end of TT_RESERVATIONS: HIS_SINCRO_DAYS_AHEAD days ahead, as the worker keeps it (none: far)."""
        days = f"COALESCE({DAYS_AHEAD}, 36500)"
        if self.pg:
            return f"(CURRENT_DATE + {days})"
        return f"datetime('now', 'start of day', '+' || {days} || ' days')"

    @property
    def last_day(self) -> str:
        """The last day TT_RESERVATIONS covers when HIS_SINCRO_DAYS_AHEAD is set: availabilities end there
        too, so that tuOtempO never offers a slot whose reservations it cannot see."""
        if self.pg:
            return f"(CURRENT_DATE + {DAYS_AHEAD} - 1)"
        return f"date('now', '+' || ({DAYS_AHEAD} - 1) || ' days')"

    @property
    def week_ago(self) -> str:
        return "(CURRENT_DATE - 7)" if self.pg else "datetime('now', 'start of day', '-7 days')"


def flag(column: str) -> str:
    return f"CASE WHEN {column} THEN '1' ELSE '0' END"


AGENT = (
    "SELECT cl.id, cl.all_centers FROM sincro_agent ag "
    "JOIN his_integrationclient cl ON cl.id = ag.client_id WHERE cl.is_active"
)
SCOPE = f"""CREATE VIEW sincro_scope AS
SELECT c.id AS center_id FROM centers_center c
WHERE EXISTS (
  SELECT 1 FROM ({AGENT}) agent
  WHERE agent.all_centers OR EXISTS (
    SELECT 1 FROM his_integrationclient_centers m WHERE m.integrationclient_id = agent.id AND m.center_id = c.id
  )
)"""
# A result of no center is dated in the hospital's time zone.
HOSPITAL_ZONE = "COALESCE(c.time_zone, (SELECT MAX(time_zone) FROM sincro_agent))"
IN_SCOPE = "IN (SELECT center_id FROM sincro_scope)"


# The patient's columns of TT_RESERVATIONS and TT_DOWNLOADS. Names and ID number are left empty, as the
# guide advises for privacy (TT_DOWNLOADS shows the ID number: it is the delivery credential).
PATIENT_COLUMNS = """p.lid AS USER_LID,
  k.tid AS USER_TID,
  CAST(NULL AS varchar(50)) AS USER_FIRST_NAME,
  CAST(NULL AS varchar(50)) AS USER_SECOND_NAME,
  CAST(NULL AS varchar(50)) AS USER_THIRD_NAME"""


def contact_columns(d: Dialect) -> str:
    return f"""NULLIF(p.landline_phone, '') AS USER_LANDLINE_PHONE,
  NULLIF(p.mobile_phone, '') AS USER_MOBILE_PHONE,
  NULLIF(p.work_phone, '') AS USER_WORK_PHONE,
  NULLIF(p.email, '') AS USER_EMAIL,
  {flag("p.privacy_accepted")} AS PRIVACY,
  {flag("p.contact_by_sms")} || {flag("p.contact_by_email")} || {flag("p.contact_by_landline")}
    AS COMMUNICATION_PREFERENCES,
  {d.date("p.date_of_birth")} AS USER_DATE_OF_BIRTH,
  NULLIF(p.gender, '') AS USER_GENDER,
  NULLIF(p.zip_code, '') AS USER_ZIP_CODE,
  NULLIF(p.language, '') AS USER_LANGUAGE"""


# A merged patient's appointments and results show the record kept, with the agent's own id of it
# (USER_TID: one per client and patient).
PATIENT_JOIN = (
    "JOIN appointments_patient p0 ON p0.id = {fk} "
    "JOIN appointments_patient p ON p.id = COALESCE(p0.merged_into_id, p0.id) "
    "LEFT JOIN patients_patientlink k "
    "ON k.patient_id = p.id AND k.client_id = (SELECT MAX(client_id) FROM sincro_agent)"
)


def views(d: Dialect) -> dict[str, str]:
    """Each view's SELECT, in the guide's column order."""
    located = (
        "JOIN centers_location l ON l.id = r.location_id JOIN centers_center c ON c.id = l.center_id "
        f"WHERE c.id {IN_SCOPE}"
    )
    open_interval = (
        f"(i.end_day IS NULL OR i.end_day >= {d.today}) AND ({DAYS_AHEAD} IS NULL OR i.start_day <= {d.last_day})"
    )
    end_day = f"CASE WHEN {DAYS_AHEAD} IS NULL OR i.end_day <= {d.last_day} THEN i.end_day ELSE {d.last_day} END"
    status = (
        "CASE a.status WHEN 'PENDING' THEN 'PENDING' WHEN 'APPROVED' THEN 'APPROVED' "
        "WHEN 'CANCELLED_BY_USER' THEN 'CANCELLED by USER' ELSE 'CANCELLED by ADMIN' END"
    )
    return {
        "TT_RESOURCES": f"""SELECT r.lid AS RESOURCE_LID,
  r.first_name AS RESOURCE_FIRST_NAME,
  NULLIF(r.second_name, '') AS RESOURCE_SECOND_NAME,
  NULLIF(r.mobile_phone, '') AS RESOURCE_MOBILE_PHONE,
  NULLIF(r.email, '') AS RESOURCE_EMAIL,
  l.lid AS LOCATION_LID,
  l.name AS LOCATION_NAME,
  CASE WHEN r.web_enabled AND c.web_enabled THEN 1 ELSE 0 END AS WEB_ENABLED,
  r.availabilities_step AS AVAILABILITIES_STEP
FROM appointments_resource r {located}""",
        "TT_ACTIVITIES": f"""SELECT a.lid AS ACTIVITY_LID,
  a.name AS ACTIVITY_NAME,
  g.name AS ACTIVITY_GROUP_NAME,
  g.lid AS ACTIVITY_GROUP_LID,
  a.duration AS ACTIVITY_DURATION,
  {d.real("a.price")} AS ACTIVITY_PRICE,
  CASE WHEN a.web_enabled THEN 1 ELSE 0 END AS WEB_ENABLED
FROM appointments_activity a LEFT JOIN appointments_activitygroup g ON g.id = a.group_id""",
        "TT_INSURANCES": """SELECT s.lid AS INSURANCE_LID,
  s.name AS INSURANCE_NAME,
  CASE WHEN s.web_enabled THEN 1 ELSE 0 END AS WEB_ENABLED
FROM appointments_insurance s""",
        "TT_RESOURCES_ACTIVITIES": f"""SELECT r.lid AS RESOURCE_LID,
  a.lid AS ACTIVITY_LID,
  COALESCE(ra.duration, a.duration) AS ACTIVITY_DURATION,
  {d.real("COALESCE(ra.price, a.price)")} AS ACTIVITY_PRICE
FROM appointments_resourceactivity ra
JOIN appointments_activity a ON a.id = ra.activity_id
JOIN appointments_resource r ON r.id = ra.resource_id {located}""",
        "TT_INSURANCES_ACTIVITIES": f"""SELECT s.lid AS INSURANCE_LID,
  a.lid AS ACTIVITY_LID,
  {d.real("ia.price")} AS ACTIVITY_PRICE
FROM appointments_insuranceactivity ia
JOIN appointments_insurance s ON s.id = ia.insurance_id
JOIN appointments_activity a ON a.id = ia.activity_id""",
        "TT_INSURANCES_RESOURCES": f"""SELECT s.lid AS INSURANCE_LID,
  r.lid AS RESOURCE_LID
FROM appointments_insuranceresource ir
JOIN appointments_insurance s ON s.id = ir.insurance_id
JOIN appointments_resource r ON r.id = ir.resource_id {located}""",
        "TT_AVAILABILITIES": f"""SELECT i.lid AS AVAILABILITY_LID,
  {d.text("i.weekday", 1)} AS R_WORKING_DAY,
  {d.time("i.start_time")} AS R_START_TIME,
  {d.time("i.end_time")} AS R_END_TIME,
  {d.date("i.start_day")} AS R_START_DAY,
  {d.date(end_day)} AS R_END_DAY,
  r.lid AS RESOURCE_LID
FROM sincro_interval i
JOIN appointments_resource r ON r.id = i.resource_id {located} AND {open_interval}""",
        "TT_ACTIVITIES_AVAILABILITIES": f"""SELECT a.lid AS ACTIVITY_LID,
  i.lid AS AVAILABILITY_LID
FROM sincro_interval_activities ia
JOIN sincro_interval i ON i.id = ia.interval_id
JOIN appointments_activity a ON a.id = ia.activity_id
JOIN appointments_resource r ON r.id = i.resource_id {located} AND {open_interval}""",
        "TT_RESERVATIONS": f"""SELECT a.lid AS APP_LID,
  {d.local("a.start", "c.time_zone", "os", "date")} AS APP_DATE,
  NULLIF(a.tid, '') AS APP_TID,
  {d.local("a.start", "c.time_zone", "os", "time")} AS APP_START_TIME,
  {d.local('a."end"', "c.time_zone", "oe", "time")} AS APP_END_TIME,
  {PATIENT_COLUMNS},
  CAST(NULL AS varchar(50)) AS USER_ID_NUMBER,
  {contact_columns(d)},
  NULLIF(a.notes, '') AS NOTES,
  r.lid AS RESOURCE_LID,
  act.lid AS ACTIVITY_LID,
  s.lid AS INSURANCE_LID,
  COALESCE(al.lid, l.lid) AS LOCATION_LID,
  {status} AS STATUS,
  NULLIF(a.owner_lid, '') AS APP_OWNER_LID,
  NULLIF(a.owner_tid, '') AS APP_OWNER_TID,
  NULLIF(a.owner_name, '') AS APP_OWNER_NAME
FROM appointments_appointment a
JOIN appointments_resource r ON r.id = a.resource_id
JOIN appointments_activity act ON act.id = a.activity_id
LEFT JOIN appointments_insurance s ON s.id = a.insurance_id
LEFT JOIN centers_location al ON al.id = a.location_id
{PATIENT_JOIN.format(fk="a.patient_id")}
JOIN centers_location l ON l.id = r.location_id
JOIN centers_center c ON c.id = l.center_id
{d.offset_join("os", "c.time_zone", "a.start")}
{d.offset_join("oe", "c.time_zone", 'a."end"')}
WHERE c.id {IN_SCOPE} AND a.start >= {d.week_ago} AND a.start < {d.horizon}""",
        "TT_DOWNLOADS": f"""SELECT m.lid AS DOWNLOAD_LID,
  m.code AS DOWNLOAD_CODE,
  m.filename AS DOWNLOAD_FILENAME,
  {PATIENT_COLUMNS},
  p.id_number AS USER_ID_NUMBER,
  {contact_columns(d)},
  {d.local("f.requested", HOSPITAL_ZONE, "oq", "date")} AS REQUESTED,
  m.file_type AS DOWNLOAD_TYPE,
  f.file_content AS DOWNLOAD_CONTENT
FROM results_medicalresult m
{PATIENT_JOIN.format(fk="m.patient_id")}
LEFT JOIN centers_center c ON c.id = m.center_id
LEFT JOIN tt_downloads_files f ON f.download_lid = m.lid
{d.offset_join("oq", HOSPITAL_ZONE, "f.requested")}
WHERE m.status = 'VALID' AND (m.center_id {IN_SCOPE}
  OR (m.center_id IS NULL AND EXISTS (SELECT 1 FROM ({AGENT}) agent WHERE agent.all_centers)))""",
    }


def create_statements(vendor: str) -> list[str]:
    d = Dialect(vendor)
    statements = [SCOPE] + [f"CREATE VIEW {name} AS\n{sql}" for name, sql in views(d).items()]
    if d.pg:
        statements.append(
            f"""CREATE FUNCTION sincro_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
  RETURN NULL;
END $$"""
        )
        statements += [
            f"CREATE TRIGGER {table}_notify AFTER INSERT ON {table} FOR EACH STATEMENT EXECUTE FUNCTION sincro_notify()"
            for table in WORK_TABLES
        ]
    return statements


def replace_statements(vendor: str) -> list[str]:
    """The views redefined in place, for a migration that changes them. PostgreSQL keeps the grants
    of the agent's role (create_sincro_role) with CREATE OR REPLACE, which needs the same columns;
    SQLite has no grants and no OR REPLACE for views."""
    d = Dialect(vendor)
    if d.pg:
        return [f"CREATE OR REPLACE VIEW {name} AS\n{sql}" for name, sql in views(d).items()]
    drops = [f"DROP VIEW IF EXISTS {name}" for name in reversed(VIEWS)]
    return drops + [f"CREATE VIEW {name} AS\n{sql}" for name, sql in views(d).items()]


def drop_statements(vendor: str) -> list[str]:
    statements = [f"DROP VIEW IF EXISTS {name}" for name in reversed(VIEWS)] + ["DROP VIEW IF EXISTS sincro_scope"]
    if vendor == "postgresql":
        statements += [f"DROP TRIGGER IF EXISTS {table}_notify ON {table}" for table in WORK_TABLES]
        statements.append("DROP FUNCTION IF EXISTS sincro_notify()")
    return statements
