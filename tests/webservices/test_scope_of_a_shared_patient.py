"""A patient known in two centers, seen by a client of one of them (contract section 4): the patient is
in its scope, the appointment of the other center is not. Reaching that appointment through the patient
must answer as an unknown id, and change nothing."""

import datetime as dt

import pytest

from appointments.models import Appointment, AppointmentStatus
from demo.factories import AppointmentFactory
from tests.webservices.test_trust_boundary import two_centers  # noqa: F401 (fixture)

pytestmark = pytest.mark.live


@pytest.fixture
def shared_patient(two_centers):  # noqa: F811
    """P-MAD also holds an appointment in Las Palmas."""
    lpa = two_centers["LPA"]
    start = Appointment.objects.get(lid="A-LPA").start
    AppointmentFactory(lid="A-LPA-SHARED", resource=lpa["doctor"], patient=two_centers["MAD"]["patient"],
                       start=start + dt.timedelta(hours=2))  # fmt: skip
    return two_centers


@pytest.fixture
def madrid(make_client):
    return make_client(name="madrid-only", centers=["MAD"])


@pytest.mark.parametrize(
    ("method", "params", "failure"),
    [
        ("checkAppointment", {"APP_LID": "A-LPA-SHARED"}, None),
        ("deleteAppointment", {"APP_LID": "A-LPA-SHARED"}, "DELETE_RESULT"),
        ("CancelAppointment", {"APP_LID": "A-LPA-SHARED", "USER_LID": "P-MAD"}, "RESULT"),
    ],
    ids=["checkAppointment", "deleteAppointment", "CancelAppointment"],
)
def test_the_other_centers_appointment_of_a_shared_patient_does_not_exist_for_the_client(
    surface, shared_patient, madrid, method, params, failure
):
    answer = surface.call(method, params, authorization=madrid.basic())
    assert not answer.ok, answer
    if failure is None:
        assert answer.code == "NOT_FOUND"
    else:
        assert answer.payload[failure] == "ERROR"
    if surface.name == "rest":
        assert (answer.status, answer.code) == (404, "NOT_FOUND")
    assert Appointment.objects.get(lid="A-LPA-SHARED").status == AppointmentStatus.APPROVED


def test_the_shared_patients_list_holds_only_the_clients_centers(surface, shared_patient, madrid):
    listed = surface.call("getAppointments", {"USER_LID": "P-MAD"}, authorization=madrid.basic())
    assert sorted(a["APP_LID"] for a in listed.payload) == ["A-MAD", "A-MAD-2"]
