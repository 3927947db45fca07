"""Which patient an addAppointment books for: known ids, merges, matching a new patient, registering one."""

import datetime as dt
import threading

import pytest
from django.db import connection, transaction

from clients.scope import HOSPITAL, Scope
from core.errors import CONFLICT, INVALID_INPUT, DomainError, Term
from demo.factories import PatientFactory
from patients import services as patients_module
from patients.models import Patient, PatientData, PatientLink
from patients.selectors import (
    MSG_IDS_DISAGREE,
    MSG_MERGE_CYCLE,
    follow_merges,
    patient_by_lid,
    patient_by_tid,
)
from patients.services import MSG_BAD_GENDER, MSG_NAME_REQUIRED, MSG_TID_REQUIRED, resolve_patient
from tests.messages import said, wire

BIRTH = dt.date(1980, 5, 17)

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(db):
    """A tuOtempO instance naming patients by its own ids (the tid pattern), of every center."""
    from clients.services import create_integration_client

    client, _secret = create_integration_client(name="tuotempo-app", pattern="tid")
    return Scope(centers=None, pattern="tid", client=client)


def _link(patient, tid, scope):
    PatientLink.objects.create(client=scope.client, tid=tid, patient=patient)
    return patient


def _tid_of(patient, scope):
    return PatientLink.objects.filter(client=scope.client, patient=patient).values_list("tid", flat=True).first()


def _jose(**kwargs):
    """The hospital's record of José García, as the desk typed it."""
    values = dict(
        lid="P-100",  # never the P<pk> a new patient is given, whatever the database sequence has reached
        first_name="José",
        second_name="García",
        third_name="",
        date_of_birth=BIRTH,
        mobile_phone="+34 600 11 22 33",
        email="Jose.Garcia@correo.example",
        id_number="12345678Z",
        gender="M",
    )
    values.update(kwargs)
    return PatientFactory(**values)


def _sent(**kwargs):
    """José García as tuOtempO sends him: other case, no accents, another phone format."""
    values = dict(
        first_name="JOSE",
        second_name="GARCIA",
        date_of_birth=BIRTH,
        mobile_phone="600112233",
        email="",
        id_number="",
    )
    values.update(kwargs)
    return PatientData(**values)


# --- pattern lid: known USER_LID ------------------------------------------------------------------


def test_a_known_lid_is_that_patient():
    jose = _jose()
    other = PatientFactory(lid="P7", first_name="Ana")

    patient = resolve_patient(data=PatientData(lid="P7"), scope=HOSPITAL)

    assert patient.pk == other.pk
    assert patient.pk != jose.pk
    assert Patient.objects.count() == 2


def test_a_known_lid_is_followed_through_a_chain_of_merges():
    survivor = PatientFactory(lid="P3")
    middle = PatientFactory(lid="P2", merged_into=survivor)
    PatientFactory(lid="P1", merged_into=middle)

    patient = resolve_patient(data=PatientData(lid="P1"), scope=HOSPITAL)

    assert patient.pk == survivor.pk
    assert patient.lid == "P3"
    assert patient_by_lid("P2").pk == survivor.pk
    assert Patient.objects.count() == 3


def test_a_cycle_of_merges_is_a_conflict_not_an_endless_loop():
    first = PatientFactory(lid="P1")
    second = PatientFactory(lid="P2", merged_into=first)
    Patient.objects.filter(pk=first.pk).update(merged_into=second)

    with pytest.raises(DomainError) as error:
        follow_merges(Patient.objects.get(pk=first.pk))

    assert error.value.code == CONFLICT
    assert error.value.message == said(MSG_MERGE_CYCLE, lid="P1")


# --- pattern lid: matching a new (or unknown) patient ---------------------------------------------


def test_an_unknown_lid_is_matched_by_id_number_whatever_its_formatting():
    jose = _jose()

    patient = resolve_patient(data=PatientData(lid="P999", first_name="Pepe", id_number="12345678-z"), scope=HOSPITAL)

    assert patient.pk == jose.pk
    assert patient.lid == "P-100"  # the hospital's id, not the unknown one sent
    assert Patient.objects.count() == 1
    assert not Patient.objects.filter(lid="P999").exists()


def test_it_matches_by_name_birth_and_mobile_despite_accents_case_and_phone_format():
    jose = _jose()
    PatientFactory(first_name="José", second_name="García", date_of_birth=dt.date(1990, 1, 1))

    patient = resolve_patient(data=_sent(), scope=HOSPITAL)

    assert patient.pk == jose.pk
    assert Patient.objects.count() == 2


