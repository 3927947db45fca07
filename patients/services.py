"""Who is booking: finds the hospital's patient for what a caller sent with a booking, or registers one;
and the desk's merges of two records of one person.

The guide's two patterns (each integration client uses one):
- `lid`: the caller names the patient by the hospital's id, which it does not have for a new patient. An
  unknown hospital id (e.g. deleted at the hospital) is searched for as a new patient, and so is the id
  of a patient the caller may not know (no history in its centers).
- `tid`: the caller names the patient by its own id, which the hospital keeps as a link (client, id) ->
  patient: each tuOtempO instance numbers its users itself.

A patient without a known id is matched, never guessed, and only among the patients the caller may
know (section 4 of the contract): the same ID number, else the same full name, date of birth and
mobile phone or email. Exactly one candidate is used; none, or several, means a new patient is
registered. A probable match the caller may not know (another center's patient), or several, is
recorded as a possible duplicate for the desk to review: the caller never reaches that record.
"""

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from clients.scope import Scope
from core.errors import CONFLICT, INVALID_INPUT, DomainError
from patients.models import (
    DuplicateStatus,
    Gender,
    Patient,
    PatientData,
    PatientLink,
    PossibleDuplicate,
    normalise_id_number,
)
from patients.selectors import (
    PATTERN_TID,
    PATTERNS,
    follow_merges,
    matching_patients,
    other_id_agrees,
    patient_by_lid,
    patient_by_tid,
    patient_in_scope,
)

MSG_TID_REQUIRED = "{T.PATIENT_TID:cap} is required: this integration names patients by {T.PATIENT_TID}."
MSG_NAME_REQUIRED = (
    "The patient is not known to the hospital: {T.FIRST_NAME} or {T.SECOND_NAME} is required to register "
    "a new patient (with {T.DATE_OF_BIRTH}, {T.MOBILE_PHONE}, {T.EMAIL} and {T.ID_NUMBER} when known)."
)
MSG_BAD_GENDER = "{T.GENDER:cap} must be M, F or empty, not {value!r}."
MSG_TID_OUT_OF_SCOPE = (
    "This {T.PATIENT_TID} names a patient of centers this client no longer serves; the hospital's desk must "
    "review it before it can be booked."
)
MSG_MERGE_SAME = "A record cannot be merged into itself (or into a record already merged into it)."
REASON_ELSEWHERE = "probable match known only in other centers"
REASON_AMBIGUOUS = "several records match"
REASON_REGISTERED_ANYWAY = "registered as a new patient beside a probable match"

# Contact fields filled from what the caller sent when the hospital's record has them empty.
FILLABLE_FIELDS = ("mobile_phone", "landline_phone", "email", "id_number", "date_of_birth", "gender")


def gender_of(value: str) -> str:
    """M, F or empty from what a caller sent ("m", "Female"...); anything else is an input error."""
    gender = value.strip().upper()[:1]
    if gender not in Gender.values and gender != "":
        raise DomainError(INVALID_INPUT, MSG_BAD_GENDER, value=value)
    return gender


@transaction.atomic
def resolve_patient(*, data: PatientData, scope: Scope, new_patient: bool = False) -> Patient:
    """The hospital's patient for a booking: the one the caller's hospital id (pattern `lid`) or own id
    (pattern `tid`) names, followed through merges, if the caller may know it; otherwise the single
    patient it may know that matches the ID number, or the name, date of birth and mobile phone or
    email; otherwise a new patient registered with what was sent, with a hospital id of its own (an
    unknown hospital id sent is not reused: the hospital assigns its ids). Under `tid` the caller's id
    is linked to the patient used, unless the caller already linked another id to it: then a new
    patient is registered, since one id names one account of the caller.

    Empty contact fields of an existing patient (mobile, landline, email, ID number, date of birth,
    gender) are filled from what was sent; values the hospital holds are never overwritten.

    new_patient (pattern `lid`): the caller was shown the probable matches (matching_patients) and says
    the person is none of them (the desk's "register a new patient"): a patient no id names is
    registered, and each probable match is recorded beside it as a possible duplicate, as when matching
    cannot decide.

    Call it inside the booking transaction, so that a refused booking registers no patient; it is
    atomic on its own too.
    """
    if scope.pattern not in PATTERNS:
        raise ValueError(f"Unknown patient pattern {scope.pattern!r}; expected one of {PATTERNS}.")
    gender_of(data.gender)
    if scope.pattern == PATTERN_TID and not data.tid:
        raise DomainError(INVALID_INPUT, MSG_TID_REQUIRED)
    patient = _known(data=data, scope=scope)
    if patient is not None:
        other_id_agrees(patient=patient, key=scope.pattern, lid=data.lid, tid=data.tid, scope=scope)
        return _fill_empty_fields(patient=patient, data=data)
    # The key names nobody the caller may know: the other id, if it names someone, is that patient.
    named_otherwise = _known(data=data, scope=scope, by_other=True)
    if scope.pattern == PATTERN_TID:
        return _link_new_tid(data=data, scope=scope, patient=named_otherwise)
    if named_otherwise is not None:
        return _fill_empty_fields(patient=named_otherwise, data=data)
    # Unknown, or a patient of other centers, which does not exist for this caller: matched as new.
    return _match_or_register(data=data, scope=scope, new_patient=new_patient)


