"""Reads of the patients domain: which record stands for a patient, who a caller may know, who matches.

A patient merged away at the desk points to the record that replaced it (`merged_into`); every id of
a merged record leads to the surviving one, and merged records are never matched.
"""

import re
from collections.abc import Collection, Iterator

from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Replace

from centers.models import Center
from clients.scope import Scope
from core.errors import CONFLICT, INVALID_INPUT, NOT_FOUND, DomainError, Term
from patients.models import Patient, PatientData, PatientLink, normalise_id_number, normalise_name, normalise_phone

PATTERN_LID = "lid"
PATTERN_TID = "tid"
PATTERNS = (PATTERN_LID, PATTERN_TID)
PATTERN_TERMS = {PATTERN_LID: Term.PATIENT, PATTERN_TID: Term.PATIENT_TID}

MSG_MERGE_CYCLE = "Patient {lid} is part of a cycle of merged records; the hospital must repair it at the desk."
MSG_UNKNOWN_PATIENT = "{what:cap} {lid!r} does not exist."
MSG_PATIENT_REQUIRED = "Name the patient with {what}."
MSG_WRONG_PATTERN = "This client identifies patients by {expected}; {given} is not accepted: send {expected} instead."
MSG_IDS_DISAGREE = "{key} {key_value!r} and {other} {other_value!r} name two different patients."


def follow_merges(patient: Patient) -> Patient:
    """The record that now stands for this patient: itself, or the end of its chain of merges."""
    start, seen = patient, {patient.pk}
    while patient.merged_into_id is not None:
        if patient.merged_into_id in seen:
            raise DomainError(CONFLICT, MSG_MERGE_CYCLE, lid=start.lid)
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


MERGE_DEPTH = 4  # records merged into a patient that still place it in a center (merges flatten chains)


def patients_known_in(centers: Collection[Center]) -> QuerySet[Patient]:
    """The patients a caller limited to these centers may know: those with an appointment or a result
    there, their own or a record's merged into them."""
    centers = list(centers)
    seen_there = Q()
    for depth in range(MERGE_DEPTH):
        via = "merged_patients__" * depth
        seen_there |= Q(**{f"{via}appointments__resource__location__center__in": centers})
        seen_there |= Q(**{f"{via}results__center__in": centers})
    return Patient.objects.filter(pk__in=Patient.objects.filter(seen_there).values("pk"))


def patient_in_scope(*, patient: Patient, centers: Collection[Center] | None) -> bool:
    """Whether a caller limited to some centers may know this patient (see patients_known_in). A caller
    of every center knows every patient."""
    if centers is None:
        return True
    return patients_known_in(centers).filter(pk=follow_merges(patient).pk).exists()


def patient_by_lid(lid: str | None) -> Patient | None:
    """The patient a hospital id names, followed through merges; None when the hospital does not know it."""
    if not lid:
        return None
    patient = Patient.objects.filter(lid=lid).first()
    return follow_merges(patient) if patient else None


def patient_by_tid(tid: str | None, *, scope: Scope) -> Patient | None:
    """The patient the caller linked its own id to, followed through merges; None when it linked none.
    The same id sent by another integration client names another link."""
    if not tid or scope.client is None:
        return None
    link = PatientLink.objects.filter(client=scope.client, tid=tid).select_related("patient").first()
    return follow_merges(link.patient) if link else None


def linked_tid(*, patient: Patient, scope: Scope) -> str | None:
    """The caller's own id for the patient (on the patient or a record merged into it), if it linked one.
    Only callers of the tid pattern link ids."""
    if scope.client is None or scope.pattern != PATTERN_TID:
        return None
    links = PatientLink.objects.filter(client=scope.client, patient__in=patient_family(patient))
    own = sorted(links, key=lambda link: link.patient_id != patient.pk)  # the patient's own link first
    return own[0].tid if own else None