def test_it_matches_by_name_birth_and_email_ignoring_case():
    jose = _jose(mobile_phone="")

    patient = resolve_patient(data=_sent(mobile_phone="611000000", email="JOSE.garcia@CORREO.example"), scope=HOSPITAL)

    assert patient.pk == jose.pk
    assert Patient.objects.count() == 1


def test_same_name_and_birth_but_other_phone_and_email_is_a_new_patient():
    jose = _jose()

    patient = resolve_patient(data=_sent(mobile_phone="611000000", email="otro@correo.example"), scope=HOSPITAL)

    assert patient.pk != jose.pk
    assert Patient.objects.count() == 2
    assert patient.lid == f"P{patient.pk}"
    assert (patient.first_name, patient.second_name, patient.mobile_phone) == ("JOSE", "GARCIA", "611000000")
    assert patient.email == "otro@correo.example"


def test_a_different_id_number_is_a_different_person_even_with_same_name_birth_and_phone():
    jose = _jose()

    patient = resolve_patient(data=_sent(id_number="87654321X"), scope=HOSPITAL)

    assert patient.pk != jose.pk
    assert Patient.objects.count() == 2
    assert patient.id_number == "87654321X"


def test_two_candidates_are_ambiguous_and_a_new_patient_is_registered():
    first = _jose(lid="P-100", id_number="")
    second = _jose(lid="P101", id_number="", email="")

    patient = resolve_patient(data=_sent(), scope=HOSPITAL)

    assert patient.pk not in (first.pk, second.pk)
    assert Patient.objects.count() == 3
    assert patient.lid == f"P{patient.pk}"


def test_two_patients_with_the_same_id_number_are_ambiguous():
    first = _jose(lid="P-100")
    second = _jose(lid="P101", id_number="12.345.678 Z")

    patient = resolve_patient(data=_sent(id_number="12345678Z"), scope=HOSPITAL)

    assert patient.pk not in (first.pk, second.pk)
    assert Patient.objects.count() == 3


def test_patients_merged_away_are_not_candidates():
    survivor = PatientFactory(lid="P1", first_name="Otro", id_number="", mobile_phone="", email="")
    _jose(merged_into=survivor)

    by_id = resolve_patient(data=_sent(id_number="12345678Z"), scope=HOSPITAL)
    by_name = resolve_patient(data=_sent(first_name="Jose", mobile_phone="600112233"), scope=HOSPITAL)

    assert by_id.pk not in (survivor.pk, Patient.objects.get(lid="P-100").pk)
    # The patient registered a moment ago is now the single live candidate.
    assert by_name.pk == by_id.pk
    assert Patient.objects.count() == 3


def test_a_deleted_lid_is_searched_as_a_new_patient_and_registered_when_not_found():
    patient = resolve_patient(
        data=PatientData(lid="P555", first_name="Lucía", second_name="Pérez", mobile_phone="600000001"),
        scope=HOSPITAL,
    )

    assert Patient.objects.count() == 1
    assert patient.lid == f"P{patient.pk}"
    assert patient.lid != "P555"
    assert not PatientLink.objects.exists()
    assert (patient.first_name, patient.second_name, patient.name_key) == ("Lucía", "Pérez", "lucia perez")


def test_no_lid_at_all_registers_a_new_patient_with_everything_sent():
    patient = resolve_patient(
        data=PatientData(
            first_name="Marta",
            second_name="Ruiz",
            third_name="Sanz",
            gender="F",
            date_of_birth=BIRTH,
            mobile_phone="600000002",
            landline_phone="910000000",
            email="marta@correo.example",
            id_number="11111111H",
        ),
        scope=HOSPITAL,
    )

    stored = Patient.objects.get()
    assert stored.pk == patient.pk
    assert stored.lid == f"P{stored.pk}"
    assert (stored.gender, stored.date_of_birth, stored.landline_phone) == ("F", BIRTH, "910000000")
    assert (stored.email, stored.id_number, stored.third_name) == ("marta@correo.example", "11111111H", "Sanz")


def test_a_new_patient_without_a_name_is_an_input_error():
    _jose()

    with pytest.raises(DomainError) as error:
        resolve_patient(data=PatientData(lid="P999", mobile_phone="600000003"), scope=HOSPITAL)

    assert error.value.code == INVALID_INPUT
    assert error.value.message == said(MSG_NAME_REQUIRED)
    assert "USER_FIRST_NAME or USER_SECOND_NAME is required" in wire(MSG_NAME_REQUIRED)
    assert Patient.objects.count() == 1


