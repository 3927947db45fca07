"""Applies the rows tuOtempO's agent writes into the support tables, through the domain services, as
the integration client named by HIS_SINCRO_CLIENT (its centers, patient pattern, tuOtempO ids, audit).

Each row is claimed, applied and given its outcome in one transaction: a worker killed half way leaves
the row pending, with nothing of it applied, and the next worker applies it. On PostgreSQL the claim
skips rows another worker holds (FOR UPDATE SKIP LOCKED), so two workers never apply one row; SQLite's
write transactions take turns. The outcome is STATUS_TRIGGER: "OK", or "ERROR: " and a sentence.
"""

import datetime as dt
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DataError, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from appointments.models import Appointment, AppointmentStatus, Insurance, Origin, Resource
from appointments.selectors import appointment_for, get_by_lid, named_slot, optional_by_lid
from appointments.services import book_appointment, cancel_for_patient, keep_caller_ids, move_to_free_slot
from clients.models import IntegrationClient, Surface
from clients.scope import Scope, scope_of
from clients.services import record_call
from core.errors import INVALID_INPUT, NOT_FOUND, DomainError, without_input
from patients.models import PatientData
from patients.selectors import follow_merges
from results.selectors import result_delivery, result_for_download
from sincro.models import OK, Agent, CancellationRow, DownloadFile, DownloadRow, ReservationRow
from tuotempo.formats import parse_date, parse_time
from tuotempo.words import FIELD_NAMES

logger = logging.getLogger(__name__)

MSG_NO_CLIENT = "HIS_SINCRO_CLIENT is empty: name the integration client whose Sincro rows this worker applies."
MSG_UNKNOWN_CLIENT = (
    "HIS_SINCRO_CLIENT={name!r} names no active integration client: create it with "
    "`manage.py create_integration_client {name}`."
)
MSG_BAD_ACTION = "APP_ACTION {value!r} is not one of ADD, UPDATE or DELETE."
MSG_BAD_DOWNLOAD_ACTION = "DOWNLOAD_ACTION {value!r} is not one of UPDATE or EMPTY."
MSG_LID_REQUIRED = "APP_LID is required to {action} an appointment: name the appointment TT_RESERVATIONS shows."
MSG_REQUIRED = "{name} is required to {action} an appointment."
MSG_OTHER_ACTIVITY = (
    "Appointment {app} is for ACTIVITY_LID {current}, not {given}: an UPDATE cannot change the activity; "
    "DELETE it and ADD a new one."
)
MSG_NOT_PATIENTS_RESULT = "No result with DOWNLOAD_LID {lid} for USER_LID {user}."
MSG_INTERNAL = "the hospital could not apply this row because of an internal error; it has been logged."

GUIDE_STATUS = {
    AppointmentStatus.PENDING: "PENDING",
    AppointmentStatus.APPROVED: "APPROVED",
    AppointmentStatus.CANCELLED_BY_USER: "CANCELLED by USER",
    AppointmentStatus.CANCELLED_BY_ADMIN: "CANCELLED by ADMIN",
}


def agent_client() -> IntegrationClient:
    """The integration client of HIS_SINCRO_CLIENT; stops the worker with a message if there is none."""
    name = settings.HIS_SINCRO_CLIENT
    if not name:
        raise ImproperlyConfigured(MSG_NO_CLIENT)
    client = IntegrationClient.objects.filter(name=name, is_active=True).first()
    if client is None:
        raise ImproperlyConfigured(MSG_UNKNOWN_CLIENT.format(name=name))
    return client


@transaction.atomic
def become_agent(client: IntegrationClient) -> None:
    """The views show this client's centers and tuOtempO ids from now on."""
    Agent.objects.exclude(client=client).delete()
    Agent.objects.update_or_create(
        client=client, defaults={"time_zone": settings.TIME_ZONE, "days_ahead": settings.HIS_SINCRO_DAYS_AHEAD or None}
    )


