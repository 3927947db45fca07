"""The methods both surfaces serve, each declared once.

A method (`Method`) is its parameters, the fields of its answer records in the guide's order, and a
handler that maps a parsed call onto one domain selector or service and shapes the answer. The
declarations live in `webservices/methods/`, one module per domain; every module there registers
its methods on import (`methods()` discovers them). The SOAP shell (soap.py) and the REST shell
(rest.py) are generated from these declarations and share `dispatch.serve()`, so both surfaces parse,
check scope and answer identically. Formats: tuotempo/formats.py; an empty value counts as absent.
"""

from __future__ import annotations

import base64
import functools
import importlib
import pkgutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import IO, Any

from centers.models import Center
from clients.models import IntegrationClient
from clients.scope import Scope
from core.errors import DomainError
from patients.models import Patient
from patients.selectors import PATTERN_LID, named_patient


class Kind(Enum):
    TEXT = "text"
    DATE = "date"
    TIME = "time"
    TIMESTAMP = "timestamp"
    NUMBER = "number"
    BINARY = "binary"


@dataclass(frozen=True)
class Param:
    name: str
    kind: Kind = Kind.TEXT
    required: bool = False
    max_length: int = 50
    low: int = 0
    high: int = 1_000_000
    doc: str = ""
    example: str = ""  # a value of the demo hospital, for the API docs
    choices: tuple[str, ...] = ()  # for the API docs; what is accepted is the domain's to say


@dataclass(frozen=True)
class Method:
    """One webservice method of the guide, as both surfaces serve it."""

    name: str  # the guide's spelling, e.g. "searchAvailabilities"
    summary: str
    params: tuple[Param, ...]
    fields: tuple[str, ...]  # the answer record's fields, in the guide's order
    handler: Callable[[Call], Answer]
    many: bool = False  # the answer is a list of records
    record_name: str = ""  # the SOAP type name of one record; for a write, "<Name>Result"
    binary_fields: tuple[str, ...] = ()  # base64Binary on SOAP, base64 text in JSON
    takes_center: bool = True
    # For the methods whose answer carries its own result field (the writes: addAppointment...): the
    # answer that reports a failure, built from the request's values and the error. Every failure of
    # such a method, unreadable input included, is answered this way, never as a SOAP fault.
    failure: Callable[[Mapping[str, Any], DomainError], dict[str, Any]] | None = None

    def __post_init__(self):
        if not self.record_name:
            object.__setattr__(self, "record_name", f"{self.name[:1].upper()}{self.name[1:]}Result")

    @property
    def write(self) -> bool:
        """The guide's writes are the methods that report their own result; REST answers them on POST only."""
        return self.failure is not None

    @property
    def rest_path(self) -> str:
        return self.name.lower()

    def shaped(self, payload: list[dict[str, Any]] | dict[str, Any]):
        """The records with every declared field, in the declared order (the guide's, then additions)."""
        if isinstance(payload, dict):
            return {name: payload.get(name) for name in self.fields}
        return [{name: row.get(name) for name in self.fields} for row in payload]

    def all_params(self) -> tuple[Param, ...]:
        center = (Param("CENTER_LID", doc="Restricts the call to one center of the client's scope."),)
        return self.params + center if self.takes_center else self.params

    @functools.cached_property
    def _params_by_name(self) -> dict[str, Param]:
        return {param.name: param for param in self.all_params()}

    def param(self, name: str) -> Param | None:
        """The parameter of that name (the guide's spelling), or None when the method takes none such."""
        return self._params_by_name.get(name)


@dataclass(frozen=True)
class Content:
    """File content in an answer: sent base64, read from storage chunk by chunk while it is sent,
    so a 20 MB result never sits whole in memory. The handler opens the stream; sending closes it."""

    stream: IO[bytes]
    size: int

    def base64_chunks(self, chunk: int = 3 * 64 * 1024) -> Iterator[bytes]:
        # A multiple of 3 bytes encodes without padding, so the pieces join into one valid base64.
        try:
            while block := self.stream.read(chunk):
                yield base64.b64encode(block)
        finally:
            self.stream.close()


@dataclass
class Answer:
    """What a handler returns: the payload, and for the methods whose answer carries its own result
    field (addAppointment...), the business failure reported inside that payload."""

    payload: list[dict[str, Any]] | dict[str, Any]
    error: DomainError | None = None
    ids: dict[str, Any] = field(default_factory=dict)  # for the audit log: ids only


@dataclass
class Call:
    """One parsed request: who calls, with which typed values (absent ones are None)."""

    client: IntegrationClient
    values: dict[str, Any]
    scope: Scope  # the center named by CENTER_LID, else the client's; its pattern; its USER_TID links

    def __getitem__(self, name: str) -> Any:
        return self.values.get(name)

    @property
    def centers(self) -> tuple[Center, ...] | None:
        return self.scope.centers

    def patient(self, *, required: bool, by_lid: bool = False) -> Patient | None:
        """The patient the call names by the client's patient pattern (USER_LID or USER_TID), or by USER_LID
        whatever the pattern (the guide's reminder methods)."""
        return named_patient(
            scope=self.scope,
            lid=self["USER_LID"],
            tid=self["USER_TID"],
            required=required,
            key=PATTERN_LID if by_lid else None,
        )


REGISTRY: dict[str, Method] = {}


def register(method: Method) -> Method:
    REGISTRY[method.name] = method
    return method


def methods() -> list[Method]:
    """Every method, in the order their modules declare them."""
    from webservices import methods as package

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")
    return list(REGISTRY.values())
