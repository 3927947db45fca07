"""The three exports: appointments (guide A.1.1), the catalogue (B.2.1.3) and the campaign list (A.6).

Each reads the domain through exchange.domain, writes its rows one at a time into a temporary file
on local disk, then sends that file whole to the folder (transports.Folder.write: a temporary name,
then a rename). The database is read to the end before the upload starts, so a slow connection
never holds a database cursor open.
"""

import contextlib
import datetime as dt
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils import timezone

from exchange import domain
from exchange.formats import CsvFile, TxtFile, XlsxFile, fmt_date, fmt_price, fmt_time
from exchange.transports import Location, open_folder

APPOINTMENT_FIELDS = (
    "APP_LID", "APP_DATE", "APP_START_TIME", "USER_LANDLINE_PHONE", "USER_MOBILE_PHONE", "USER_EMAIL",
    "RESOURCE_LID", "RESOURCE_NAME", "RESOURCE_MOBILE_PHONE", "RESOURCE_EMAIL", "LOCATION_LID", "LOCATION_NAME",
    "STATUS",
)  # fmt: skip
CATALOG_FIELDS = (
    "INSURANCE_LID", "INSURANCE_NAME", "ACTIVITY_GROUP_LID", "ACTIVITY_GROUP_NAME", "ACTIVITY_LID", "ACTIVITY_NAME",
    "ACTIVITY_PRICE", "ACTIVITY_DURATION", "LOCATION_LID", "LOCATION_NAME", "RESOURCE_LID", "RESOURCE_FIRST_NAME",
    "RESOURCE_SECOND_NAME",
)  # fmt: skip
CAMPAIGN_FIELDS = (
    "USER_LID", "USER_LANDLINE_PHONE", "USER_MOBILE_PHONE", "USER_EMAIL", "PRIVACY", "COMMUNICATION_PREFERENCES",
    "USER_LANGUAGE",
)  # fmt: skip

# The guide's four STATUS values (A.1.2.1, A.2.1).
STATUS_NAMES = {
    domain.AppointmentStatus.PENDING: "PENDING",
    domain.AppointmentStatus.APPROVED: "APPROVED",
    domain.AppointmentStatus.CANCELLED_BY_USER: "CANCELLED by USER",
    domain.AppointmentStatus.CANCELLED_BY_ADMIN: "CANCELLED by ADMIN",
}
# The guide's TEL is the landline ("Tel Fix"); the domain names the channels for the contact used.
CHANNELS = {"sms": "sms", "email": "email", "tel": "landline"}
SPOOL = 8 * 1024 * 1024  # files up to this size stay in memory; larger ones go to a temporary file


@dataclass(frozen=True)
class Written:
    name: str
    rows: int


# ---------------------------------------------------------------- appointments (A.1.1)


def appointment_row(appointment: domain.Appointment) -> list[str | None]:
    """One appointment as the guide's A.1.1 row: contact by phone or e-mail only, no names or ids of
    the patient; dates and times on its center's wall clock."""
    resource = appointment.resource
    center = resource.location.center
    location = appointment.location or resource.location
    patient = domain.current_patient(appointment)
    start = timezone.localtime(appointment.start, center.zone)
    return [
        appointment.lid,
        fmt_date(start.date()),
        fmt_time(start),
        patient.landline_phone or None,
        patient.mobile_phone or None,
        patient.email or None,
        resource.lid,
        " ".join(part for part in (resource.first_name, resource.second_name) if part),
        resource.mobile_phone or None,
        resource.email or None,
        location.lid,
        location.name,
        STATUS_NAMES[appointment.status],
    ]


def export_appointments(
    *, location: Location, hours_back: int, hours_ahead: int, center: str | None, now: dt.datetime | None = None
) -> Written:
    """Every appointment from `hours_back` hours ago to `hours_ahead` hours ahead, cancelled ones with
    their status, as appointments_YYYYMMDD_HHMM.csv (the hospital's clock)."""
    now = now or timezone.now()
    centers = domain.center_named(center)
    rows = (
        appointment_row(a)
        for a in domain.appointments_in_window(
            start=now - dt.timedelta(hours=hours_back), end=now + dt.timedelta(hours=hours_ahead), centers=centers
        )
    )
    name = f"appointments_{timezone.localtime(now):%Y%m%d_%H%M}.csv"
    return _send(location, [(name, CsvFile)], APPOINTMENT_FIELDS, rows)[0]