def test_a_tid_sent_as_well_under_the_lid_pattern_names_nobody_and_changes_nothing():
    jose = _jose()

    patient = resolve_patient(data=_sent(tid="T1", id_number="12345678Z"), scope=HOSPITAL)

    assert patient.pk == jose.pk
    assert not PatientLink.objects.exists()


def test_a_known_lid_and_a_tid_linked_to_someone_else_are_refused(app):
    jose = _jose()
    _link(PatientFactory(lid="P5", first_name="Ana"), "T5", app)
    lid_scope = Scope(centers=None, pattern="lid", client=app.client)

    with pytest.raises(DomainError) as error:
        resolve_patient(data=_sent(lid="P-100", tid="T5"), scope=lid_scope)

    assert (error.value.code, error.value.message) == (
        INVALID_INPUT,
        said(MSG_IDS_DISAGREE, key=Term.PATIENT, key_value="P-100", other=Term.PATIENT_TID, other_value="T5"),
    )
    assert Patient.objects.get(pk=jose.pk).mobile_phone == "+34 600 11 22 33"


def test_an_unknown_gender_is_an_input_error():
    with pytest.raises(DomainError) as error:
        resolve_patient(data=_sent(gender="X"), scope=HOSPITAL)

    assert (error.value.code, error.value.message) == (INVALID_INPUT, said(MSG_BAD_GENDER, value="X"))
    assert Patient.objects.count() == 0


# --- filling empty fields -------------------------------------------------------------------------


def test_empty_contact_fields_are_filled_and_held_ones_kept():
    _jose(email="", landline_phone="", gender="", date_of_birth=None, id_number="")

    patient = resolve_patient(
        data=PatientData(
            lid="P-100",
            first_name="Otro",
            mobile_phone="699999999",
            landline_phone="910000000",
            email="nuevo@correo.example",
            id_number="12345678Z",
            gender="M",
            date_of_birth=BIRTH,
        ),
        scope=HOSPITAL,
    )

    stored = Patient.objects.get()
    assert stored.pk == patient.pk
    assert stored.mobile_phone == "+34 600 11 22 33"  # kept
    assert stored.first_name == "José"  # names are never changed by a booking
    assert stored.landline_phone == "910000000"
    assert stored.email == "nuevo@correo.example"
    assert stored.id_number == "12345678Z"
    assert stored.gender == "M"
    assert stored.date_of_birth == BIRTH


def test_a_matched_patient_gets_empty_fields_filled_too():
    _jose(landline_phone="")

    resolve_patient(data=_sent(landline_phone="910000000", email="otra@correo.example"), scope=HOSPITAL)

    stored = Patient.objects.get()
    assert stored.landline_phone == "910000000"
    assert stored.email == "Jose.Garcia@correo.example"


# --- pattern tid ----------------------------------------------------------------------------------


def test_a_known_tid_is_that_patient_followed_through_merges(app):
    survivor = _link(PatientFactory(lid="P2"), "T-OTHER", app)
    _link(PatientFactory(lid="P1", merged_into=survivor), "T1", app)

    patient = resolve_patient(data=PatientData(tid="T1"), scope=app)

    assert patient.pk == survivor.pk
    assert patient_by_tid("T1", scope=app).pk == survivor.pk
    assert Patient.objects.count() == 2
    assert _tid_of(survivor, app) == "T-OTHER"


def test_a_known_tid_without_merges_is_that_patient(app):
    ana = _link(PatientFactory(lid="P5"), "T5", app)

    patient = resolve_patient(data=PatientData(tid="T5", first_name="Irrelevante"), scope=app)

    assert patient.pk == ana.pk
    assert Patient.objects.count() == 1


def test_the_same_tid_from_another_client_names_another_link(app):
    from clients.services import create_integration_client

    other_client, _ = create_integration_client(name="tuotempo-other", pattern="tid")
    other = Scope(centers=None, pattern="tid", client=other_client)
    ana = _link(PatientFactory(lid="P5", first_name="Ana"), "T5", app)

    patient = resolve_patient(data=_sent(tid="T5"), scope=other)

    assert patient.pk != ana.pk  # T5 of the other instance is another account: José, registered
    assert patient_by_tid("T5", scope=other).pk == patient.pk
    assert patient_by_tid("T5", scope=app).pk == ana.pk
    assert PatientLink.objects.count() == 2


