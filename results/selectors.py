"""Reads of the medical results domain: which results a patient has, and their stored content.

Scope rule: a result with no center belongs to the hospital as a whole, so only a caller scoped to
every center (`centers=None`) sees it; a caller limited to some centers sees only their results.
"""

import datetime as dt
import zoneinfo
from collections.abc import Collection
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from centers.models import Center
from core.errors import NOT_FOUND, SERVICE_UNAVAILABLE, DomainError, Term
from patients.models import Patient
from patients.selectors import patient_family
from results.models import MedicalResult, ResultStatus

DEFAULT_WINDOW_DAYS = 7

MSG_RESULT_NOT_FOUND = "No result with {T.RESULT} {lid}."
MSG_WITHDRAWN = "Result {lid} has been withdrawn by the hospital; its content is no longer available."
MSG_CONTENT_UNAVAILABLE = "The file of result {lid} cannot be read from storage right now; try again later."


# What a patient's results can be delivered with: the guide (C.1, C.2.1) has them NOT NULL, as the
# credential the patient gives (with the result's code) to receive it.
DELIVERY_CREDENTIALS = {"mobile_phone": Term.MOBILE_PHONE, "id_number": Term.ID_NUMBER}


def missing_delivery_credentials(patient: Patient) -> list[Term]:
    """What the patient lacks for a result of theirs to be delivered (empty: nothing)."""
    return [term for field, term in DELIVERY_CREDENTIALS.items() if not getattr(patient, field)]


def hospital_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def scoped_results(*, centers: Collection[Center] | None) -> QuerySet[MedicalResult]:
    results = MedicalResult.objects.select_related("patient", "center")
    if centers is None:
        return results
    return results.filter(center__in=[c.pk for c in centers])


def results_for_patient(
    *, patient: Patient, since: dt.date | None = None, centers: Collection[Center] | None = None
) -> list[MedicalResult]:
    """The patient's results created on or after `since` (default: 7 days ago, hospital time zone),
    newest first, withdrawn ones included so tuOtempO can show them as cancelled. Results still held
    by records merged into this patient are included. `centers=None` spans every center and also
    shows results with no center; a list of centers shows only results of those centers."""
    zone = hospital_zone()
    if since is None:
        since = timezone.localdate(timezone=zone) - dt.timedelta(days=DEFAULT_WINDOW_DAYS)
    start = dt.datetime.combine(since, dt.time.min, tzinfo=zone)
    results = scoped_results(centers=centers).filter(patient__in=patient_family(patient), created__gte=start)
    return list(results.order_by("-created", "-pk"))


def result_for_download(*, lid: str, centers: Collection[Center] | None = None) -> MedicalResult:
    """The result with that id, withdrawn or not. A result outside `centers` gets the same
    NOT_FOUND answer as an unknown one."""
    result = scoped_results(centers=centers).filter(lid=lid).first()
    if result is None:
        raise DomainError(NOT_FOUND, MSG_RESULT_NOT_FOUND, lid=lid)
    return result


def open_result_content(*, result: MedicalResult) -> IO[bytes]:
    """The stored file of the result, opened for reading in binary so it can be streamed.
    The caller closes it."""
    if not result.file.name:
        raise DomainError(SERVICE_UNAVAILABLE, MSG_CONTENT_UNAVAILABLE, lid=result.lid)
    try:
        return result.file.storage.open(result.file.name, "rb")
    except Exception:  # any storage backend (disk, S3...) failing to read is the same answer
        raise DomainError(SERVICE_UNAVAILABLE, MSG_CONTENT_UNAVAILABLE, lid=result.lid) from None


@dataclass(frozen=True)
class Delivery:
    """A result asked for by a patient: its content, opened for streaming (the caller closes it), or,
    for a withdrawn result, no content and why."""

    result: MedicalResult
    content: IO[bytes] | None
    withheld: str | None = None

    @property
    def is_valid(self) -> bool:
        return self.content is not None


def result_delivery(*, lid: str, centers: Collection[Center] | None = None) -> Delivery:
    """What the patient gets for the result with that id: its content, or, once withdrawn, a message."""
    result = result_for_download(lid=lid, centers=centers)
    if result.status != ResultStatus.VALID:
        return Delivery(result, None, MSG_WITHDRAWN.format(lid=result.lid))
    return Delivery(result, open_result_content(result=result))
