"""The methods of tuOtempO's integration guide as the probe knows them, and the contract's additions.

The probe is an independent client: it carries its own copy of what the guide and the contract say
(method names, parameters, answer fields, which fields are NOT NULL, the error codes), and never
looks at how this project implements them. Field lists are in the contract's order (CONTRACT.md
section 5), which is the guide's with the contract's additions.
"""

from __future__ import annotations

from dataclasses import dataclass

# Kinds of value on the wire.
TEXT, DATE, TIME, TIMESTAMP, BINARY = "text", "date", "time", "timestamp", "binary"


@dataclass(frozen=True)
class Field:
    name: str
    required: bool = False  # NOT NULL in the guide: present and non-empty in every answer
    kind: str = TEXT


@dataclass(frozen=True)
class Method:
    name: str  # the guide's spelling, which is the SOAP operation name
    section: str  # the guide's section
    params: tuple[str, ...]
    fields: tuple[Field, ...]
    many: bool = False  # the answer is a list of records
    write: bool = False  # REST: POST only
    result_field: str | None = None  # the answer's own OK/ERROR field (write methods)
    message_field: str | None = None  # where a write method puts its error message
    optional: bool = False  # a hospital may leave it out (the medical results of section C)

    @property
    def rest_path(self) -> str:
        return self.name.lower()

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def takes_center(self) -> bool:
        return self.name != "GetCenters"


def _fields(spec: str) -> tuple[Field, ...]:
    """'NAME* OTHER:date' -> Fields: * marks NOT NULL, :kind a date, time or binary value."""
    fields = []
    for token in spec.split():
        required = "*" in token
        name, _, kind = token.replace("*", "").partition(":")
        fields.append(Field(name, required, kind or TEXT))
    return tuple(fields)


APPOINTMENT_FIELDS = _fields(
    "APP_LID* STATUS* APP_DATE*:date APP_START_TIME*:time APP_END_TIME:time USER_LID* USER_MOBILE_PHONE "
    "USER_EMAIL USER_INSURANCE_LID ACTIVITY_LID* ACTIVITY_NAME ACTIVITY_GROUP_LID ACTIVITY_GROUP_NAME "
    "RESOURCE_LID* RESOURCE_FIRST_NAME RESOURCE_SECOND_NAME"
)

