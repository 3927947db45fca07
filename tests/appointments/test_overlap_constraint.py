"""The database itself refuses two active appointments of one resource at the same time."""

import datetime as dt
import threading

import pytest
from django.db import IntegrityError, connection, transaction
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


@pytest.mark.django_db(transaction=True)
def test_two_racing_transactions_yield_exactly_one_appointment():
    """Each thread checks that the slot is free, waits for the other, then inserts."""
    resource = ResourceFactory()
    patients = [PatientFactory(), PatientFactory()]
    barrier = threading.Barrier(2, timeout=10)
    outcomes = []

    def book(patient):
        try:
            try:
                with transaction.atomic():
                    free = not Appointment.objects.filter(
                        resource=resource, start__lt=START + dt.timedelta(minutes=30), end__gt=START
                    ).exists()
                    if connection.vendor == "postgresql":
                        barrier.wait()  # on SQLite the IMMEDIATE lock already serialises the two
                    if free:
                        _book(resource, START, patient=patient)
                        outcomes.append("booked")
                    else:
                        outcomes.append("saw it taken")
            except IntegrityError:
                outcomes.append("refused by the database")
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(p,)) for p in patients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert outcomes.count("booked") == 1
    assert Appointment.objects.filter(resource=resource).count() == 1