def _blank(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _error(error: DomainError) -> str:
    return f"ERROR: {error.render(FIELD_NAMES)}"


# ---------------------------------------------------------------- TT_RESERVATIONS_TMP


def _patient_data(row: ReservationRow) -> PatientData:
    birth = _blank(row.user_date_of_birth)
    return PatientData(
        lid=_blank(row.user_lid),
        tid=_blank(row.user_tid),
        first_name=(row.user_first_name or "").strip(),
        second_name=(row.user_second_name or "").strip(),
        third_name=(row.user_third_name or "").strip(),
        gender=(row.user_gender or "").strip(),
        date_of_birth=parse_date("USER_DATE_OF_BIRTH", birth) if birth else None,
        mobile_phone=(row.user_mobile_phone or "").strip(),
        landline_phone=(row.user_landline_phone or "").strip(),
        email=(row.user_email or "").strip(),
        id_number=(row.user_id_number or "").strip(),
    )


def _when(row: ReservationRow, action: str) -> tuple[dt.date, dt.time]:
    for name in ("APP_DATE", "APP_START_TIME"):
        if not _blank(getattr(row, name.lower())):
            raise DomainError(INVALID_INPUT, MSG_REQUIRED, name=name, action=action)
    return parse_date("APP_DATE", row.app_date.strip()), parse_time("APP_START_TIME", row.app_start_time.strip())


def add(row: ReservationRow, scope: Scope) -> dict:
    day, start_time = _when(row, "ADD")
    resource, activity, start = named_slot(
        centers=scope.centers,
        resource_lid=_blank(row.resource_lid),
        activity_lid=_blank(row.activity_lid),
        day=day,
        start_time=start_time,
    )
    booking = book_appointment(
        resource=resource,
        activity=activity,
        start=start,
        insurance=optional_by_lid(Insurance, lid=_blank(row.insurance_lid)),
        patient_data=_patient_data(row),
        scope=scope,
        notes=(row.notes or "").strip(),
        origin=Origin.ONLINE,
    )
    appointment = keep_caller_ids(
        appointment=booking.appointment,
        tid=(row.app_tid or "").strip(),
        owner_lid=(row.app_owner_lid or "").strip(),
        owner_tid=(row.app_owner_tid or "").strip(),
        owner_name=(row.app_owner_name or "").strip(),
    )
    return {"app_lid": appointment.lid, "user_lid": follow_merges(appointment.patient).lid}


def _appointment(row, scope: Scope, action: str) -> Appointment:
    lid = _blank(row.app_lid)
    if lid is None:
        raise DomainError(INVALID_INPUT, MSG_LID_REQUIRED, action=action)
    return appointment_for(lid=lid, centers=scope.centers)


def update(row: ReservationRow, scope: Scope) -> dict:
    appointment = _appointment(row, scope, "UPDATE")
    if (row.status or "").strip().upper().startswith("CANCELLED"):
        cancel_for_patient(appointment=appointment, patient=None)
        return {}
    activity_lid = _blank(row.activity_lid)
    if activity_lid and activity_lid != appointment.activity.lid:
        raise DomainError(
            INVALID_INPUT, MSG_OTHER_ACTIVITY, app=appointment.lid, current=appointment.activity.lid, given=activity_lid
        )
    day, start_time = _when(row, "UPDATE")
    resource_lid = _blank(row.resource_lid)
    resource = appointment.resource
    if resource_lid and resource_lid != resource.lid:
        resource = get_by_lid(Resource, lid=resource_lid, centers=scope.centers)
    start = dt.datetime.combine(day, start_time, resource.location.center.zone)
    if resource.pk != appointment.resource_id or start != appointment.start:
        appointment = move_to_free_slot(appointment=appointment, resource=resource, start=start, scope=scope)
    keep_caller_ids(appointment=appointment, tid=(row.app_tid or "").strip())
    return {}


def delete(row: ReservationRow, scope: Scope) -> dict:
    cancel_for_patient(appointment=_appointment(row, scope, "DELETE"), patient=None)
    return {}


RESERVATION_ACTIONS = {"ADD": add, "UPDATE": update, "DELETE": delete}


def apply_reservation(row: ReservationRow, scope: Scope) -> dict:
    action = (row.app_action or "").strip().upper()
    handler = RESERVATION_ACTIONS.get(action)
    if handler is None:
        raise DomainError(INVALID_INPUT, MSG_BAD_ACTION, value=row.app_action)
    return handler(row, scope)


# ---------------------------------------------------------------- TT_DELETE_RESERVATION


def apply_cancellation(row: CancellationRow, scope: Scope) -> dict:
    appointment = _appointment(row, scope, "cancel")
    appointment = cancel_for_patient(appointment=appointment, patient=None)
    return {"app_status": GUIDE_STATUS[appointment.status]}


def cancellation_failed(row: CancellationRow, scope: Scope) -> dict:
    """After a refused cancellation, APP_STATUS says what the appointment still is, when it exists."""
    lid = _blank(row.app_lid)
    try:
        appointment = appointment_for(lid=lid, centers=scope.centers) if lid else None
    except DomainError:
        appointment = None
    return {"app_status": GUIDE_STATUS[appointment.status] if appointment else None}


# ---------------------------------------------------------------- TT_DOWNLOADS_TMP


def _result(row: DownloadRow, scope: Scope):
    result = result_for_download(lid=(row.download_lid or "").strip(), centers=scope.centers)
    user = _blank(row.user_lid)
    if user is not None and follow_merges(result.patient).lid != user and result.patient.lid != user:
        raise DomainError(NOT_FOUND, MSG_NOT_PATIENTS_RESULT, lid=result.lid, user=user)
    return result


def request_download(row: DownloadRow, scope: Scope) -> dict:
    result = _result(row, scope)
    delivery = result_delivery(lid=result.lid, centers=scope.centers)
    if not delivery.is_valid:
        raise DomainError(NOT_FOUND, delivery.withheld)
    with delivery.content as stream:
        content = stream.read()
    now = timezone.now()
    kept = {
        "file_name": result.filename[:200],
        "file_path": result.file.name[:200],
        "file_content": content,
        "file_type": result.file_type,
        "status": "REQUESTED",
        "status_trigger": OK,
        "requested": now,
        "modified": now,
    }
    DownloadFile.objects.update_or_create(
        download_lid=result.lid, defaults=kept, create_defaults={**kept, "created": now}
    )
    return {}


def empty_download(row: DownloadRow, scope: Scope) -> dict:
    result = _result(row, scope)
    DownloadFile.objects.filter(download_lid=result.lid).update(
        file_content=None, status="DELIVERED", status_trigger=OK, modified=timezone.now()
    )
    return {}


DOWNLOAD_ACTIONS = {"UPDATE": request_download, "EMPTY": empty_download}


def apply_download(row: DownloadRow, scope: Scope) -> dict:
    handler = DOWNLOAD_ACTIONS.get((row.download_action or "").strip().upper())
    if handler is None:
        raise DomainError(INVALID_INPUT, MSG_BAD_DOWNLOAD_ACTION, value=row.download_action)
    return handler(row, scope)


# ---------------------------------------------------------------- claiming and applying


@dataclass(frozen=True)
class Table:
    name: str
    model: type
    apply: object
    failed: object = None

    def method(self, row) -> str:
        action = getattr(row, "app_action", None) or getattr(row, "download_action", None) or ""
        return f"{self.name} {action.strip().upper()}".strip()[:50]


TABLES = (
    Table("TT_RESERVATIONS_TMP", ReservationRow, apply_reservation),
    Table("TT_DELETE_RESERVATION", CancellationRow, apply_cancellation, cancellation_failed),
    Table("TT_DOWNLOADS_TMP", DownloadRow, apply_download),
)
PENDING_ROWS = Q(status_trigger__isnull=True) | Q(status_trigger="")


def apply_next(table: Table, scope: Scope) -> bool:
    """Applies the oldest pending row of the table no other worker holds; False when there is none."""
    if not table.model.objects.filter(PENDING_ROWS).exists():  # a read: no write lock taken for nothing
        return False
    began = time.monotonic()
    error = None
    with transaction.atomic():
        pending = table.model.objects.select_for_update(skip_locked=True).filter(PENDING_ROWS)
        row = pending.order_by("pk").first()
        if row is None:
            return False
        try:
            with transaction.atomic():  # a refusal undoes this row's changes, and only them
                fields = table.apply(row, scope)
            fields["status_trigger"] = OK
        except DomainError as exc:
            error = exc
            fields = table.failed(row, scope) if table.failed else {}
            fields["status_trigger"] = _error(exc)
        except (DataError, IntegrityError) as exc:  # a value the database refuses: the row's fault
            logger.warning("sincro: %s row %s refused by the database: %s", table.name, row.pk, exc)
            error = DomainError(INVALID_INPUT, "a value of this row does not fit the hospital's database.")
            fields = {"status_trigger": f"ERROR: {error.template}"}
        except (ValueError, TypeError, LookupError, OSError):
            logger.exception("sincro: %s row %s could not be applied", table.name, row.pk)
            error = DomainError(INVALID_INPUT, MSG_INTERNAL)
            fields = {"status_trigger": f"ERROR: {MSG_INTERNAL}"}
        for name, value in fields.items():
            setattr(row, name, value)
        row.save(update_fields=list(fields))
    ids = {name.upper(): getattr(row, name) for name in ("app_lid", "user_lid", "download_lid") if hasattr(row, name)}
    ids[table.name] = row.pk
    record_call(
        client=scope.client,
        client_name=None,
        surface=Surface.SINCRO,
        method=table.method(row),
        outcome="OK" if error is None else error.code.name,
        duration_ms=int((time.monotonic() - began) * 1000),
        address=None,
        ids={k: v for k, v in ids.items() if v},
        message="" if error is None else without_input(error).render(FIELD_NAMES),
    )
    return True


def apply_pending(scope: Scope, *, limit: int | None = None) -> int:
    """Applies pending rows of every support table, oldest first in each, until none is left (or
    `limit` rows were applied); returns how many."""
    applied = 0
    while limit is None or applied < limit:
        progress = False
        for table in TABLES:
            if apply_next(table, scope):
                applied += 1
                progress = True
        if not progress:
            break
    return applied


def agent_scope(client: IntegrationClient) -> Scope:
    return scope_of(client)