def test_an_unknown_tid_is_linked_to_the_single_match(app):
    jose = _jose()

    patient = resolve_patient(data=_sent(tid="T42"), scope=app)

    assert patient.pk == jose.pk
    assert Patient.objects.count() == 1
    assert _tid_of(jose, app) == "T42"
    assert patient_by_tid("T42", scope=app).pk == jose.pk


def test_an_unknown_tid_whose_match_has_another_tid_of_the_client_registers_a_new_patient(app):
    jose = _link(_jose(), "T-OLD", app)

    patient = resolve_patient(data=_sent(tid="T42"), scope=app)

    assert patient.pk != jose.pk
    assert Patient.objects.count() == 2
    assert _tid_of(jose, app) == "T-OLD"
    assert _tid_of(patient, app) == "T42"
    assert patient.lid == f"P{patient.pk}"


def test_an_unknown_tid_without_a_match_registers_a_new_patient_with_it(app):
    patient = resolve_patient(data=_sent(tid="T42"), scope=app)

    stored = Patient.objects.get()
    assert stored.pk == patient.pk
    assert (_tid_of(stored, app), stored.lid, stored.name_key) == ("T42", f"P{stored.pk}", "jose garcia")


def test_the_tid_pattern_without_a_tid_is_an_input_error(app):
    with pytest.raises(DomainError) as error:
        resolve_patient(data=_sent(), scope=app)

    assert (error.value.code, error.value.message) == (INVALID_INPUT, said(MSG_TID_REQUIRED))
    assert Patient.objects.count() == 0


def test_a_new_tid_sent_with_a_known_lid_is_linked_to_that_patient(app):
    jose = _jose()

    patient = resolve_patient(data=_sent(tid="T1", lid="P-100", id_number=""), scope=app)

    assert patient.pk == jose.pk
    assert _tid_of(jose, app) == "T1"


def test_a_known_tid_and_a_lid_of_someone_else_are_refused(app):
    _jose()
    _link(PatientFactory(lid="P5", first_name="Ana"), "T5", app)

    with pytest.raises(DomainError) as error:
        resolve_patient(data=_sent(tid="T5", lid="P-100"), scope=app)

    assert (error.value.code, error.value.message) == (
        INVALID_INPUT,
        said(MSG_IDS_DISAGREE, key=Term.PATIENT_TID, key_value="T5", other=Term.PATIENT, other_value="P-100"),
    )


def test_a_new_patient_without_a_name_under_tid_is_an_input_error(app):
    with pytest.raises(DomainError) as error:
        resolve_patient(data=PatientData(tid="T1", email="x@correo.example"), scope=app)

    assert (error.value.code, error.value.message) == (INVALID_INPUT, said(MSG_NAME_REQUIRED))
    assert Patient.objects.count() == 0


def test_the_same_new_tid_twice_is_one_patient(app):
    first = resolve_patient(data=_sent(tid="T42", mobile_phone=""), scope=app)
    second = resolve_patient(data=_sent(tid="T42", mobile_phone="600112233"), scope=app)

    assert first.pk == second.pk
    stored = Patient.objects.get()
    assert _tid_of(stored, app) == "T42"
    assert stored.mobile_phone == "600112233"  # filled on the second booking


def test_a_tid_linked_between_lookup_and_insert_is_reused(monkeypatch, app):
    """Another booking links the same TID just after this one looked it up: this one's link fails on the
    unique (client, TID), what it registered is rolled back, and the other booking's patient is used."""
    real_lookup = patients_module.patient_by_tid
    competitor = {}

    def lookup_then_link_meanwhile(tid, *, scope):
        found = real_lookup(tid, scope=scope)
        if "patient" not in competitor:
            competitor["patient"] = _link(PatientFactory(lid="P77", first_name="Otro", email=""), tid, app)
        return found

    monkeypatch.setattr(patients_module, "patient_by_tid", lookup_then_link_meanwhile)

    with transaction.atomic():  # as inside the booking: the failed insert must not spoil it
        patient = resolve_patient(data=_sent(tid="T42", email="jose@correo.example"), scope=app)
        assert Patient.objects.count() == 1

    assert patient.pk == competitor["patient"].pk
    stored = Patient.objects.get()
    assert (stored.lid, _tid_of(stored, app), stored.email) == ("P77", "T42", "jose@correo.example")


