"""The scheduling methods on the wire: KeyEntities (guide B.2.1.2) and the booking methods (B.2.2)."""

import datetime as dt

from django.utils import timezone

from appointments.catalogue import cached, catalogue_key, current_version
from appointments.models import Activity, Appointment, Insurance, Resource
from appointments.selectors import (
    appointment_for,
    appointments_for,
    key_entities,
    named_slot,
    optional_by_lid,
)
from appointments.services import MSG_ALREADY_STARTED, MSG_NOT_OWNER, book_appointment, cancel_for_patient
from appointments.slots import search_slots
from centers.models import Location
from core.errors import Code, DomainError
from patients.models import Patient, PatientData
from patients.selectors import follow_merges, linked_tid
from tuotempo.formats import fmt_date, fmt_int, fmt_price, fmt_time, local
from webservices.dispatch import default_zone
from webservices.errors import wire_message
from webservices.registry import Answer, Call, Kind, Method, Param, register

KEY_ENTITY_FIELDS = (
    "INSURANCE_LID", "INSURANCE_NAME", "ACTIVITY_GROUP_LID", "ACTIVITY_GROUP_NAME", "ACTIVITY_LID", "ACTIVITY_NAME",
    "ACTIVITY_PRICE", "ACTIVITY_DURATION", "LOCATION_LID", "LOCATION_NAME", "RESOURCE_LID", "RESOURCE_FIRST_NAME",
    "RESOURCE_SECOND_NAME",
)  # fmt: skip


def key_entities_answer(call: Call) -> Answer:
    """The rows are kept per client scope and catalogue version, and so may the shells' bodies be."""
    version = current_version()
    scope = None if call.centers is None else tuple(sorted(c.pk for c in call.centers))
    rows = cached("key_entity_rows", scope, lambda: key_entity_rows(call), version=version)
    return Answer(rows, reuse=None if version is None else catalogue_key("KeyEntities", scope, version))


def key_entity_rows(call: Call) -> list[dict]:
    rows = []
    for entity in key_entities(centers=call.centers):
        resource, activity, insurance = entity.resource, entity.activity, entity.insurance
        group, location = activity.group, resource.location
        rows.append({
            "INSURANCE_LID": insurance.lid if insurance else None,
            "INSURANCE_NAME": insurance.name if insurance else None,
            "ACTIVITY_GROUP_LID": group.lid if group else None,
            "ACTIVITY_GROUP_NAME": group.name if group else None,
            "ACTIVITY_LID": activity.lid,
            "ACTIVITY_NAME": activity.name,
            "ACTIVITY_PRICE": fmt_price(entity.price),
            "ACTIVITY_DURATION": fmt_int(entity.duration),
            "LOCATION_LID": location.lid,
            "LOCATION_NAME": location.name,
            "RESOURCE_LID": resource.lid,
            "RESOURCE_FIRST_NAME": resource.first_name,
            "RESOURCE_SECOND_NAME": resource.second_name,
        })  # fmt: skip
    return rows


KEY_ENTITIES = register(
    Method(
        name="KeyEntities",
        summary="Every bookable (resource, activity) pair, self-pay and per accepted insurance, with price "
        "and duration (guide B.2.1.2).",
        params=(),
        fields=KEY_ENTITY_FIELDS,
        handler=key_entities_answer,
        many=True,
        record_name="KeyEntity",
    )
)


# ---------------------------------------------------------------- shared by the methods

MAX_RESULTS = 1000
DEFAULT_RESULTS = 100
DEFAULT_WINDOW = dt.timedelta(days=7)


def _optional(call: Call, model, name: str):
    return optional_by_lid(model, lid=call[name], centers=call.centers)


def _patient_data(call: Call) -> PatientData:
    return PatientData(
        lid=call["USER_LID"],
        tid=call["USER_TID"],
        first_name=call["USER_FIRST_NAME"] or "",
        second_name=call["USER_SECOND_NAME"] or "",
        third_name=call["USER_THIRD_NAME"] or "",
        gender=call["USER_GENDER"] or "",
        date_of_birth=call["USER_DATE_OF_BIRTH"],
        mobile_phone=call["USER_MOBILE_PHONE"] or "",
        landline_phone=call["USER_LANDLINE_PHONE"] or "",
        email=call["USER_EMAIL"] or "",
        id_number=call["USER_ID_NUMBER"] or "",
    )


def status_of(appointment: Appointment) -> str:
    return "Confirmed" if appointment.is_active else "Cancelled"


# ---------------------------------------------------------------- searchAvailabilities


