"""The call list as CSV (the report's "Download CSV"): one row per call, spreadsheet-safe cells.

A cell a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage
return) gets a leading `'`, except plain numbers and E.164 phone numbers, which stay as they are.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from datetime import UTC
from typing import Final

from shared.models import Call
from shared.report.views import NEXT_ACTION_LABELS, call_duration

__all__ = ["CSV_COLUMNS", "calls_csv", "safe_cell"]

CSV_COLUMNS: Final = (
    "call_id",
    "created_at",
    "direction",
    "caller_phone",
    "company",
    "state",
    "duration_s",
    "next_action",
    "satisfaction",
    "summary",
    "claim",
)
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
_PLAIN: Final = re.compile(r"^[+-]?\d+(\.\d+)?$")


def safe_cell(value: str) -> str:
    if value.startswith(_FORMULA_START) and not _PLAIN.match(value):
        return "'" + value
    return value


def _row(call: Call) -> list[str]:
    duration = call_duration(call)
    return [
        str(call.call_id),
        call.created_at.astimezone(UTC).isoformat(timespec="seconds"),
        call.direction.value,
        call.caller_phone,
        call.initiate.bot_company,
        call.connection.state.value,
        "" if duration is None else str(round(duration.total_seconds())),
        NEXT_ACTION_LABELS[call.next.action] if call.next else "",
        call.synthesis.satisfaction.value if call.synthesis else "",
        call.synthesis.short if call.synthesis else "",
        json.dumps(call.claim, ensure_ascii=False, sort_keys=True) if call.claim else "",
    ]


def calls_csv(calls: Sequence[Call]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for call in calls:
        writer.writerow([safe_cell(cell) for cell in _row(call)])
    return buffer.getvalue()
