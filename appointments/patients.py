"""Who is booking: finds the hospital's patient for what tuOtempO sent with addAppointment, or registers one.

The guide's two patterns (the integration client chooses one):
- `lid`: tuOtempO names the patient by the hospital's id (USER_LID), which it does not have for a new
  patient. An unknown USER_LID (e.g. deleted at the hospital) is searched for as a new patient, and
  so is, for a client limited to some centers, the USER_LID of a patient with no history there.
- `tid`: tuOtempO names the patient by its own id (USER_TID), which the hospital stores on the patient.

A patient without a known id is matched, never guessed: the same ID number, else the same full name,
date of birth and mobile phone or email. Exactly one candidate is used; none, or several (ambiguous),
means a new patient is registered. Patients merged away at the hospital are never candidates, and a
known id of a merged patient leads to the record that replaced it.
"""

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction

from appointments.models import Appointment, Gender, Patient, normalise_id_number, normalise_name, normalise_phone
from centers.models import Center
from his.errors import CONFLICT, INVALID_INPUT, HisError

PATTERN_LID = "lid"
PATTERN_TID = "tid"
PATTERNS = (PATTERN_LID, PATTERN_TID)

MSG_TID_REQUIRED = "USER_TID is required: this integration names patients by USER_TID."
MSG_LID_UNDER_TID = "USER_LID cannot be used: this integration names patients by USER_TID."
MSG_TID_UNDER_LID = "USER_TID cannot be used: this integration names patients by USER_LID."
MSG_NAME_REQUIRED = (
    "The patient is not known to the hospital: USER_FIRST_NAME or USER_SECOND_NAME is required to register "
    "a new patient (with USER_DATE_OF_BIRTH, USER_MOBILE_PHONE, USER_EMAIL and USER_ID_NUMBER when known)."
)
MSG_BAD_GENDER = "USER_GENDER must be M, F or empty, not {value!r}."
MSG_MERGE_CYCLE = "Patient {lid} is part of a cycle of merged records; the hospital must repair it at the desk."

# Contact fields filled from what tuOtempO sent when the hospital's record has them empty.
FILLABLE_FIELDS = ("mobile_phone", "landline_phone", "email", "id_number", "date_of_birth", "gender")


@dataclass(frozen=True)
class PatientData:
    """What tuOtempO sent about the patient, already parsed (all optional)."""

    lid: str | None = None
    tid: str | None = None
    first_name: str = ""
    second_name: str = ""
    third_name: str = ""
    gender: str = ""  # "M", "F" or ""
    date_of_birth: dt.date | None = None
    mobile_phone: str = ""
    landline_phone: str = ""
    email: str = ""
    id_number: str = ""

    @property
    def name_key(self) -> str:
        return normalise_name(self.first_name, self.second_name, self.third_name)


def follow_merges(patient: Patient) -> Patient:
    """The record that now stands for this patient: itself, or the end of its chain of merges."""
    start, seen = patient, {patient.pk}
    while patient.merged_into_id is not None:
        if patient.merged_into_id in seen:
            raise HisError(CONFLICT, MSG_MERGE_CYCLE.format(lid=start.lid))
        seen.add(patient.merged_into_id)
        patient = patient.merged_into
    return patient


def patient_family(patient: Patient) -> list[int]:
    """The patient and every record merged into it, directly or through other merges."""
    ids, frontier = [patient.pk], [patient.pk]
    while frontier:
        frontier = list(
            Patient.objects.filter(merged_into__in=frontier).exclude(pk__in=ids).values_list("pk", flat=True)
        )
        ids.extend(frontier)
    return ids


def patient_in_scope(*, patient: Patient, centers: Collection[Center] | None) -> bool:
    """Whether a client limited to some centers may know this patient: one with an appointment or a
    result there (theirs or a merged record's). A client of every center knows every patient."""
    if centers is None:
        return True
    from results.models import MedicalResult  # results builds on appointments, not the reverse

    family = patient_family(patient)
    centers = list(centers)
    return (
        Appointment.objects.filter(patient__in=family, resource__location__center__in=centers).exists()
        or MedicalResult.objects.filter(patient__in=family, center__in=centers).exists()
    )