def search_availabilities(call: Call) -> Answer:
    start_day = call["AVA_START_DAY"] or timezone.localdate(timezone=default_zone(call.centers))
    slots = search_slots(
        activity=_optional(call, Activity, "ACTIVITY_LID"),
        start_day=start_day,
        end_day=call["AVA_END_DAY"] or start_day + DEFAULT_WINDOW,
        start_time=call["AVA_START_TIME"],
        end_time=call["AVA_END_TIME"] or dt.time(23, 59),
        min_time=call["AVA_MIN_TIME"],
        max_time=call["AVA_MAX_TIME"],
        limit=min(call["AVA_RESULTS_NUMBER"] or DEFAULT_RESULTS, MAX_RESULTS),
        resource=_optional(call, Resource, "RESOURCE_LID"),
        insurance=_optional(call, Insurance, "INSURANCE_LID"),
        location=_optional(call, Location, "LOCATION_LID"),
        centers=call.centers,
    )
    return Answer(
        [
            {  # in the order of `fields` below: the records are sent as they are
                "RESOURCE_LID": slot.resource.lid,
                "ACTIVITY_LID": slot.activity.lid,
                "INSURANCE_LID": slot.insurance.lid if slot.insurance else None,
                "AVA_DATE": fmt_date(slot.start.date()),
                "AVA_START_TIME": fmt_time(slot.start),
                "AVAILABILITY_LID": slot.lid,
                "AVA_END_TIME": fmt_time(slot.end),
                "ACTIVITY_PRICE": fmt_price(slot.price),
                "LOCATION_LID": slot.location.lid,
            }
            for slot in slots
        ]
    )


SEARCH_AVAILABILITIES = register(
    Method(
        name="searchAvailabilities",
        summary="Free slots for an activity, earliest first (guide B.2.2). Dates and times are wall-clock "
        "times of each center; a slot starts at or after AVA_MIN_TIME and ends by AVA_MAX_TIME each day.",
        params=(
            Param(
                "ACTIVITY_LID",
                doc="May be left out when every activity the other filters leave lasts the same.",
                example="CAR-1V",
            ),
            Param("AVA_START_DAY", Kind.DATE, doc="Default: today.", example="14/12/2026"),
            Param("AVA_END_DAY", Kind.DATE, doc="Default: AVA_START_DAY + 7 days.", example="18/12/2026"),
            Param("AVA_START_TIME", Kind.TIME, doc="On AVA_START_DAY. Default 00:00."),
            Param("AVA_END_TIME", Kind.TIME, doc="On AVA_END_DAY. Default 23:59."),
            Param("AVA_MIN_TIME", Kind.TIME, doc="Earliest start, every day."),
            Param("AVA_MAX_TIME", Kind.TIME, doc="Latest end, every day."),
            Param(
                "AVA_RESULTS_NUMBER",
                Kind.NUMBER,
                low=1,
                high=1_000_000,
                doc="Default 100; more than 1000 answers 1000.",
                example="20",
            ),
            Param("RESOURCE_LID"),
            Param("INSURANCE_LID"),
            Param("LOCATION_LID"),
        ),
        # The guide's fields in its order (B.2.2), then this server's addition, LOCATION_LID.
        fields=(
            "RESOURCE_LID",
            "ACTIVITY_LID",
            "INSURANCE_LID",
            "AVA_DATE",
            "AVA_START_TIME",
            "AVAILABILITY_LID",
            "AVA_END_TIME",
            "ACTIVITY_PRICE",
            "LOCATION_LID",
        ),  # fmt: skip
        handler=search_availabilities,
        many=True,
        record_name="Availability",
    )
)


# ---------------------------------------------------------------- addAppointment


def add_appointment(call: Call) -> Answer:
    resource, activity, start = named_slot(
        centers=call.centers,
        slot_lid=call["AVAILABILITY_LID"],
        resource_lid=call["RESOURCE_LID"],
        activity_lid=call["ACTIVITY_LID"],
        day=call["APP_DATE"],
        start_time=call["APP_START_TIME"],
    )
    booking = book_appointment(
        resource=resource,
        activity=activity,
        start=start,
        insurance=_optional(call, Insurance, "INSURANCE_LID"),
        patient_data=_patient_data(call),
        scope=call.scope,
        notes=call["NOTES"] or "",
    )
    appointment = booking.appointment
    answer = {
        "ADD_RESULT": "OK",
        "ERROR_MESSAGE": None,
        "APP_LID": appointment.lid,
        "USER_LID": appointment.patient.lid,
    }
    return Answer(answer, ids={"APP_LID": appointment.lid, "USER_LID": appointment.patient.lid})


def add_failure(values, error: DomainError) -> dict:
    return {"ADD_RESULT": "ERROR", "ERROR_MESSAGE": wire_message(error), "APP_LID": None, "USER_LID": None}


