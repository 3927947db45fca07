"""One error, rendered in the words of whoever shows it."""

from core.errors import CONFLICT, DomainError, Term
from tuotempo.words import FIELD_NAMES

TAKEN = "{when} with {T.RESOURCE} {resource} is no longer available."
UNKNOWN = "{what:cap} {lid!r} does not exist."


def test_the_hospital_reads_its_own_words_and_the_wire_reads_the_guides_names():
    error = DomainError(CONFLICT, TAKEN, when="slot 14/12/2026 09:30", resource="D12")

    assert error.message == "slot 14/12/2026 09:30 with doctor D12 is no longer available."
    assert error.render(FIELD_NAMES) == "slot 14/12/2026 09:30 with RESOURCE_LID D12 is no longer available."
    assert str(error) == error.message


def test_a_term_given_as_a_fact_is_rendered_and_capitalised_where_a_sentence_starts():
    error = DomainError(CONFLICT, UNKNOWN, what=Term.ACTIVITY, lid="V9")

    assert error.message == "Activity 'V9' does not exist."
    assert error.render(FIELD_NAMES) == "ACTIVITY_LID 'V9' does not exist."


def test_a_list_of_terms_reads_as_a_list():
    error = DomainError(CONFLICT, "missing: {missing}.", missing=[Term.RESOURCE, Term.START_TIME])

    assert (error.message, error.render(FIELD_NAMES)) == (
        "missing: doctor, start time.",
        "missing: RESOURCE_LID, APP_START_TIME.",
    )


def test_braces_sent_by_a_caller_are_shown_as_sent_never_interpreted():
    error = DomainError(CONFLICT, UNKNOWN, what=Term.RESOURCE, lid="{T.__class__}{0}")

    assert error.render(FIELD_NAMES) == "RESOURCE_LID '{T.__class__}{0}' does not exist."


def test_every_term_has_a_field_name_in_the_guides_vocabulary():
    assert set(FIELD_NAMES) == set(Term)
