"""The database itself refuses two active appointments of one resource at the same time."""

import datetime as dt
import threading

import pytest
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from appointments.models import Appointment, AppointmentStatus
from demo.factories import AppointmentFactory, PatientFactory, ResourceFactory

START = timezone.now().replace(microsecond=0) + dt.timedelta(days=2)


def _book(resource, start, minutes=30, **kwargs):
    return AppointmentFactory(resource=resource, start=start, end=start + dt.timedelta(minutes=minutes), **kwargs)


@pytest.mark.django_db
def test_it_refuses_an_overlapping_active_appointment():
    resource = ResourceFactory()
    _book(resource, START)
    with pytest.raises(IntegrityError, match="appointment_overlap"), transaction.atomic():
        _book(resource, START + dt.timedelta(minutes=15))
    assert Appointment.objects.filter(resource=resource).count() == 1


@pytest.mark.django_db
def test_it_allows_back_to_back_and_other_resources_and_cancelled_rows():
    resource = ResourceFactory()
    first = _book(resource, START)
    _book(resource, START + dt.timedelta(minutes=30))  # touching, not overlapping
    _book(ResourceFactory(), START)  # another doctor
    first.status = AppointmentStatus.CANCELLED_BY_USER
    first.save()
    _book(resource, START)  # the cancelled slot is free again
    assert Appointment.objects.filter(resource=resource).count() == 3


@pytest.mark.django_db
def test_it_refuses_moving_an_appointment_onto_another():
    resource = ResourceFactory()
    _book(resource, START)
    second = _book(resource, START + dt.timedelta(hours=1))
    second.start, second.end = START + dt.timedelta(minutes=10), START + dt.timedelta(minutes=40)
    with pytest.raises(IntegrityError, match="appointment_overlap"), transaction.atomic():
        second.save()


@pytest.mark.django_db
def test_it_refuses_reactivating_a_cancelled_appointment_over_a_new_one():
    resource = ResourceFactory()
    old = _book(resource, START, status=AppointmentStatus.CANCELLED_BY_ADMIN)
    _book(resource, START)
    old.status = AppointmentStatus.APPROVED
    with pytest.raises(IntegrityError, match="appointment_overlap"), transaction.atomic():
        old.save()


@pytest.mark.django_db
def test_it_refuses_an_end_before_the_start():
    with pytest.raises(IntegrityError), transaction.atomic():
        _book(ResourceFactory(), START, minutes=-5)


def _deadlock(exc: Exception) -> bool:
    """PostgreSQL's "deadlock detected" (SQLSTATE 40P01): two inserts checked by one exclusion
    constraint may wait on each other, and PostgreSQL aborts one of them."""
    return getattr(getattr(exc, "__cause__", None), "sqlstate", None) == "40P01"


@pytest.mark.django_db(transaction=True)
def test_two_racing_transactions_yield_exactly_one_appointment():
    """Both threads start together and check that the slot is free; on PostgreSQL each then waits for
    the other before inserting (on SQLite the IMMEDIATE transaction already holds the write lock, so
    the second one waits for the first to commit). Each thread reports what happened to it."""
    resource = ResourceFactory()
    patients = [PatientFactory(), PatientFactory()]
    start_together = threading.Barrier(2, timeout=10)
    checked_both = threading.Barrier(2, timeout=10)
    outcomes: dict[int, str] = {}

    def book(n, patient):
        try:
            start_together.wait()
            with transaction.atomic():
                free = not Appointment.objects.filter(
                    resource=resource, start__lt=START + dt.timedelta(minutes=30), end__gt=START
                ).exists()
                if connection.vendor == "postgresql":
                    checked_both.wait()
                if free:
                    _book(resource, START, patient=patient)
                    outcomes[n] = "booked"
                else:
                    outcomes[n] = "saw it taken"
        except IntegrityError as exc:
            outcomes[n] = "refused by the database" if "appointment_overlap" in str(exc) else f"other: {exc!r}"
        except OperationalError as exc:
            outcomes[n] = "deadlock, rolled back" if _deadlock(exc) else f"other: {exc!r}"
        except Exception as exc:  # reported by the assertions below, never lost with the thread
            outcomes[n] = f"other: {exc!r}"
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(n, p)) for n, p in enumerate(patients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == [0, 1], outcomes  # both reported
    losers = {"saw it taken", "refused by the database"}
    if connection.vendor == "postgresql":
        losers.add("deadlock, rolled back")  # a legitimate loser: its transaction was aborted whole
    assert sorted(outcomes.values()).count("booked") == 1, outcomes
    assert {o for o in outcomes.values() if o != "booked"} <= losers, outcomes
    assert Appointment.objects.filter(resource=resource).count() == 1