def check_pattern(*, pattern: str, lid: str | None, tid: str | None) -> None:
    """A caller names patients by the id of its pattern (the hospital's under lid, its own under tid): the
    other id alone does not name a patient for it."""
    if pattern not in PATTERNS:
        raise ValueError(f"Unknown patient pattern {pattern!r}; expected one of {PATTERNS}.")
    key, other = (tid, lid) if pattern == PATTERN_TID else (lid, tid)
    if not key and other:
        given = PATTERN_LID if pattern == PATTERN_TID else PATTERN_TID
        raise DomainError(INVALID_INPUT, MSG_WRONG_PATTERN, expected=PATTERN_TERMS[pattern], given=PATTERN_TERMS[given])


def other_id_agrees(*, patient: Patient | None, key: str, lid: str | None, tid: str | None, scope: Scope) -> None:
    """The id of the other kind, sent beside the one that names the patient, must name the same patient
    when it names one the caller may know (an id that names nobody contradicts nothing)."""
    other_value = lid if key == PATTERN_TID else tid
    if not other_value:
        return
    other = patient_by_lid(other_value) if key == PATTERN_TID else patient_by_tid(other_value, scope=scope)
    if other is not None and not patient_in_scope(patient=other, centers=scope.centers):
        other = None
    if other is not None and (patient is None or other.pk != patient.pk):
        raise DomainError(
            INVALID_INPUT,
            MSG_IDS_DISAGREE,
            key=PATTERN_TERMS[key],
            key_value=tid if key == PATTERN_TID else lid,
            other=PATTERN_TERMS[PATTERN_LID if key == PATTERN_TID else PATTERN_TID],
            other_value=other_value,
        )


def named_patient(
    *, scope: Scope, lid: str | None, tid: str | None, required: bool, key: str | None = None
) -> Patient | None:
    """The patient a caller names, followed through merges: by the id of its pattern, or, for the guide's
    reminder methods, by the hospital's id whatever the pattern (key="lid"). The other id may be sent as
    well and must then name the same patient. A patient the caller may not know (outside its centers)
    gets the same answer as an unknown one."""
    key = key or scope.pattern
    check_pattern(pattern=key, lid=lid, tid=tid)
    value = tid if key == PATTERN_TID else lid
    if not value:
        if required:
            raise DomainError(INVALID_INPUT, MSG_PATIENT_REQUIRED, what=PATTERN_TERMS[key])
        return None
    patient = patient_by_tid(value, scope=scope) if key == PATTERN_TID else patient_by_lid(value)
    if patient is None or not patient_in_scope(patient=patient, centers=scope.centers):
        raise DomainError(NOT_FOUND, MSG_UNKNOWN_PATIENT, what=PATTERN_TERMS[key], lid=value)
    other_id_agrees(patient=patient, key=key, lid=lid, tid=tid, scope=scope)
    return patient


def matching_patients(*, data: PatientData, centers: Collection[Center] | None = None) -> list[Patient]:
    """The patients (not merged away, and known in those centers when some are given) that what was sent
    identifies: those with the same ID number when any has it, else those with the same full name, date
    of birth and mobile phone or email. At most two are returned: two already means the data is ambiguous."""
    candidates = Patient.objects.filter(merged_into__isnull=True)
    if centers is not None:
        candidates = candidates & patients_known_in(centers)
    id_key = normalise_id_number(data.id_number)
    if id_key:
        # An ID number is decisive: when any patient has it, the name is not searched.
        by_id = list(candidates.filter(id_key=id_key).order_by("pk")[:2])
        if by_id:
            return by_id

    mobile = normalise_phone(data.mobile_phone)
    email = data.email.strip().lower()
    if not data.name_key or data.date_of_birth is None or not (mobile or email):
        return []
    same_name_and_birth = candidates.filter(name_key=data.name_key, date_of_birth=data.date_of_birth).order_by("pk")
    matches = []
    for patient in same_name_and_birth:
        same_mobile = bool(mobile) and normalise_phone(patient.mobile_phone) == mobile
        same_email = bool(email) and patient.email.strip().lower() == email
        # Two different ID numbers are two different people, whatever else they share.
        other_id = id_key and patient.id_number and patient.id_key != id_key
        if (same_mobile or same_email) and not other_id:
            matches.append(patient)
            if len(matches) == 2:
                break
    return matches