# ---------------------------------------------------------------- catalogue (B.2.1.3)


def catalog_row(entity: domain.KeyEntity) -> list[str | None]:
    resource, activity, insurance = entity.resource, entity.activity, entity.insurance
    group, location = activity.group, resource.location
    return [
        insurance.lid if insurance else None,
        insurance.name if insurance else None,
        group.lid if group else None,
        group.name if group else None,
        activity.lid,
        activity.name,
        fmt_price(entity.price),
        str(entity.duration),
        location.lid,
        location.name,
        resource.lid,
        resource.first_name,
        resource.second_name,
    ]


def export_catalog(*, location: Location, center: str | None, now: dt.datetime | None = None) -> Written:
    """The KeyEntities rows (one per resource, activity and insurance, with the guide's price rule) as
    catalog_YYYYMMDD.txt."""
    now = now or timezone.now()
    rows = (catalog_row(e) for e in domain.catalogue(centers=domain.center_named(center)))
    name = f"catalog_{timezone.localtime(now):%Y%m%d}.txt"
    return _send(location, [(name, TxtFile)], CATALOG_FIELDS, rows)[0]


# ---------------------------------------------------------------- campaign list (A.6)


def campaign_row(patient: domain.Patient, channel: str | None) -> list[str | None]:
    """A patient's row: only the contacts the patient chose to be reached on (with a channel named,
    only that channel's), the privacy acceptance and preferences; never a name or an id number."""
    wanted = {channel} if channel else set(CHANNELS)

    def contact(name: str, chosen: bool, value: str) -> str | None:
        return value if value and chosen and name in wanted else None

    return [
        patient.lid,
        contact("tel", patient.contact_by_landline, patient.landline_phone),
        contact("sms", patient.contact_by_sms, patient.mobile_phone),
        contact("email", patient.contact_by_email, patient.email),
        "1" if patient.privacy_accepted else "0",
        patient.communication_preferences,
        patient.language or None,
    ]


def export_campaign(
    *, location: Location, center: str | None, channel: str | None, now: dt.datetime | None = None
) -> list[Written]:
    """The patients who accepted the privacy terms and chose the channel (any, without one), as
    campaign_YYYYMMDD.csv and campaign_YYYYMMDD.xlsx with the same rows."""
    now = now or timezone.now()
    patients = domain.campaign_patients(
        channel=CHANNELS[channel] if channel else None, centers=domain.center_named(center)
    )
    rows = (campaign_row(p, channel) for p in patients)
    stem = f"campaign_{timezone.localtime(now):%Y%m%d}"
    return _send(location, [(f"{stem}.csv", CsvFile), (f"{stem}.xlsx", XlsxFile)], CAMPAIGN_FIELDS, rows)


# ---------------------------------------------------------------- writing and sending


def _send(
    location: Location, files: Sequence[tuple[str, type]], header: Sequence[str], rows: Iterable
) -> list[Written]:
    """Writes the rows into each file (one pass over the rows), then sends the files whole."""
    with contextlib.ExitStack() as stack:
        spools = [stack.enter_context(tempfile.SpooledTemporaryFile(max_size=SPOOL)) for _ in files]
        writers = [
            kind(spool, header, "tuOtempO") if kind is XlsxFile else kind(spool, header)
            for (_, kind), spool in zip(files, spools, strict=True)
        ]
        count = 0
        for row in rows:
            for writer in writers:
                writer.add(row)
            count += 1
        for writer in writers:
            writer.close()
        with open_folder(location) as folder:
            for (name, _), spool in zip(files, spools, strict=True):
                spool.seek(0)
                folder.write(name, spool)
    return [Written(name, count) for name, _ in files]
