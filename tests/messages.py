"""Expected messages from the templates the code raises (`MSG_*`): in the hospital's words, as the
admin and the domain say them, or in the guide's field names, as the webservices answer them."""

from core.errors import INVALID_INPUT, DomainError
from tuotempo.words import FIELD_NAMES


def said(template: str, **facts) -> str:
    return DomainError(INVALID_INPUT, template, **facts).message


def wire(template: str, **facts) -> str:
    return DomainError(INVALID_INPUT, template, **facts).render(FIELD_NAMES)
