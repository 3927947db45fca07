"""Who is booking: finds the hospital's patient for what a caller sent with a booking, or registers one.

The guide's two patterns (each integration client uses one):
- `lid`: the caller names the patient by the hospital's id, which it does not have for a new patient. An
  unknown hospital id (e.g. deleted at the hospital) is searched for as a new patient, and so is, for a
  caller limited to some centers, the id of a patient with no history there.
- `tid`: the caller names the patient by its own id (tuOtempO's), which the hospital stores on the patient.

A patient without a known id is matched, never guessed: the same ID number, else the same full name,
date of birth and mobile phone or email. Exactly one candidate is used; none, or several (ambiguous),
means a new patient is registered. Patients merged away at the hospital are never candidates, and a
known id of a merged patient leads to the record that replaced it.
"""

from collections.abc import Collection

from django.db import IntegrityError, connection, transaction

from centers.models import Center
from core.errors import INVALID_INPUT, DomainError
from patients.models import Gender, Patient, PatientData, normalise_id_number
from patients.selectors import (
    PATTERN_TID,
    check_pattern,
    matching_patients,
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

# Contact fields filled from what the caller sent when the hospital's record has them empty.
FILLABLE_FIELDS = ("mobile_phone", "landline_phone", "email", "id_number", "date_of_birth", "gender")


def gender_of(value: str) -> str:
    """M, F or empty from what a caller sent ("m", "Female"...); anything else is an input error."""
    gender = value.strip().upper()[:1]
    if gender not in Gender.values and gender != "":
        raise DomainError(INVALID_INPUT, MSG_BAD_GENDER, value=value)
    return gender


@transaction.atomic
def resolve_patient(*, data: PatientData, pattern: str, centers: Collection[Center] | None = None) -> Patient:
    """The hospital's patient for a booking: the one its hospital id (pattern `lid`) or tuOtempO id
    (pattern `tid`) names, followed through merges; otherwise the single patient matching the ID
    number, or the name, date of birth and mobile phone or email; otherwise a new patient registered
    with what was sent, with a hospital id of its own (an unknown hospital id sent is not reused: the
    hospital assigns its ids). Under `tid` the TID is linked to the matched patient, unless that
    patient already carries another TID: then a new patient is registered with it, since one TID
    names one tuOtempO account and overwriting would take the patient away from the other account.

    Empty contact fields of an existing patient (mobile, landline, email, ID number, date of birth,
    gender) are filled from what was sent; values the hospital holds are never overwritten.

    Call it inside the booking transaction, so that a refused booking registers no patient; it is
    atomic on its own too.
    """
    check_pattern(pattern=pattern, lid=data.lid, tid=data.tid)
    gender_of(data.gender)
    if pattern == PATTERN_TID:
        if not data.tid:
            raise DomainError(INVALID_INPUT, MSG_TID_REQUIRED)
        return _resolve_by_tid(data=data)
    return _resolve_by_lid(data=data, centers=centers)


def _wait_for_same_person(data: PatientData) -> None:
    """Makes simultaneous registrations of one person wait for each other on PostgreSQL, so that the
    second finds the patient the first registered instead of registering a twin. The lock is the
    transaction's and ends with it. (On SQLite, IMMEDIATE transactions already run one at a time.)"""
    if connection.vendor != "postgresql":
        return
    identity = normalise_id_number(data.id_number) or f"{data.name_key}|{data.date_of_birth}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"patient:{identity}"])


def _resolve_by_lid(*, data: PatientData, centers: Collection[Center] | None) -> Patient:
    patient = patient_by_lid(data.lid)
    if patient is not None and not patient_in_scope(patient=patient, centers=centers):
        patient = None  # a patient of other centers does not exist for this client: match as new
    if patient is None:
        _wait_for_same_person(data)
        matches = matching_patients(data=data)
        if len(matches) != 1:
            return _register(data=data, tid=None)
        patient = matches[0]
    return _fill_empty_fields(patient=patient, data=data)


def _resolve_by_tid(*, data: PatientData) -> Patient:
    patient = patient_by_tid(data.tid)
    if patient is not None:
        return _fill_empty_fields(patient=patient, data=data)
    _wait_for_same_person(data)
    matches = matching_patients(data=data)
    if len(matches) == 1 and _link_tid(patient=matches[0], tid=data.tid):
        return _fill_empty_fields(patient=matches[0], data=data)
    try:
        with transaction.atomic():
            return _register(data=data, tid=data.tid)
    except IntegrityError:
        # A simultaneous booking registered this TID first: that patient is the one.
        patient = patient_by_tid(data.tid)
        if patient is None:
            raise
        return _fill_empty_fields(patient=patient, data=data)


def _link_tid(*, patient: Patient, tid: str) -> bool:
    """Stores the TID on a patient that has none; False when the patient already has one."""
    try:
        with transaction.atomic():
            # Conditional, so that a TID linked meanwhile by another booking is never overwritten.
            linked = Patient.objects.filter(pk=patient.pk, tid__isnull=True).update(tid=tid)
    except IntegrityError:
        return False  # the TID was registered meanwhile on another patient: the caller re-reads it
    if linked:
        patient.tid = tid
    return bool(linked)


def _register(*, data: PatientData, tid: str | None) -> Patient:
    if not (data.first_name.strip() or data.second_name.strip()):
        raise DomainError(INVALID_INPUT, MSG_NAME_REQUIRED)
    patient = Patient(
        lid=None,  # the hospital's own id, "P<pk>"
        tid=tid,
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