PATIENT_PARAMS = (
    Param("USER_FIRST_NAME"),
    Param("USER_SECOND_NAME"),
    Param("USER_THIRD_NAME"),
    Param("USER_GENDER", max_length=10, doc="M or F.", choices=("M", "F")),
    Param("USER_DATE_OF_BIRTH", Kind.DATE),
    Param("USER_MOBILE_PHONE"),
    Param("USER_LANDLINE_PHONE"),
    Param("USER_EMAIL", max_length=100),
    Param("USER_ID_NUMBER"),
)

ADD_APPOINTMENT = register(
    Method(
        name="addAppointment",
        summary="Books a slot for a patient, identified or registered by the client's patient pattern (guide "
        "B.2.2). Business failures come back as ADD_RESULT=ERROR with ERROR_MESSAGE.",
        params=(
            Param("ACTIVITY_LID"),
            Param("RESOURCE_LID"),
            Param("USER_TID", doc="Under the tid pattern."),
            Param("USER_LID", doc="Under the lid pattern; empty for a new patient."),
            *PATIENT_PARAMS,
            Param("APP_DATE", Kind.DATE),
            Param("APP_START_TIME", Kind.TIME),
            Param("AVAILABILITY_LID", doc="As returned by searchAvailabilities."),
            Param("INSURANCE_LID"),
            Param("NOTES", max_length=500),
        ),
        fields=("ADD_RESULT", "ERROR_MESSAGE", "APP_LID", "USER_LID"),
        handler=add_appointment,
        failure=add_failure,
    )
)


# ---------------------------------------------------------------- deleteAppointment, CancelAppointment


def delete_appointment(call: Call) -> Answer:
    lid = call["APP_LID"]
    cancel_for_patient(appointment=appointment_for(lid=lid, centers=call.centers), patient=None)
    return Answer({"DELETE_RESULT": "OK", "ERROR_MESSAGE": None, "APP_LID": lid})


def delete_failure(values, error: DomainError) -> dict:
    return {"DELETE_RESULT": "ERROR", "ERROR_MESSAGE": wire_message(error), "APP_LID": values.get("APP_LID")}


DELETE_APPOINTMENT = register(
    Method(
        name="deleteAppointment",
        summary="Cancels an appointment that has not started; its slot becomes bookable again. Cancelling it "
        "again is OK (guide B.2.2).",
        params=(Param("APP_LID", required=True),),
        fields=("DELETE_RESULT", "ERROR_MESSAGE", "APP_LID"),
        handler=delete_appointment,
        failure=delete_failure,
    )
)


def cancel_appointment_answer(call: Call) -> Answer:
    lid = call["APP_LID"]
    patient = call.patient(required=True, by_lid=True)
    cancel_for_patient(appointment=appointment_for(lid=lid, centers=call.centers), patient=patient)
    return Answer({"DELETE_RESULT": "OK", "RESULT": "OK", "APP_LID": lid})


# APP_LID is an nvarchar(50): a longer message is summed up there (the whole of it is in the REST `msg`
# and in the audit log).
APP_LID_LENGTH = 50
CANCEL_SUMMARIES = {  # by the domain's message, else by code
    MSG_NOT_OWNER: "The appointment is not this patient's.",
    MSG_ALREADY_STARTED: "The appointment has already started.",
    Code.NOT_FOUND: "No such appointment for this patient.",
    Code.CONFLICT: "The appointment can no longer be cancelled.",
    Code.INVALID_INPUT: "The request is not valid.",
    Code.FORBIDDEN: "That center is not one of this client's.",
}


def cancel_failure(values, error: DomainError) -> dict:
    # As the guide says: on failure the message travels in APP_LID.
    message = wire_message(error)
    if len(message) > APP_LID_LENGTH:
        summary = CANCEL_SUMMARIES.get(error.template) or CANCEL_SUMMARIES.get(error.code)
        message = summary or "The appointment could not be cancelled."
    return {"DELETE_RESULT": "ERROR", "RESULT": "ERROR", "APP_LID": message}


CANCEL_APPOINTMENT = register(
    Method(
        name="CancelAppointment",
        summary="As deleteAppointment, only for the patient's own appointment. On failure APP_LID carries the message.",
        params=(Param("APP_LID", required=True), Param("USER_LID"), Param("USER_TID")),
        fields=("DELETE_RESULT", "RESULT", "APP_LID"),
        handler=cancel_appointment_answer,
        failure=cancel_failure,
    )
)


# ---------------------------------------------------------------- checkAppointment


def check_appointment(call: Call) -> Answer:
    appointment = appointment_for(lid=call["APP_LID"], centers=call.centers)
    center, patient = appointment.resource.location.center, follow_merges(appointment.patient)
    return Answer(
        {
            "APP_LID": appointment.lid,
            "STATUS": status_of(appointment),
            "APP_DATE": fmt_date(local(appointment.start, center).date()),
            "APP_START_TIME": fmt_time(local(appointment.start, center)),
            "APP_END_TIME": fmt_time(local(appointment.end, center)),
            "USER_LID": patient.lid,
            "USER_TID": linked_tid(patient=patient, scope=call.scope),
            "USER_MOBILE_PHONE": patient.mobile_phone or None,
            "USER_EMAIL": patient.email or None,
            "USER_INSURANCE_LID": appointment.insurance.lid if appointment.insurance else None,
            "RESOURCE_LID": appointment.resource.lid,
            "ACTIVITY_LID": appointment.activity.lid,
        },
        ids={"USER_LID": patient.lid},
    )


