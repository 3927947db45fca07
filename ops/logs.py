"""The server's log: one line per record, JSON by default (HIS_LOG_FORMAT=json) for a log pipeline,
readable text for a person (HIS_LOG_FORMAT=text, what `make run` uses).

Every record carries the id of the request it was written for (`request_id`, "" outside a request).
Nothing here may put patient data in a line: the request line holds ids, codes and numbers only (see
ops/middleware.py), and `ScrubFilter` removes what a database error would quote from a row (PostgreSQL's
DETAIL lines: "Key (id_number)=(...)", "Failing row contains (...)") from every message and traceback.

Imported by the settings' LOGGING and by the gunicorn configuration, so it must not need Django set up.
"""

import logging
import re

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from core.operations import current_request_id

# PostgreSQL quotes the values of the offending row after DETAIL (unique, check and not-null violations).
_DETAIL = re.compile(r"DETAIL:.*")
_FAILING_ROW = re.compile(r"Failing row contains \(.*?\)(?=\.?$)", re.MULTILINE)
NOT_LOGGED = "DETAIL: (not logged: it may quote a row)"


def scrub(text: str) -> str:
    """The text without the parts of database errors that quote a row's values."""
    if "DETAIL" not in text and "Failing row" not in text:
        return text
    return _FAILING_ROW.sub("Failing row contains (not logged)", _DETAIL.sub(NOT_LOGGED, text))


class ScrubFilter(logging.Filter):
    """On the handler: adds the request id to every record and scrubs its message and traceback."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id()
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: let the formatter report it as logging does
            return True
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = scrub(self._formatter.formatException(record.exc_info))
        return True


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id, and the
    record's extra fields (the request line's client, surface, method, outcome, duration, status)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("timestamp", "time")
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        super().__init__("%(levelname)s %(name)s %(message)s %(request_id)s", **kwargs)

    def add_fields(self, log_data, record, message_dict):
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        super().add_fields(log_data, record, message_dict)
        # Django's request logger passes the request itself, whose text holds the query string.
        request = log_data.get("request")
        if request is not None:
            log_data["request"] = getattr(request, "path", "")[:200]

    def formatException(self, ei) -> str:
        return scrub(super().formatException(ei))


class TextFormatter(logging.Formatter):
    """The readable form: time, level, [request id], logger: message."""

    def __init__(self, **kwargs):
        super().__init__("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        record.request_id = record.request_id or "-"
        return super().format(record)

    def formatException(self, ei) -> str:
        return scrub(super().formatException(ei))
