"""What a call relied on when the webservices read it although it was not written as the guide writes it.

The parser (dispatch.parse, with tuotempo.formats) reads leniently, as the contract promises: names
in any letter case, unknown parameters ignored, empty values as absent, dates as yyyy-mm-dd; each
shell notes what only it sees (a name repeated in a REST query string or form, a SOAP parameter
outside the service's namespace) and hands it to dispatch.serve. An integrator testing its
own client wants to know which of these its client relies on, since another hospital's server may
not be as lenient. So the parser notes each one as a `Leniency`: the audit entry keeps them (the
admin's request inspector shows them), and a REST caller that asks with the header
`X-Request-Warnings: 1` gets them in the answer's `warnings` list. SOAP answers never change.

A warning names a parameter, never a value: no patient's data can reach the audit log through it.
"""

import functools
from dataclasses import dataclass

from tuotempo.formats import SPELLINGS

NAME_CASE = "NAME_CASE"
UNKNOWN_PARAMETER = "UNKNOWN_PARAMETER"
EMPTY_OPTIONAL = "EMPTY_OPTIONAL"
GIVEN_TWICE = "GIVEN_TWICE"
OTHER_NAMESPACE = "OTHER_NAMESPACE"  # SOAP only: a parameter element outside the service's namespace
# The value spellings of tuotempo.formats (ISO_DATE, SHORT_DATE, TIME_SECONDS, SHORT_TIME, MIDNIGHT).
CODES = (NAME_CASE, UNKNOWN_PARAMETER, EMPTY_OPTIONAL, GIVEN_TWICE, OTHER_NAMESPACE, *SPELLINGS)

MSG_NAME_CASE = "{sent}: the guide spells this parameter {name}."
MSG_UNKNOWN = "{sent}: {method} takes no such parameter; it was ignored."
MSG_EMPTY = "{name}: sent empty, so taken as not sent."
MSG_SPELLING = "{name}: {spelling}."
MSG_TWICE = "{sent}: given more than once (in one letter case or another); only one of its values was read."
MSG_NAMESPACE = "{sent}: sent {where}, read by its name alone; the WSDL declares the parameters in {namespace}."

MAX_NAME = 50  # a parameter name as sent is cut to this length in warnings and in the audit entry
MAX_NAMES = 60  # names kept of one call: enough for any method of the guide, bounded for any body


def sent_name(name: object) -> str:
    return str(name)[:MAX_NAME]


@dataclass(frozen=True)
class Leniency:
    """One thing a call relied on: its code (one of CODES), the parameter as sent, a sentence."""

    code: str
    parameter: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "parameter": self.parameter, "message": self.message}


def name_case(sent: str, name: str) -> Leniency:
    return _name_case(sent_name(sent), name)


def unknown_parameter(sent: str, method: str) -> Leniency:
    return _unknown_parameter(sent_name(sent), method)


def given_twice(sent: str) -> Leniency:
    return _given_twice(sent_name(sent))


# The same few names come in every call: each warning is built once. Names are cut before they are
# cached, so a caller's long names cannot fill memory.
@functools.lru_cache(maxsize=4096)
def _name_case(sent: str, name: str) -> Leniency:
    return Leniency(NAME_CASE, sent, MSG_NAME_CASE.format(sent=sent, name=name))


@functools.lru_cache(maxsize=4096)
def _unknown_parameter(sent: str, method: str) -> Leniency:
    return Leniency(UNKNOWN_PARAMETER, sent, MSG_UNKNOWN.format(sent=sent, method=method))


@functools.lru_cache(maxsize=4096)
def _given_twice(sent: str) -> Leniency:
    return Leniency(GIVEN_TWICE, sent, MSG_TWICE.format(sent=sent))


@functools.lru_cache(maxsize=4096)
def empty_optional(name: str) -> Leniency:  # name: a parameter of the method, in the guide's spelling
    return Leniency(EMPTY_OPTIONAL, name, MSG_EMPTY.format(name=name))


def other_namespace(sent: str, namespace: str | None, expected: str) -> Leniency:
    sent = sent_name(sent)
    where = f"in the namespace {namespace[:100]}" if namespace else "without a namespace"
    return Leniency(OTHER_NAMESPACE, sent, MSG_NAMESPACE.format(sent=sent, where=where, namespace=expected))


@functools.lru_cache(maxsize=4096)
def spelling(name: str, code: str) -> Leniency:
    return Leniency(code, name, MSG_SPELLING.format(name=name, spelling=SPELLINGS[code]))
