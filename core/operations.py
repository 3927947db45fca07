"""What the operations side (health, metrics, logs) reads from the rest of the hospital, without any
app importing it: the id of the request being served, the readiness checks and the figures other apps
contribute, and the signal that a database failure was answered.

An app registers here from its AppConfig.ready(); the operations adapter reads the registries when
it answers. Nothing here imports an adapter.

    from core.operations import register_figures, register_readiness_check

    register_readiness_check("sincro", sincro_worker_heartbeat)   # returns None, or what is wrong
    register_figures("exchange", exchange_run_figures)            # returns an iterable of Figure
"""

import contextvars
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.dispatch import Signal

# ------------------------------------------------------------------ the request being served

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("his_request_id", default="")


def current_request_id() -> str:
    """The id of the request this code runs for ("" outside a request): the audit entry keeps it."""
    return _request_id.get()


def serve_as_request(request_id: str) -> None:
    """Marks what runs from now on in this context (thread) as serving `request_id`, until `end_request`."""
    _request_id.set(request_id)


def end_request() -> None:
    _request_id.set("")


# ------------------------------------------------------------------ readiness

# A readiness check answers None when its part of the hospital can serve, else one short sentence
# saying what is down (never a credential, never patient data). It may raise: that counts as down.
ReadinessCheck = Callable[[], str | None]

_readiness_checks: dict[str, ReadinessCheck] = {}


def register_readiness_check(name: str, check: ReadinessCheck) -> None:
    """Adds a check to GET /health/ready; registering a name again replaces its check."""
    _readiness_checks[name] = check


def readiness_checks() -> dict[str, ReadinessCheck]:
    return dict(_readiness_checks)


# ------------------------------------------------------------------ figures kept in the database


@dataclass(frozen=True)
class Figure:
    """A figure read from the database when metrics are scraped, e.g. exchange runs by outcome.

    `kind` is "counter" (a total that only grows, such as runs so far: name it ..._total) or
    "gauge" (a level, such as rows pending). Each sample is (labels, value); labels name things
    (commands, outcomes, tables), never patients."""

    name: str
    documentation: str
    kind: str
    samples: list[tuple[dict[str, str], float]] = field(default_factory=list)


FigureSource = Callable[[], Iterable[Figure]]

_figure_sources: dict[str, FigureSource] = {}


def register_figures(name: str, source: FigureSource) -> None:
    """Adds figures to GET /metrics, read at every scrape; registering a name again replaces it."""
    _figure_sources[name] = source


def figure_sources() -> dict[str, FigureSource]:
    return dict(_figure_sources)


# ------------------------------------------------------------------ failures worth counting

# Sent by an adapter when it answers a failure of the database (the webservices' SERVICE_UNAVAILABLE),
# with sender= a short name of where ("webservices") and exception= what the database raised.
database_unavailable = Signal()