@pytest.mark.django_db(transaction=True)
def test_two_racing_bookings_with_the_same_new_tid_register_one_patient(monkeypatch, app):
    """Both start together, look the TID up, find nothing, wait for each other, then insert
    (PostgreSQL); on SQLite the IMMEDIATE transactions serialise them once started. The two requests
    describe the person with different ID numbers, so the same-person lock does not serialise them:
    the unique link does. Each thread reports its patient or its exception."""
    real_matching = patients_module.matching_patients
    start_together = threading.Barrier(2, timeout=10)
    looked_up_both = threading.Barrier(2, timeout=10)

    def matching_then_wait(*, data, centers=None):
        found = real_matching(data=data, centers=centers)
        if connection.vendor == "postgresql":
            looked_up_both.wait()
        return found

    monkeypatch.setattr(patients_module, "matching_patients", matching_then_wait)
    outcomes: dict[int, object] = {}

    def book(n):
        try:
            start_together.wait()
            with transaction.atomic():
                outcomes[n] = resolve_patient(data=_sent(tid="T-RACE", id_number=f"X{n}"), scope=app).pk
        except Exception as exc:  # reported by the assertions below
            outcomes[n] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert sorted(outcomes) == [0, 1], outcomes  # both reported
    assert all(isinstance(pk, int) for pk in outcomes.values()), outcomes
    assert outcomes[0] == outcomes[1]
    assert PatientLink.objects.filter(tid="T-RACE").count() == 1
    assert Patient.objects.count() == 1


def test_an_unknown_pattern_is_a_programming_error():
    with pytest.raises(ValueError, match="pattern"):
        resolve_patient(data=_sent(), scope=Scope(centers=None, pattern="email"))


# --- the caller's scope ---------------------------------------------------------------------------


@pytest.fixture
def two_centers(db):
    """José is known only in Las Palmas (an appointment there); Madrid has its own doctor."""
    from demo.factories import AppointmentFactory, CenterFactory, LocationFactory, ResourceFactory

    mad, lpa = CenterFactory(lid="MAD"), CenterFactory(lid="LPA", time_zone="Atlantic/Canary")
    jose = _jose(mobile_phone="")
    AppointmentFactory(patient=jose, resource=ResourceFactory(location=LocationFactory(center=lpa)))
    ResourceFactory(lid="D-MAD", location=LocationFactory(center=mad))
    return mad, lpa, jose


def test_a_match_known_only_in_other_centers_is_never_used_and_is_recorded_for_the_desk(two_centers):
    from patients.models import PossibleDuplicate

    mad, _lpa, jose = two_centers
    madrid = Scope(centers=(mad,))

    patient = resolve_patient(data=_sent(id_number="12345678Z", mobile_phone="699999999"), scope=madrid)

    assert patient.pk != jose.pk
    jose.refresh_from_db()
    assert jose.mobile_phone == ""  # the caller's phone never reaches another center's patient
    pair = PossibleDuplicate.objects.get()
    assert (pair.patient, pair.other, pair.status) == (patient, jose, "OPEN")


def test_the_hospital_id_of_another_centers_patient_is_matched_as_a_new_patient(two_centers):
    mad, _lpa, jose = two_centers

    patient = resolve_patient(data=_sent(lid="P-100"), scope=Scope(centers=(mad,)))

    assert patient.pk != jose.pk and patient.lid != "P-100"


def test_a_caller_of_that_center_finds_the_patient(two_centers):
    _mad, lpa, jose = two_centers

    assert resolve_patient(data=_sent(id_number="12345678Z"), scope=Scope(centers=(lpa,))).pk == jose.pk


def test_a_caller_of_no_center_knows_no_patient(two_centers):
    _mad, _lpa, jose = two_centers

    patient = resolve_patient(data=_sent(id_number="12345678Z"), scope=Scope(centers=()))

    assert patient.pk != jose.pk


def test_merging_flattens_chains_fills_empty_fields_and_settles_the_pair(two_centers):
    from patients.models import PossibleDuplicate
    from patients.services import merge_patients

    mad, _lpa, jose = two_centers
    newer = resolve_patient(data=_sent(id_number="12345678Z", mobile_phone="699999999"), scope=Scope(centers=(mad,)))
    older_record = PatientFactory(lid="P-OLD", merged_into=newer)

    survivor = merge_patients(duplicate=newer, into=jose)

    assert survivor.pk == jose.pk
    newer.refresh_from_db(), older_record.refresh_from_db(), jose.refresh_from_db()
    assert (newer.merged_into_id, older_record.merged_into_id) == (jose.pk, jose.pk)
    assert jose.mobile_phone == "699999999"
    assert PossibleDuplicate.objects.get().status == "MERGED"
    assert patient_by_lid(newer.lid).pk == jose.pk
