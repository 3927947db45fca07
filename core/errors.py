"""The one error type of the domain, and the words its messages are written in.

Services and selectors raise `DomainError(code, template, **facts)`. A template names hospital things
through terms (`{T.RESOURCE}`), so one error reads right wherever it surfaces: `error.message` is in
the hospital's words ("slot 14/12/2026 09:30 with doctor D12 is no longer available"), and an adapter
renders the same error in its own vocabulary (`error.render(WIRE_WORDS)` in the webservices gives
"... with RESOURCE_LID D12 ..."). A fact may itself be a Term (`what=Term.ACTIVITY`), and `{x:cap}`
capitalises a word at the start of a sentence.

The code says what kind of failure it is; each adapter translates codes to its protocol in one place
(webservices/errors.py: HTTP status and SOAP fault). Messages are module constants (`MSG_*`) that
tests import.
"""

from collections.abc import Mapping
from enum import Enum, StrEnum
from typing import Any


class Code(StrEnum):
    UNAUTHORIZED = "UNAUTHORIZED"
    FORBIDDEN = "FORBIDDEN"
    INVALID_INPUT = "INVALID_INPUT"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    TOO_LARGE = "TOO_LARGE"
    THROTTLED = "THROTTLED"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"


UNAUTHORIZED = Code.UNAUTHORIZED
FORBIDDEN = Code.FORBIDDEN
INVALID_INPUT = Code.INVALID_INPUT
NOT_FOUND = Code.NOT_FOUND
CONFLICT = Code.CONFLICT
TOO_LARGE = Code.TOO_LARGE
THROTTLED = Code.THROTTLED
SERVICE_UNAVAILABLE = Code.SERVICE_UNAVAILABLE


class Term(Enum):
    """A thing of the hospital that messages name; the value is the hospital's word for it."""

    RESOURCE = "doctor"
    ACTIVITY = "activity"
    INSURANCE = "insurance"
    LOCATION = "location"
    CENTER = "center"
    APPOINTMENT = "appointment"
    PATIENT = "hospital patient id"
    PATIENT_TID = "tuOtempO patient id"
    RESULT = "id"
    SLOT = "availability id"
    SEARCH_START = "the first day and time of the search"
    SEARCH_END = "the last day and time of the search"
    EARLIEST_START = "the earliest start time"
    LATEST_END = "the latest end time"
    DATE = "date"
    START_TIME = "start time"
    FROM_DATE = "the first day"
    TO_DATE = "the last day"
    FIRST_NAME = "first name"
    SECOND_NAME = "first surname"
    DATE_OF_BIRTH = "date of birth"
    MOBILE_PHONE = "mobile phone"
    EMAIL = "e-mail"
    ID_NUMBER = "ID number"
    GENDER = "gender"


HOSPITAL_WORDS: Mapping[Term, str] = {term: term.value for term in Term}


class _Word(str):
    """A word in a message; `{word:cap}` capitalises its first letter."""

    __slots__ = ()

    def __format__(self, spec: str) -> str:
        if spec == "cap":
            return self[:1].upper() + self[1:]
        return format(str(self), spec)


class _Words:
    """`{T.RESOURCE}` in a template: the word of a vocabulary for a term."""

    def __init__(self, words: Mapping[Term, str]):
        self._words = words

    def __getattr__(self, name: str) -> _Word:
        return _Word(self._words[Term[name]])


def _in_words(value: Any, words: Mapping[Term, str]) -> Any:
    if isinstance(value, Term):
        return _Word(words[value])
    if isinstance(value, list | tuple) and value and all(isinstance(v, Term) for v in value):
        return ", ".join(words[v] for v in value)
    return value


class DomainError(Exception):
    """A failure the caller can act on: a code and a message that names what was wrong."""

    def __init__(self, code: Code, template: str, *, retry_after: int | None = None, **facts: Any):
        self.code = code
        self.template = template
        self.facts = facts
        self.retry_after = retry_after
        super().__init__(self.message)

    def render(self, words: Mapping[Term, str] = HOSPITAL_WORDS) -> str:
        """The message in a vocabulary: the hospital's by default, an adapter's own when it passes one."""
        facts = {k: _in_words(v, words) for k, v in self.facts.items()}
        try:
            return self.template.format(T=_Words(words), **facts)
        except (KeyError, IndexError, ValueError, AttributeError):
            # A template is code, never input (values travel as facts); this only guards a slip.
            return self.template

    @property
    def message(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"DomainError({self.code.name}, {self.message!r})"


# Facts that echo what a caller typed (a value that did not parse, a parser's complaint about the
# body): a caller may put anything there, a patient's name included. Logs and the audit log keep a
# message without them (`without_input`); the caller's own answer still shows them.
INPUT_FACTS = frozenset({"value", "error", "detail"})
NOT_KEPT = "(not kept)"


def without_input(error: DomainError) -> DomainError:
    """The same error with the facts that echo the caller's input replaced: its message names the field
    and the ids, never a value the caller typed."""
    facts = {k: (NOT_KEPT if k in INPUT_FACTS else v) for k, v in error.facts.items()}
    return DomainError(error.code, error.template, retry_after=error.retry_after, **facts)
