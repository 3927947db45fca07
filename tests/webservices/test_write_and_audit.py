"""A write and its audit entry commit together (one transaction, one flush to disk): never a booking
without its entry, never an entry of a booking that was undone. An entry that cannot be written is
undone alone, as for any call: the booking stands. Reads write only their entry, outside any
transaction. Through both surfaces against a live server."""

import datetime as dt

import pytest
from django.db import OperationalError, transaction
from django.utils import timezone

from appointments import services
from appointments.models import Appointment
from clients.models import AuditEntry
from clients.signals import call_recorded
from demo.factories import ActivityFactory, AvailabilityRuleFactory, ResourceActivityFactory, ResourceFactory

pytestmark = pytest.mark.live

PATIENT = {"USER_FIRST_NAME": "Lucía", "USER_SECOND_NAME": "Martín", "USER_MOBILE_PHONE": "600111222"}


@pytest.fixture
def slot(db):
    """One free slot of a doctor who sees patients every day 09:00-10:00, as searchAvailabilities gives it."""
    doctor = ResourceFactory(lid="D1")
    ResourceActivityFactory(resource=doctor, activity=ActivityFactory(lid="V1", duration=30))
    for weekday in range(7):
        AvailabilityRuleFactory(resource=doctor, weekday=weekday, start_time=dt.time(9), end_time=dt.time(10))
    return timezone.localdate() + dt.timedelta(days=7)


def first_slot(surface, creds, day) -> str:
    day_text = day.strftime("%d/%m/%Y")
    found = surface.call(
        "searchAvailabilities",
        {"ACTIVITY_LID": "V1", "AVA_START_DAY": day_text, "AVA_END_DAY": day_text},
        authorization=creds.basic(),
    )
    assert found.ok and found.payload
    return found.payload[0]["AVAILABILITY_LID"]


@pytest.fixture
def recorded():
    """(method, inside a transaction, appointments visible) as each audit entry is written."""
    seen = []

    def note(sender, entry, stored, **kwargs):
        seen.append((entry.method, transaction.get_connection().in_atomic_block, Appointment.objects.count()))

    call_recorded.connect(note)
    yield seen
    call_recorded.disconnect(note)


def test_a_booking_and_its_audit_entry_are_one_transaction(surface, creds, slot, recorded):
    lid = first_slot(surface, creds, slot)
    booked = surface.call("addAppointment", {"AVAILABILITY_LID": lid, **PATIENT}, authorization=creds.basic())
    assert booked.ok and booked.payload["ADD_RESULT"] == "OK"
    # The search's entry outside any transaction; the booking's inside the booking's, which holds it.
    assert recorded == [("searchAvailabilities", False, 0), ("addAppointment", True, 1)]
    entry = AuditEntry.objects.get(method="addAppointment")
    assert (entry.outcome, entry.ids["APP_LID"]) == ("OK", booked.payload["APP_LID"])


def test_a_refused_booking_commits_its_entry_and_nothing_else(surface, creds, slot, recorded):
    lid = first_slot(surface, creds, slot)
    assert surface.call("addAppointment", {"AVAILABILITY_LID": lid, **PATIENT}, authorization=creds.basic()).ok
    other = {**PATIENT, "USER_FIRST_NAME": "Pedro", "USER_MOBILE_PHONE": "600999888"}
    taken = surface.call("addAppointment", {"AVAILABILITY_LID": lid, **other}, authorization=creds.basic())
    assert taken.payload["ADD_RESULT"] == "ERROR"
    assert Appointment.objects.count() == 1
    outcomes = AuditEntry.objects.filter(method="addAppointment").order_by("id").values_list("outcome", flat=True)
    assert list(outcomes) == ["OK", "CONFLICT"]


def test_an_entry_that_cannot_be_written_leaves_the_booking_standing(surface, creds, slot, monkeypatch):
    lid = first_slot(surface, creds, slot)
    save_table = AuditEntry._save_table

    def failing(self, *args, **kwargs):  # the insert itself fails, as the database would make it
        if self.method == "addAppointment":
            raise OperationalError("could not extend file: No space left on device")
        return save_table(self, *args, **kwargs)

    monkeypatch.setattr(AuditEntry, "_save_table", failing)
    booked = surface.call("addAppointment", {"AVAILABILITY_LID": lid, **PATIENT}, authorization=creds.basic())
    assert booked.ok and booked.payload["ADD_RESULT"] == "OK"
    assert Appointment.objects.get().lid == booked.payload["APP_LID"]
    assert not AuditEntry.objects.filter(method="addAppointment").exists()
    # The connection is sound afterwards: the next call is answered and recorded.
    assert surface.call("GetCenters", {}, authorization=creds.basic()).ok
    assert AuditEntry.objects.filter(method="GetCenters").exists()


def test_a_failure_inside_a_booking_undoes_it_and_is_still_recorded(surface, creds, slot, monkeypatch):
    """The database failing after the appointment was inserted: the whole write is undone, the caller is
    told to try again, and the entry (written after the rollback) says so."""
    lid = first_slot(surface, creds, slot)

    def failing(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "Booking", failing)  # after the insert, inside the booking's transaction
    booked = surface.call("addAppointment", {"AVAILABILITY_LID": lid, **PATIENT}, authorization=creds.basic())
    assert not booked.ok
    assert not Appointment.objects.exists()
    assert AuditEntry.objects.get(method="addAppointment").outcome == "SERVICE_UNAVAILABLE"
