"""Every rule the probe checks, in one place.

Each rule names the section of tuOtempO's integration guide it rests on and quotes the line, and,
where the rule comes from the contract that closes what the guide leaves open (CONTRACT.md), that
section too, so a report says which line a failure breaks. `severity` is what breaking the rule
is: FAIL for what tuOtempO's calls depend on, WARN for what the contract asks but tuOtempO can live
without. Rules with `writes` book and cancel appointments and are skipped with --read-only.
"""

from __future__ import annotations

from dataclasses import dataclass

FAIL, WARN = "FAIL", "WARN"
SOAP, REST = "soap", "rest"


@dataclass(frozen=True)
class Rule:
    id: str
    title: str  # what must hold
    guide: str  # the guide's section, and the line the rule rests on
    contract: str = ""  # the contract's section, when the rule comes from it
    severity: str = FAIL
    surface: str | None = None  # only checked on that surface
    writes: bool = False  # needs bookings: skipped with --read-only

    @property
    def source(self) -> str:
        return f"guide {self.guide}" + (f"; contract {self.contract}" if self.contract else "")


RULES: tuple[Rule, ...] = (
    # ------------------------------------------------------------ the surface
    Rule(
        "WSDL-READ",
        "GET <url>?wsdl answers a WSDL with a SOAP 1.1 binding",
        'B.2.2 "you will have to make the Webservices (either SOAP or Rest) capable being called by tuOtempO"',
        "§1 (SOAP 1.1, document/literal wrapped; WSDL at GET /soap/?wsdl)",
        surface=SOAP,
    ),
    Rule(
        "WSDL-OPERATIONS",
        "the WSDL has an operation for every method, spelled as in the guide",
        'B.2.2, B.3, A.4, C.2: "searchAvailabilities()", "addAppointment()", "GetCenters()" ...',
        "§1 (method names spelled exactly as in the guide); §5",
        surface=SOAP,
    ),
    Rule(
        "WSDL-PARAMS",
        "every operation's request declares the guide's parameters, with their names",
        'B.2.2 "PARAMETER ... [ACTIVITY_LID] [nvarchar](50) ...", A.4.1, C.2.1 and the other tables',
        "§5 (every method but GetCenters also takes CENTER_LID)",
        surface=SOAP,
    ),
    Rule(
        "WSDL-FIELDS",
        "every operation's answer declares the guide's fields, lists as repeated records",
        'B.2.2 "VALUE (NULL = optional) ... [RESOURCE_LID] [nvarchar](50) NOT NULL ..." and the other tables',
        "§5",
        surface=SOAP,
    ),
    Rule(
        "WSDL-TYPES",
        "fields keep the guide's types: nvarchar/nchar as xs:string, file content as xs:base64Binary",
        'B.2.2 "[AVA_RESULTS_NUMBER] [nvarchar](5)", C.2.2 "[DOWNLOAD_CONTENT] [varbinary](max)"',
        "§2 (every nvarchar/nchar field is xs:string, numbers and dates included)",
        surface=SOAP,
    ),
    Rule(
        "WSDL-ORDER",
        "record fields are declared in the guide's order",
        "B.2.2 and the other answer tables",
        "§2 (record fields come in the guide's order, additions after)",
        severity=WARN,
        surface=SOAP,
    ),
    Rule(
        "SOAP-NULLS",
        "answers write every declared field of a record, null ones as xsi:nil",
        'B.2.2 "VALUE (NULL = optional)"',
        '§2 (null ones as xsi:nil="true", so a PHP client finds every property)',
        severity=WARN,
        surface=SOAP,
    ),
    Rule(
        "REST-PATHS",
        "every method answers at <url>/<method name in lower case>: reads by GET, writes by POST",
        'B.2.2 "you will have to make the Webservices (either SOAP or Rest) capable being called by tuOtempO"',
        "§1 (/api/<method name in lower case>)",
        surface=REST,
    ),
    Rule(
        "REST-ENVELOPE",
        'every answer is {"result": "OK"|"ERROR", "return", "msg"} (+ "code" on ERROR), lists as JSON arrays',
        "B.2.2 (tuOtempO's REST convention)",
        "§3 (REST envelope, every answer; HTTP status by error code)",
        surface=REST,
    ),
    Rule(
        "REST-GUIDE-SPELLING",
        "the guide's spelling of paths and UPPER_SNAKE parameter names are accepted too",
        'B.2.2 "searchAvailabilities()", "[ACTIVITY_LID]"',
        "§1 (the path matches in any letter case); §2 (REST accepts names in any letter case)",
        severity=WARN,
        surface=REST,
    ),
    Rule(
        "AUTH-REQUIRED",
        "a call without credentials is refused with 401",
        "B.2.2 (the hospital's webservices are called by tuOtempO only)",
        "§3 (missing/bad credentials: UNAUTHORIZED, 401); §4",
    ),
    Rule(
        "NO-SERVER-ERROR",
        "no call is answered with a server error (HTTP 5xx that is not a SOAP fault, a Server fault, a traceback)",
        "B.2.2",
        "§3 (no input, however malformed, produces an HTTP 500 or a traceback)",
    ),
    Rule(
        "NO-STORE",
        "every answer carries Cache-Control: no-store",
        "B.2.2 (answers hold patient data)",
        "§4 (every webservice answer carries Cache-Control: no-store)",
        severity=WARN,
    ),
    Rule(
        "FORMAT-DATE",
        "dates are answered dd/mm/yyyy",
        'B.2.2 "[AVA_DATE] [nvarchar](10) NOT NULL | Availability date (preferred format dd/mm/yyyy)"',
        "§2 (dates answered as dd/mm/yyyy)",
    ),
    Rule(
        "FORMAT-TIME",
        "times are answered hh:mm, 24 h",
        'A.2.1 "[APP_START_TIME] [nchar](5) NULL | Starting time (preferable format: hh:mm)"',
        "§2 (times: hh:mm, 24 h)",
    ),
    # ------------------------------------------------------------ the catalogue
    Rule(
        "GETCENTERS",
        "GetCenters lists the centers: CENTER_LID and CENTER_NAME on each, each CENTER_LID once",
        'B.3 "Response(Array (CENTER_LID , CENTER_NAME, [DESCRIPTION], [ADDRESS], [PHONE],[WEBSITE_URL])"',
        "§5 GetCenters",
    ),
    Rule(
        "KEYENTITIES-FIELDS",
        "every KeyEntities row has the guide's fields, the NOT NULL ones filled",
        'B.2.1.2 "[ACTIVITY_LID] [nvarchar](50) NOT NULL ... [RESOURCE_SECOND_NAME] [nvarchar](50) NOT NULL"',
        "§5 KeyEntities",
    ),
    Rule(
        "KEYENTITIES-PRICES",
        "every KeyEntities row has a duration in whole minutes and a price",
        'B.2.1.2 "[ACTIVITY_PRICE] [nvarchar](50) NULL | Price", "[ACTIVITY_DURATION] [nvarchar](50) NULL | Duration"',
        "§5 KeyEntities (price: insurance, else resource, else activity; duration: resource, else activity)",
    ),
    Rule(
        "KEYENTITIES-SELF-PAY",
        "each (resource, activity) pair has one self-pay row (empty INSURANCE_LID), no row twice",
        'B.2.1.2 "[INSURANCE_LID] [nvarchar](50) NULL"',
        "§5 KeyEntities (once with empty insurance, once per insurance)",
    ),
    # ------------------------------------------------------------ searchAvailabilities
    Rule(
        "SEARCH-FIELDS",
        "every slot has the guide's fields, the asked ACTIVITY_LID and an AVAILABILITY_LID of at most 50 characters",
        'B.2.2 "[RESOURCE_LID] ... NOT NULL, [ACTIVITY_LID] ... NOT NULL, [AVA_DATE] ... NOT NULL, '
        '[AVA_START_TIME] ... NOT NULL, [AVAILABILITY_LID] [nvarchar](50)"',
        "§5 searchAvailabilities (AVAILABILITY_LID accepted by addAppointment)",
    ),
    Rule(
        "SEARCH-LIMIT",
        "at most AVA_RESULTS_NUMBER slots, the earliest ones",
        'B.2.2 "[AVA_RESULTS_NUMBER] [nvarchar](5) NOT NULL | Quantity of availabilities to return"',
        "§5 (at most AVA_RESULTS_NUMBER slots, the earliest first)",
    ),
    Rule(
        "SEARCH-ORDER",
        "slots come in order of date, start time, then RESOURCE_LID",
        "B.2.2 searchAvailabilities",
        "§5 (lists are ordered: slots by date, time, resource)",
    ),
    Rule(
        "SEARCH-WINDOW",
        "slots start at or after AVA_START_DAY AVA_START_TIME and end by AVA_END_DAY AVA_END_TIME, none left out",
        'B.2.2 "[AVA_START_TIME] ... Starting time of the availability search on AVA_START_DAY"',
        "§5 (window from AVA_START_DAY at AVA_START_TIME to AVA_END_DAY at AVA_END_TIME)",
    ),
    Rule(
        "SEARCH-DEFAULTS",
        "without dates the search spans today to today + 7 days",
        'B.2.2 "[AVA_START_DAY] ... Defaults to TODAY", "[AVA_END_DAY] ... Defaults to AVA_START_DAY + 1 week"',
        "§5 (window defaults)",
    ),
    Rule(
        "SEARCH-BAND",
        "with AVA_MIN_TIME/AVA_MAX_TIME every slot starts at or after MIN and ends by MAX, each day",
        'B.2.2 "[AVA_MIN_TIME] [nvarchar](5) NULL | time slot beginning", "[AVA_MAX_TIME] ... time slot ending"',
        "§5 (a band each day)",
    ),
    Rule(
        "SEARCH-NOT-PAST",
        "no slot starts in the past",
        'B.2.2 "This Webservice allows the retrieval of the Doctor\'s ... reservable time slots"',
        "§5 (never a slot that starts in the past)",
    ),
    Rule(
        "SEARCH-STABLE-LID",
        "the same slot found twice has the same AVAILABILITY_LID",
        'B.2.2 "[AVAILABILITY_LID] ... ID Availability in Your Software, previously returned by the '
        'SearchAvailability"',
        "§5 (AVAILABILITY_LID is stable for the same slot)",
    ),
    # ------------------------------------------------------------ the booking life cycle
    Rule(
        "BOOK",
        "addAppointment of a slot just found answers ADD_RESULT=OK with APP_LID and USER_LID",
        'B.2.2 "[ADD_RESULT] [nvarchar](50) NOT NULL | OK / ERROR", "[APP_LID] ... OR NULL in case of error"',
        "§5 addAppointment",
        writes=True,
    ),
    Rule(
        "BOOK-CHECK",
        "checkAppointment gives the booked appointment: Confirmed, its date, time, resource, activity, patient",
        'B.2.2 "checkAppointment() This Webservice allows the detection of the single appointment\'s status"',
        "§5 checkAppointment",
        writes=True,
    ),
    Rule(
        "BOOK-LIST",
        "getAppointments lists the patient's appointment (Confirmed; Cancelled once cancelled)",
        'B.2.2 "getAppointments() ... all his existing appointments regardless of their origin"',
        "§5 getAppointments (cancelled ones included; LAST_REQUEST_TIMESTAMP)",
        writes=True,
    ),
    Rule(
        "BOOK-SLOT-TAKEN",
        "a booked slot is no longer offered by searchAvailabilities",
        'B.2.2 "searchAvailabilities() ... reservable time slots"',
        "§5 (a slot overlaps no active appointment)",
        writes=True,
    ),
    Rule(
        "BOOK-RETRY",
        "the same booking sent again answers OK with the same APP_LID and books nothing more",
        "B.2.2 addAppointment",
        "§5 (a retry is safe: OK with the same APP_LID, no second appointment)",
        writes=True,
    ),
    Rule(
        "BOOK-CONCURRENT",
        "of simultaneous bookings of one slot by different patients exactly one answers OK",
        'B.2.2 "[ADD_RESULT] [nvarchar](50) NOT NULL | OK / ERROR"',
        "§5 (at most one active appointment per resource per moment: exactly one gets OK)",
        writes=True,
    ),
    Rule(
        "CANCEL-PATIENT",
        "CancelAppointment cancels only the named patient's appointment",
        'A.4.2 "CancelAppointment() [APP_LID] ... NOT NULL, [USER_LID] [nvarchar](50) NOT NULL"',
        "§5 CancelAppointment (only when the appointment belongs to that patient)",
        writes=True,
    ),
    Rule(
        "REMINDER-BATCH",
        "SearchAppointments finds the appointment by patient, and without a patient over a window of up to 31 days",
        'A.4.1 "SearchAppointments() [USER_LID] ... [START_DATE] ... [END_DATE]"',
        "§5 SearchAppointments (USER_LID may be left out when both dates span at most 31 days)",
        writes=True,
    ),
    Rule(
        "BOOK-DELETE",
        "deleteAppointment answers DELETE_RESULT=OK, the appointment becomes Cancelled, a second delete is OK",
        'B.2.2 "deleteAppointment() ... [DELETE_RESULT] [nvarchar](50) NOT NULL | OK / ERROR"',
        "§5 deleteAppointment (already cancelled: OK)",
        writes=True,
    ),
    Rule(
        "BOOK-SLOT-BACK",
        "a cancelled appointment's slot is offered again",
        "B.2.2 deleteAppointment",
        "§5 deleteAppointment (its slot bookable again)",
        writes=True,
    ),
    Rule(
        "WRITE-ERRORS-IN-ANSWER",
        "addAppointment, deleteAppointment and CancelAppointment answer every failure in their result field",
        'B.2.2 "[ADD_RESULT] ... OK / ERROR", "[ERROR_MESSAGE] [nvarchar](500) NULL | Error Message"',
        "§3 (..._RESULT=ERROR and ERROR_MESSAGE on both surfaces, never as a SOAP fault)",
        writes=True,
    ),
    Rule(
        "CANCEL-MESSAGE-LENGTH",
        "CancelAppointment's error message in APP_LID fits the guide's nvarchar(50)",
        'A.4.2 "[APP_LID] [nvarchar](50) NULL | ID Appointment in Your Software ... OR Error Message"',
        "§5 CancelAppointment (on failure APP_LID carries a message of at most 50 characters)",
        severity=WARN,
        writes=True,
    ),
    Rule(
        "CLEANUP",
        "everything the probe booked is cancelled at the end",
        "B.2.2 deleteAppointment",
        severity=WARN,
        writes=True,
    ),
    # ------------------------------------------------------------ medical results
    Rule(
        "RESULTS-LIST",
        "getTestResultsList lists a patient's results with the guide's fields",
        'C.2.1 "Response(Array (DOWNLOAD_LID, [STATUS (Valid, Cancelled)], DOWNLOAD_CODE, ...))"',
        "§5 getTestResultsList",
    ),
    Rule(
        "RESULTS-CONTENT",
        "getTestResultContent gives a valid result's file, and no file for a withdrawn one",
        'C.2.2 "Response(DOWNLOAD_LID, [DOWNLOAD_CONTENT],STATUS(Valid,Cancelled),[ERROR_MESSAGE])"',
        "§5 getTestResultContent",
    ),
    # ------------------------------------------------------------ bad input
    Rule(
        "BAD-INPUT",
        "an unreadable date, time, number or AVAILABILITY_LID is refused as INVALID_INPUT",
        'B.2.2 "[AVA_START_DAY] [nvarchar](10) NULL"',
        "§2 (a value that cannot be parsed is an input error, never a server error); §3",
    ),
    Rule(
        "UNKNOWN-ID",
        "an unknown id is refused as NOT_FOUND",
        'B.2.2 "[APP_LID] [nchar](10) NOT NULL | ID Appointment in Your Software"',
        "§3 (unknown id: NOT_FOUND)",
    ),
    Rule(
        "MISSING-REQUIRED",
        "a required parameter left out is refused as INVALID_INPUT",
        'B.2.2 "checkAppointment() [APP_LID] [nchar](10) NOT NULL"',
        "§3 (unparsable or inconsistent input: INVALID_INPUT)",
    ),
    Rule(
        "EMPTY-OPTIONAL",
        "optional parameters sent empty, as tolerant clients send them, count as absent",
        'B.2.2 "PARAMETER (Bold = must be implemented) ... NULL"',
        "§2 (clients send empty strings for optional fields: an empty value counts as absent)",
    ),
)

BY_ID = {rule.id: rule for rule in RULES}