METHODS: tuple[Method, ...] = (
    Method(
        "GetCenters",
        "B.3",
        params=(),
        fields=_fields("CENTER_LID* CENTER_NAME* DESCRIPTION ADDRESS PHONE WEBSITE_URL"),
        many=True,
    ),
    Method(
        "KeyEntities",
        "B.2.1.2",
        params=(),
        fields=_fields(
            "INSURANCE_LID INSURANCE_NAME ACTIVITY_GROUP_LID ACTIVITY_GROUP_NAME ACTIVITY_LID* ACTIVITY_NAME* "
            "ACTIVITY_PRICE ACTIVITY_DURATION LOCATION_LID LOCATION_NAME RESOURCE_LID* RESOURCE_FIRST_NAME* "
            "RESOURCE_SECOND_NAME*"
        ),
        many=True,
    ),
    Method(
        "searchAvailabilities",
        "B.2.2",
        params=(
            "ACTIVITY_LID",
            "AVA_START_DAY",
            "AVA_END_DAY",
            "AVA_START_TIME",
            "AVA_END_TIME",
            "AVA_MIN_TIME",
            "AVA_MAX_TIME",
            "AVA_RESULTS_NUMBER",
            "RESOURCE_LID",
            "INSURANCE_LID",
            "LOCATION_LID",
        ),  # fmt: skip
        # The guide's order (B.2.2), then the contract's addition LOCATION_LID.
        fields=_fields(
            "RESOURCE_LID* ACTIVITY_LID* INSURANCE_LID AVA_DATE*:date AVA_START_TIME*:time AVAILABILITY_LID "
            "AVA_END_TIME:time ACTIVITY_PRICE LOCATION_LID"
        ),
        many=True,
    ),
    Method(
        "addAppointment",
        "B.2.2",
        params=(
            "ACTIVITY_LID",
            "RESOURCE_LID",
            "USER_TID",
            "USER_LID",
            "USER_FIRST_NAME",
            "USER_SECOND_NAME",
            "USER_THIRD_NAME",
            "USER_GENDER",
            "USER_DATE_OF_BIRTH",
            "USER_MOBILE_PHONE",
            "USER_LANDLINE_PHONE",
            "USER_EMAIL",
            "USER_ID_NUMBER",
            "APP_DATE",
            "APP_START_TIME",
            "AVAILABILITY_LID",
            "INSURANCE_LID",
            "NOTES",
        ),  # fmt: skip
        fields=_fields("ADD_RESULT* ERROR_MESSAGE APP_LID USER_LID"),
        write=True,
        result_field="ADD_RESULT",
        message_field="ERROR_MESSAGE",
    ),
    Method(
        "deleteAppointment",
        "B.2.2",
        params=("APP_LID",),
        fields=_fields("DELETE_RESULT* ERROR_MESSAGE APP_LID"),
        write=True,
        result_field="DELETE_RESULT",
        message_field="ERROR_MESSAGE",
    ),
    Method(
        "CancelAppointment",
        "A.4.2",
        params=("APP_LID", "USER_LID"),
        fields=_fields("DELETE_RESULT RESULT* APP_LID"),
        write=True,
        result_field="RESULT",
        message_field="APP_LID",  # "ID Appointment ... OR Error Message"
    ),
    Method(
        "checkAppointment",
        "B.2.2",
        params=("APP_LID",),
        fields=_fields(
            "APP_LID* STATUS* APP_DATE*:date APP_START_TIME*:time APP_END_TIME:time USER_LID* USER_TID "
            "USER_MOBILE_PHONE USER_EMAIL USER_INSURANCE_LID RESOURCE_LID* ACTIVITY_LID*"
        ),
    ),
    Method(
        "getAppointments",
        "B.2.2",
        params=("USER_LID", "USER_TID", "START_DATE", "END_DATE", "RESOURCE_LID", "LAST_REQUEST_TIMESTAMP"),
        fields=APPOINTMENT_FIELDS,
        many=True,
    ),
    Method(
        "SearchAppointments",
        "A.4.1",
        params=("USER_LID", "START_DATE", "END_DATE", "RESOURCE_LID", "LAST_REQUEST_TIMESTAMP"),
        fields=APPOINTMENT_FIELDS,
        many=True,
    ),
    Method(
        "getTestResultsList",
        "C.2.1",
        params=("USER_LID", "USER_TID", "RESULT_START_DATE"),
        fields=_fields(
            "DOWNLOAD_LID* STATUS* DOWNLOAD_CODE* DOWNLOAD_FILENAME DOWNLOAD_TYPE* USER_LID* USER_TID "
            "USER_MOBILE_PHONE* USER_EMAIL USER_ID_NUMBER*"
        ),
        many=True,
        optional=True,
    ),
    Method(
        "getTestResultContent",
        "C.2.2",
        params=("DOWNLOAD_LID",),
        # DOWNLOAD_CONTENT is NOT NULL in the guide, but a withdrawn result has none (contract section 5).
        fields=_fields("DOWNLOAD_LID* DOWNLOAD_CONTENT:binary STATUS* ERROR_MESSAGE"),
        optional=True,
    ),
)

BY_NAME = {m.name: m for m in METHODS}

# Date and time fields of answers, whatever the method (contract section 2: dd/mm/yyyy, hh:mm).
DATE_FIELDS = frozenset(f.name for m in METHODS for f in m.fields if f.kind == DATE)
TIME_FIELDS = frozenset(f.name for m in METHODS for f in m.fields if f.kind == TIME)

# Parameters whose SOAP type may be the guide's [datetime] instead of text.
DATETIME_PARAMS = frozenset({"LAST_REQUEST_TIMESTAMP"})

# The contract's error codes (section 3) and the SOAP fault code of each.
FAULT_CODES = {
    "Client.Forbidden": "FORBIDDEN",
    "Client.InvalidInput": "INVALID_INPUT",
    "Client.NotFound": "NOT_FOUND",
    "Client.Conflict": "CONFLICT",
    "Client.Throttled": "THROTTLED",
    "Server.Unavailable": "SERVICE_UNAVAILABLE",
}
HTTP_CODES = {401: "UNAUTHORIZED", 413: "TOO_LARGE"}

STATUS_CONFIRMED, STATUS_CANCELLED = "Confirmed", "Cancelled"
RESULT_VALID, RESULT_CANCELLED = "Valid", "Cancelled"
REMINDER_WINDOW_DAYS = 31  # SearchAppointments without a patient (contract section 5)
MAX_ID_LENGTH = 50  # nvarchar(50): APP_LID, AVAILABILITY_LID ...
