"""What the operations tests share: a small clinic to book in, the log as the server writes it, the
counters' values, and a database that has gone away."""

import datetime as dt
import io
import json
import logging
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from prometheus_client import REGISTRY

from demo.factories import (
    ActivityFactory,
    AvailabilityRuleFactory,
    CenterFactory,
    LocationFactory,
    ResourceActivityFactory,
    ResourceFactory,
)
from ops.logs import JsonFormatter, ScrubFilter

# A patient whose every value is easy to find in a log: the tests look for each of them.
PATIENT = {
    "USER_FIRST_NAME": "Eulalia",
    "USER_SECOND_NAME": "Quintanilla",
    "USER_THIRD_NAME": "Barrenechea",
    "USER_GENDER": "F",
    "USER_DATE_OF_BIRTH": "17/09/1961",
    "USER_MOBILE_PHONE": "+34 611 472 938",
    "USER_LANDLINE_PHONE": "+34 928 114 577",
    "USER_EMAIL": "eulalia.quintanilla@example.org",
    "USER_ID_NUMBER": "48151623Y",
}
# What must never appear in a line of the log (a phone also without its spaces).
SECRETS = [v for k, v in PATIENT.items() if k != "USER_GENDER"] + ["611472938", "928114577", "1961-09-17"]


CLIENT_LOGGERS = ("urllib3", "zeep", "requests", "suds", "httpx")


def future_day(days: int = 14) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)


def ddmmyyyy(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


@pytest.fixture
def clinic(db):
    """One Madrid doctor (D1) offering a 30-minute visit (V1) every day from 09:00 to 13:00."""
    center = CenterFactory(lid="MAD", time_zone="Europe/Madrid")
    doctor = ResourceFactory(lid="D1", location=LocationFactory(lid="MAD-1", center=center))
    visit = ActivityFactory(lid="V1", name="Visita", duration=30, price=Decimal("50"))
    ResourceActivityFactory(resource=doctor, activity=visit)
    for weekday in range(7):
        AvailabilityRuleFactory(
            lid=f"R{weekday}", resource=doctor, weekday=weekday, start_time=dt.time(9), end_time=dt.time(13)
        )
    return {"center": center, "doctor": doctor, "visit": visit}


def sample(name: str, **labels) -> float:
    """A counter's value in this process (0 before it was first counted)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Counted:
    """The change of counters between two moments: `counted.delta(name, **labels)`."""

    def __init__(self):
        self.before: dict = {}

    def delta(self, name: str, **labels) -> float:
        key = (name, tuple(sorted(labels.items())))
        return sample(name, **labels) - self.before.get(key, 0.0)

    def watch(self, name: str, **labels) -> None:
        self.before[(name, tuple(sorted(labels.items())))] = sample(name, **labels)


@pytest.fixture
def server_log():
    """Every record written while the test runs, formatted as the server writes it (JSON lines, scrubbed),
    at every level: `server_log.lines()` gives the lines, `server_log.records()` the parsed objects."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ScrubFilter())
    # The test's own HTTP and SOAP clients log in this process too: their lines are not the server's.
    handler.addFilter(lambda record: not record.name.startswith(CLIENT_LOGGERS))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)

    class Log:
        def text(self) -> str:
            handler.flush()
            return stream.getvalue()

        def lines(self) -> list[str]:
            return [line for line in self.text().splitlines() if line.strip()]

        def records(self) -> list[dict]:
            return [json.loads(line) for line in self.lines()]

        def requests(self) -> list[dict]:
            return [r for r in self.records() if r["logger"] == "his.requests"]

    try:
        yield Log()
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.fixture
def database_gone(transactional_db):
    """The default connection pointed at a database that cannot be reached (a closed port on
    PostgreSQL, a file in a folder that does not exist on SQLite), as when the server is down; put
    back afterwards."""
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "postgresql":
        connection.settings_dict.update(HOST="127.0.0.1", PORT="9", OPTIONS={**saved["OPTIONS"], "connect_timeout": 2})
    else:
        connection.settings_dict["NAME"] = "/nonexistent-folder/gone.sqlite3"
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


TNS = "http://tuotempo.his/ws"


def soap_body(method: str, **params: str) -> bytes:
    """A SOAP 1.1 request for `method`, as the WSDL describes it."""
    from xml.sax.saxutils import escape

    inner = "".join(f"<ws:{name}>{escape(value)}</ws:{name}>" for name, value in params.items())
    return (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns:ws="{TNS}"><soapenv:Body><ws:{method}>{inner}</ws:{method}></soapenv:Body></soapenv:Envelope>'
    ).encode()


def call_soap(client, method: str, authorization: str | None = None, headers: dict | None = None, **params):
    extra = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    return client.post(
        "/soap/", data=soap_body(method, **params), content_type="text/xml; charset=utf-8", headers=headers, **extra
    )


def call_rest(client, method: str, authorization: str | None = None, headers: dict | None = None, **params):
    extra = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    return client.post(f"/api/{method.lower()}", data=params, content_type="application/json", headers=headers, **extra)