# The channels a patient may choose to be reached on, with the contact each needs.
CHANNEL_CONTACTS = {
    "sms": ("contact_by_sms", "mobile_phone"),
    "email": ("contact_by_email", "email"),
    "landline": ("contact_by_landline", "landline_phone"),
}
MSG_UNKNOWN_CHANNEL = "Unknown channel {channel!r}: use one of {channels}."
CAMPAIGN_CHUNK = 2000


def patients_for_campaign(*, channel: str | None, centers: Collection[Center] | None) -> Iterator[Patient]:
    """The patients a communication campaign may address (guide A.6): those who accepted the privacy
    terms and chose the channel, with the contact it needs on record; without a channel, those
    reachable on at least one. Records merged away are left out: the record that replaced them stands
    for them. For some centers, only the patients of those centers (with an appointment or a result
    there, their own or a merged record's). Ordered by hospital id and read in chunks."""
    if channel is not None and channel not in CHANNEL_CONTACTS:
        raise DomainError(INVALID_INPUT, MSG_UNKNOWN_CHANNEL, channel=channel, channels=", ".join(CHANNEL_CONTACTS))
    reachable = Q()
    for name in [channel] if channel else list(CHANNEL_CONTACTS):
        flag, contact = CHANNEL_CONTACTS[name]
        reachable |= Q(**{flag: True}) & ~Q(**{contact: ""})
    queryset = Patient.objects.filter(reachable, privacy_accepted=True, merged_into__isnull=True)
    if centers is not None:
        queryset = queryset & patients_known_in(centers)
    return queryset.order_by("lid", "pk").iterator(chunk_size=CAMPAIGN_CHUNK)


# ---------------------------------------------------------------- the desk's patient search

SEARCH_LIMIT = 20
MIN_PHONE_DIGITS = 6
PHONE_TYPED = re.compile(r"[\d\s\-.()/+]+")


def _digits_of(field: str):
    """The phone field without the separators people type (spaces, dashes, dots, brackets)."""
    value = F(field)
    for separator in (" ", "-", ".", "(", ")", "/"):
        value = Replace(value, Value(separator), Value(""))
    return value


def search_patients(*, text: str, scope: Scope, limit: int = SEARCH_LIMIT) -> list[Patient]:
    """The patients (not merged away, and known to the caller) a clerk may mean by what was typed: a
    hospital id, an ID number, a phone number (mobile or landline, the end of it is enough: at least 6
    digits), or words of the name (every word must appear in the full name, accents and letter case
    ignored). Ordered by name."""
    text = (text or "").strip()
    if not text:
        return []
    wanted = Q(lid__iexact=text)
    id_key = normalise_id_number(text)
    if id_key:
        wanted |= Q(id_key=id_key)
    queryset = Patient.objects.filter(merged_into__isnull=True)
    if not scope.every_center:
        queryset = queryset & patients_known_in(scope.centers)
    phone = normalise_phone(text)
    if PHONE_TYPED.fullmatch(text) and len(phone) >= MIN_PHONE_DIGITS:
        queryset = queryset.annotate(
            mobile_digits=_digits_of("mobile_phone"), landline_digits=_digits_of("landline_phone")
        )
        wanted |= Q(mobile_digits__endswith=phone) | Q(landline_digits__endswith=phone)
    words = normalise_name(text).split()
    if words:
        by_name = Q()
        for word in words:
            by_name &= Q(name_key__contains=word)
        wanted |= by_name
    return list(queryset.filter(wanted).order_by("name_key", "lid")[:limit])
