"""Logging for every entry point: one line per event with time, level, logger and the call id.

The call id lives in a context variable set once per call (`call_scope`); asyncio copies the context
into every task created afterwards, so a call's tasks log its id without passing it around. Text for a
terminal, JSON lines on Azure or with `LOG_FORMAT=json`. Every record passes through `redact` first
(query-string secrets, bearer tokens), whichever handler then writes or exports it.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

from shared.telemetry import names
from shared.telemetry.redact import needs_redaction, redact

CALL_ID: ContextVar[str | None] = ContextVar("call_id", default=None)
LEVELS = ("debug", "info", "warning", "error")
THIRD_PARTY = (  # at WARNING unless --log-level debug: their INFO lines are per request or per chunk
    "uvicorn.access",
    "uvicorn.error",
    "httpx",
    "httpx2",
    "httpcore",
    "openai",
    "azure",
    "durabletask",
    "websockets",
    "faster_whisper",
    "urllib3",
    "asyncio",
    "opentelemetry",
    "multipart",
)
AZURE_MARKERS = ("FUNCTIONS_WORKER_RUNTIME", "WEBSITE_INSTANCE_ID", "CONTAINER_APP_NAME")
_HANDLER_NAME = "callcenter"


def set_call_id(call_id: object) -> None:
    """The call this task (and every task it creates from now on) works for."""
    CALL_ID.set(str(call_id) if call_id is not None else None)


@contextmanager
def call_scope(call_id: object) -> Iterator[None]:
    """The call id for the duration of a block (a function invocation handling one call)."""
    token = CALL_ID.set(str(call_id) if call_id is not None else None)
    try:
        yield
    finally:
        CALL_ID.reset(token)


def _install_record_factory() -> None:
    """Each record gets the current call id and loses any secret, once, at creation."""
    current = logging.getLogRecordFactory()
    if getattr(current, "_callcenter", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        record.call_id = CALL_ID.get()
        message = record.getMessage()
        if needs_redaction(message):
            record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_info[1] is not None:
            text = str(record.exc_info[1])
            if needs_redaction(text):
                record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    factory._callcenter = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


class TextFormatter(logging.Formatter):
    """`12:00:01.234 INFO  media_host.session [call 1a2b3c4d] message`: readable in a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created).strftime("%H:%M:%S.%f")[:-3]
        call_id = getattr(record, "call_id", None)
        where = f" [call {call_id[:8]}]" if call_id else ""
        line = f"{stamp} {record.levelname:<7} {record.name}{where} {record.getMessage()}"
        if record.exc_info:
            line += "\n" + redact(record.exc_text or self.formatException(record.exc_info))
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line, the field names of `names.LOG_*`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            names.LOG_TIME: datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            names.LOG_LEVEL: record.levelname,
            names.LOG_LOGGER: record.name,
            names.LOG_MESSAGE: record.getMessage(),
        }
        call_id = getattr(record, "call_id", None)
        if call_id:
            entry[names.LOG_CALL_ID] = call_id
        if record.exc_info:
            entry[names.LOG_EXCEPTION] = redact(record.exc_text or self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def logging_configured() -> bool:
    """`configure_logging` ran in this process."""
    return bool(getattr(logging.getLogRecordFactory(), "_callcenter", False))


def on_azure() -> bool:
    return any(os.environ.get(name) for name in AZURE_MARKERS)


def wants_json() -> bool:
    chosen = os.environ.get("LOG_FORMAT", "").strip().lower()
    if chosen in ("json", "text"):
        return chosen == "json"
    return on_azure()


def configure_logging(
    level: str = "info", *, json_lines: bool | None = None, stream: TextIO | None = None, handler: bool = True
) -> None:
    """Configure the root logger for this process (idempotent: a second call replaces the first).

    `level` applies to the project's loggers; third-party libraries stay at WARNING unless it is
    `debug`. `handler=False` keeps the handlers someone else installed (the Functions worker sends
    records to the host): only the level, the call id and the redaction are set up.
    """
    name = level.strip().lower()
    if name not in LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LEVELS)}, got {level!r}")
    numeric = getattr(logging, name.upper())
    _install_record_factory()
    root = logging.getLogger()
    root.setLevel(numeric)
    if handler:
        for existing in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
            root.removeHandler(existing)
        output = logging.StreamHandler(stream or sys.stderr)
        output.set_name(_HANDLER_NAME)
        output.setFormatter(
            JsonFormatter() if (wants_json() if json_lines is None else json_lines) else TextFormatter()
        )
        root.addHandler(output)
    for noisy in THIRD_PARTY:
        logger = logging.getLogger(noisy)
        quieter = max(numeric, logging.WARNING, logger.level)  # a module that quietened it more keeps that
        logger.setLevel(logging.DEBUG if numeric <= logging.DEBUG else quieter)
        if noisy.startswith("uvicorn"):
            logger.handlers.clear()  # uvicorn's own handlers would write a second, unformatted line
            logger.propagate = True
