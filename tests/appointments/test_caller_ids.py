"""keep_caller_ids: a caller's own ids of a booking are kept, never blanked by an empty value."""

import pytest

from appointments.services import keep_caller_ids
from demo.factories import AppointmentFactory

pytestmark = pytest.mark.django_db


def test_the_callers_ids_are_kept_and_an_empty_value_changes_nothing():
    appointment = AppointmentFactory()
    keep_caller_ids(appointment=appointment, tid="T-9", owner_name="Web portal")
    appointment.refresh_from_db()
    assert (appointment.tid, appointment.owner_name, appointment.owner_lid) == ("T-9", "Web portal", "")

    modified = appointment.modified
    keep_caller_ids(appointment=appointment, tid="", owner_name="")
    appointment.refresh_from_db()
    assert (appointment.tid, appointment.owner_name, appointment.modified) == ("T-9", "Web portal", modified)