def patient_by_lid(lid: str | None) -> Patient | None:
    """The patient a USER_LID names, followed through merges; None when the hospital does not know it."""
    if not lid:
        return None
    patient = Patient.objects.filter(lid=lid).first()
    return follow_merges(patient) if patient else None


def patient_by_tid(tid: str | None) -> Patient | None:
    """The patient a USER_TID was linked to, followed through merges; None when no patient has it."""
    if not tid:
        return None
    patient = Patient.objects.filter(tid=tid).first()
    return follow_merges(patient) if patient else None


def matching_patients(*, data: PatientData) -> list[Patient]:
    """The patients (not merged away) that what was sent identifies: those with the same ID number
    when any has it, else those with the same full name, date of birth and mobile phone or email.
    At most two are returned: two already means the data is ambiguous."""
    id_number = normalise_id_number(data.id_number)
    if id_number:
        # An ID number is decisive: when any patient has it, the name is not searched.
        by_id = list(Patient.objects.filter(id_key=id_number, merged_into__isnull=True).order_by("pk")[:2])
        if by_id:
            return by_id

    name_key = data.name_key
    mobile = normalise_phone(data.mobile_phone)
    email = data.email.strip().lower()
    if not name_key or data.date_of_birth is None or not (mobile or email):
        return []
    same_name_and_birth = Patient.objects.filter(
        name_key=name_key, date_of_birth=data.date_of_birth, merged_into__isnull=True
    ).order_by("pk")
    matches = []
    for patient in same_name_and_birth:
        same_mobile = bool(mobile) and normalise_phone(patient.mobile_phone) == mobile
        same_email = bool(email) and patient.email.strip().lower() == email
        # Two different ID numbers are two different people, whatever else they share.
        other_id = id_number and patient.id_number and patient.id_key != id_number
        if (same_mobile or same_email) and not other_id:
            matches.append(patient)
            if len(matches) == 2:
                break
    return matches


@transaction.atomic
def resolve_patient(*, data: PatientData, pattern: str, centers: Collection[Center] | None = None) -> Patient:
    """The hospital's patient for an addAppointment: the one its USER_LID (pattern `lid`) or USER_TID
    (pattern `tid`) names, followed through merges; otherwise the single patient matching the ID
    number, or the name, date of birth and mobile phone or email; otherwise a new patient registered
    with what was sent, with a USER_LID of the hospital's own (an unknown USER_LID sent is not reused:
    the hospital assigns its ids). Under `tid` the TID is linked to the matched patient, unless that
    patient already carries another TID: then a new patient is registered with it, since one TID
    names one tuOtempO account and overwriting would take the patient away from the other account.

    Empty contact fields of an existing patient (mobile, landline, email, ID number, date of birth,
    gender) are filled from what was sent; values the hospital holds are never overwritten.

    Call it inside the booking transaction, so that a refused booking registers no patient; it is
    atomic on its own too.
    """
    if pattern not in PATTERNS:
        raise ValueError(f"Unknown patient pattern {pattern!r}; expected one of {PATTERNS}.")
    if data.gender not in Gender.values and data.gender != "":
        raise HisError(INVALID_INPUT, MSG_BAD_GENDER.format(value=data.gender))
    if pattern == PATTERN_TID:
        if data.lid:
            raise HisError(INVALID_INPUT, MSG_LID_UNDER_TID)
        if not data.tid:
            raise HisError(INVALID_INPUT, MSG_TID_REQUIRED)
        return _resolve_by_tid(data=data)
    if data.tid:
        raise HisError(INVALID_INPUT, MSG_TID_UNDER_LID)
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
        raise HisError(INVALID_INPUT, MSG_NAME_REQUIRED)
    patient = Patient(
        lid=None,  # the hospital's own id, "P<pk>"
        tid=tid,
        first_name=data.first_name.strip(),
        second_name=data.second_name.strip(),
        third_name=data.third_name.strip(),
        gender=data.gender,
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
        sent = getattr(data, field)
        if isinstance(sent, str):
            sent = sent.strip()
        if sent and not getattr(patient, field):
            setattr(patient, field, sent)
            changed.append(field)
    if changed:
        patient.save(update_fields=[*changed, "modified"])
    return patient