def _known(*, data: PatientData, scope: Scope, by_other: bool = False) -> Patient | None:
    """The patient the key id of the caller's pattern (or the other id) names, if the caller may know it."""
    use_tid = (scope.pattern == PATTERN_TID) != by_other
    patient = patient_by_tid(data.tid, scope=scope) if use_tid else patient_by_lid(data.lid)
    if patient is not None and not patient_in_scope(patient=patient, centers=scope.centers):
        return None
    return patient


def _link_new_tid(*, data: PatientData, scope: Scope, patient: Patient | None) -> Patient:
    """Links the caller's new id to the patient it names by its hospital id, or to the one matched or
    registered; a second account of the caller for one patient registers a new record."""
    try:
        with transaction.atomic():
            patient = patient or _match_or_register(data=data, scope=scope)
            PatientLink.objects.create(client=scope.client, tid=data.tid, patient=patient)
            return _fill_empty_fields(patient=patient, data=data)
    except IntegrityError:
        pass
    # The caller already linked another id to that patient (a second account of the same person), or a
    # simultaneous booking linked this id first.
    if patient_by_tid(data.tid, scope=scope) is not None:
        patient = _known(data=data, scope=scope)
        if patient is None:  # linked earlier to a patient of centers the client no longer has
            raise DomainError(CONFLICT, MSG_TID_OUT_OF_SCOPE)
        return _fill_empty_fields(patient=patient, data=data)
    patient = _register(data=data)
    PatientLink.objects.create(client=scope.client, tid=data.tid, patient=patient)
    return patient


def _match_or_register(*, data: PatientData, scope: Scope, new_patient: bool = False) -> Patient:
    _wait_for_same_person(data)
    matches = matching_patients(data=data, centers=scope.centers)
    if len(matches) == 1 and not new_patient:
        return _fill_empty_fields(patient=matches[0], data=data)
    if matches:
        reason, others = REASON_REGISTERED_ANYWAY if new_patient else REASON_AMBIGUOUS, matches
    elif scope.centers is not None:
        reason, others = REASON_ELSEWHERE, matching_patients(data=data)
    else:
        reason, others = "", []
    patient = _register(data=data)
    for other in others:
        PossibleDuplicate.objects.create(patient=patient, other=other, reason=reason)
    return patient


def _wait_for_same_person(data: PatientData) -> None:
    """Makes simultaneous registrations of one person wait for each other on PostgreSQL, so that the
    second finds the patient the first registered instead of registering a twin. The lock is the
    transaction's and ends with it. (On SQLite, IMMEDIATE transactions already run one at a time.)"""
    if connection.vendor != "postgresql":
        return
    identity = normalise_id_number(data.id_number) or f"{data.name_key}|{data.date_of_birth}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"patient:{identity}"])


def _register(*, data: PatientData) -> Patient:
    if not (data.first_name.strip() or data.second_name.strip()):
        raise DomainError(INVALID_INPUT, MSG_NAME_REQUIRED)
    patient = Patient(
        lid=None,  # the hospital's own id, "P<pk>"
        first_name=data.first_name.strip(),
        second_name=data.second_name.strip(),
        third_name=data.third_name.strip(),
        gender=gender_of(data.gender),
        date_of_birth=data.date_of_birth,
        mobile_phone=data.mobile_phone.strip(),
        landline_phone=data.landline_phone.strip(),
        email=data.email.strip(),
        id_number=data.id_number.strip(),
    )
    patient.save()
    return patient


def _fill_empty_fields(*, patient: Patient, data: PatientData) -> Patient:
    changed = []
    for field in FILLABLE_FIELDS:
        sent = gender_of(data.gender) if field == "gender" else getattr(data, field)
        if isinstance(sent, str):
            sent = sent.strip()
        if sent and not getattr(patient, field):
            setattr(patient, field, sent)
            changed.append(field)
    if changed:
        patient.save(update_fields=[*changed, "modified"])
    return patient


@transaction.atomic
def merge_patients(*, duplicate: Patient, into: Patient) -> Patient:
    """Makes `duplicate` a record of the patient `into` (the desk found they are one person): its ids
    keep working and lead to the surviving record, its appointments and results are listed with the
    survivor's, and the survivor's empty contact fields are filled from it. Records merged into the
    duplicate move to the survivor, so chains stay one step long. Open possible-duplicate pairs of the
    two are settled."""
    survivor = follow_merges(into)
    duplicate = follow_merges(duplicate)
    if survivor.pk == duplicate.pk:
        raise DomainError(CONFLICT, MSG_MERGE_SAME)
    Patient.objects.filter(merged_into=duplicate).update(merged_into=survivor)
    duplicate.merged_into = survivor
    duplicate.save(update_fields=["merged_into", "modified"])
    known = PatientData(
        mobile_phone=duplicate.mobile_phone,
        landline_phone=duplicate.landline_phone,
        email=duplicate.email,
        id_number=duplicate.id_number,
        date_of_birth=duplicate.date_of_birth,
        gender=duplicate.gender,
    )
    _fill_empty_fields(patient=survivor, data=known)
    pairs = PossibleDuplicate.objects.filter(status=DuplicateStatus.OPEN)
    pairs.filter(patient__in=[duplicate, survivor], other__in=[duplicate, survivor]).update(
        status=DuplicateStatus.MERGED, decided=timezone.now()
    )
    return survivor


@transaction.atomic
def dismiss_duplicate(*, pair: PossibleDuplicate) -> PossibleDuplicate:
    """Records that the two records are two people: the pair is no longer shown for review."""
    if pair.status == DuplicateStatus.OPEN:
        pair.status, pair.decided = DuplicateStatus.DISMISSED, timezone.now()
        pair.save(update_fields=["status", "decided"])
    return pair
