"""The guide's field names for the things domain messages name (core.errors.Term)."""

from collections.abc import Mapping

from core.errors import Term

FIELD_NAMES: Mapping[Term, str] = {
    Term.RESOURCE: "RESOURCE_LID",
    Term.ACTIVITY: "ACTIVITY_LID",
    Term.INSURANCE: "INSURANCE_LID",
    Term.LOCATION: "LOCATION_LID",
    Term.CENTER: "CENTER_LID",
    Term.APPOINTMENT: "APP_LID",
    Term.PATIENT: "USER_LID",
    Term.PATIENT_TID: "USER_TID",
    Term.RESULT: "DOWNLOAD_LID",
    Term.SLOT: "AVAILABILITY_LID",
    Term.SEARCH_START: "AVA_START_DAY/TIME",
    Term.SEARCH_END: "AVA_END_DAY/TIME",
    Term.EARLIEST_START: "AVA_MIN_TIME",
    Term.LATEST_END: "AVA_MAX_TIME",
    Term.DATE: "APP_DATE",
    Term.START_TIME: "APP_START_TIME",
    Term.FROM_DATE: "START_DATE",
    Term.TO_DATE: "END_DATE",
    Term.FIRST_NAME: "USER_FIRST_NAME",
    Term.SECOND_NAME: "USER_SECOND_NAME",
    Term.DATE_OF_BIRTH: "USER_DATE_OF_BIRTH",
    Term.MOBILE_PHONE: "USER_MOBILE_PHONE",
    Term.EMAIL: "USER_EMAIL",
    Term.ID_NUMBER: "USER_ID_NUMBER",
    Term.GENDER: "USER_GENDER",
}

# The guide's webservice methods, spelled as the guide spells them (webservices/methods/ declares each;
# a test keeps the two equal). Operations label their metrics with these names only.
METHOD_NAMES: frozenset[str] = frozenset(
    {
        "GetCenters",
        "KeyEntities",
        "searchAvailabilities",
        "addAppointment",
        "deleteAppointment",
        "CancelAppointment",
        "checkAppointment",
        "getAppointments",
        "SearchAppointments",
        "getTestResultsList",
        "getTestResultContent",
    }
)