CHECK_APPOINTMENT = register(
    Method(
        name="checkAppointment",
        summary="One appointment as the hospital holds it now, desk and phone changes included (guide B.2.2).",
        params=(Param("APP_LID", required=True),),
        fields=(
            "APP_LID",
            "STATUS",
            "APP_DATE",
            "APP_START_TIME",
            "APP_END_TIME",
            "USER_LID",
            "USER_TID",
            "USER_MOBILE_PHONE",
            "USER_EMAIL",
            "USER_INSURANCE_LID",
            "RESOURCE_LID",
            "ACTIVITY_LID",
        ),  # fmt: skip
        handler=check_appointment,
        record_name="CheckedAppointment",
    )
)


# ---------------------------------------------------------------- getAppointments, SearchAppointments

APPOINTMENT_FIELDS = (
    "APP_LID", "STATUS", "APP_DATE", "APP_START_TIME", "APP_END_TIME", "USER_LID", "USER_MOBILE_PHONE", "USER_EMAIL",
    "USER_INSURANCE_LID", "ACTIVITY_LID", "ACTIVITY_NAME", "ACTIVITY_GROUP_LID", "ACTIVITY_GROUP_NAME",
    "RESOURCE_LID", "RESOURCE_FIRST_NAME", "RESOURCE_SECOND_NAME",
)  # fmt: skip


def appointment_row(appointment: Appointment, patient: Patient | None) -> dict:
    center, group = appointment.resource.location.center, appointment.activity.group
    patient = patient or follow_merges(appointment.patient)
    return {
        "APP_LID": appointment.lid,
        "STATUS": status_of(appointment),
        "APP_DATE": fmt_date(local(appointment.start, center).date()),
        "APP_START_TIME": fmt_time(local(appointment.start, center)),
        "APP_END_TIME": fmt_time(local(appointment.end, center)),
        "USER_LID": patient.lid,
        "USER_MOBILE_PHONE": patient.mobile_phone or None,
        "USER_EMAIL": patient.email or None,
        "USER_INSURANCE_LID": appointment.insurance.lid if appointment.insurance else None,
        "ACTIVITY_LID": appointment.activity.lid,
        "ACTIVITY_NAME": appointment.activity.name,
        "ACTIVITY_GROUP_LID": group.lid if group else None,
        "ACTIVITY_GROUP_NAME": group.name if group else None,
        "RESOURCE_LID": appointment.resource.lid,
        "RESOURCE_FIRST_NAME": appointment.resource.first_name,
        "RESOURCE_SECOND_NAME": appointment.resource.second_name,
    }


def _list_appointments(call: Call, *, reminders: bool) -> Answer:
    # The reminder batch (SearchAppointments, guide A.4) names the patient by USER_LID, and may name none.
    patient = call.patient(required=not reminders, by_lid=reminders)
    appointments = appointments_for(
        patient=patient,
        centers=call.centers,
        start_date=call["START_DATE"],
        end_date=call["END_DATE"],
        resource=_optional(call, Resource, "RESOURCE_LID"),
        changed_since=call["LAST_REQUEST_TIMESTAMP"],
    )
    return Answer([appointment_row(a, patient) for a in appointments])


LIST_PARAMS = (
    Param("USER_LID"),
    Param("USER_TID"),
    Param("START_DATE", Kind.DATE),
    Param("END_DATE", Kind.DATE),
    Param("RESOURCE_LID"),
    Param("LAST_REQUEST_TIMESTAMP", Kind.TIMESTAMP, doc="Only appointments created or changed after it."),
)

GET_APPOINTMENTS = register(
    Method(
        name="getAppointments",
        summary="Every appointment of a patient, whatever its origin, cancelled ones included (guide B.2.2).",
        params=LIST_PARAMS,
        fields=APPOINTMENT_FIELDS,
        handler=lambda call: _list_appointments(call, reminders=False),
        many=True,
        record_name="Appointment",
    )
)

SEARCH_APPOINTMENTS = register(
    Method(
        name="SearchAppointments",
        summary="As getAppointments; without a patient, every appointment of the client's centers between "
        "START_DATE and END_DATE (at most 31 days): the reminder batch.",
        params=LIST_PARAMS,
        fields=APPOINTMENT_FIELDS,
        handler=lambda call: _list_appointments(call, reminders=True),
        many=True,
        record_name="Appointment",
    )
)
