"""One call per entry point: logs (level, format) and telemetry (the exporter the environment asks for)."""

from __future__ import annotations

import os

from shared.telemetry.export import configure_telemetry
from shared.telemetry.logs import configure_logging, logging_configured

FUNCTION_APP = "callcenter-functions"
MEDIA_HOST = "callcenter-media"
LOCAL = "callcenter-local"


def configure_process(
    service: str, *, log_level: str | None = None, handler: bool = True, keep_existing: bool = False
) -> str:
    """Logging (`log_level`, else LOG_LEVEL, else info) then telemetry; returns the exporter chosen.
    `keep_existing`: leave the logging an entry point already configured (the function app imported
    by `callcenter dev`, whose --log-level wins)."""
    if not (keep_existing and logging_configured()):
        configure_logging(log_level or os.environ.get("LOG_LEVEL") or "info", handler=handler)
    return configure_telemetry(service)
