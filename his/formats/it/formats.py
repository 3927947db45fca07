"""As in English (his/formats/en): dd/mm/yyyy, 24-hour times."""

from his.formats.en.formats import *  # noqa: F403

DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "."
