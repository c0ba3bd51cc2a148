"""Claim fields and values as people read them: `caller_name` -> "Caller name", ISO datetimes -> dates.

Used by the report and the softphone page; the stored values stay normalised (ISO 8601, E.164).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

__all__ = ["field_label", "readable_value"]

_ACRONYMS: Final = {"id": "ID", "url": "URL", "sms": "SMS", "iban": "IBAN", "vin": "VIN"}
_ISO_DATETIME: Final = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def field_label(name: str) -> str:
    """`caller_email` -> "Caller email", `incidentDateTime` -> "Incident date time", `vin` -> "VIN"."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ").replace("-", " ")
    words = [word for word in spaced.split() if word]
    if not words:
        return name
    shown = [_ACRONYMS.get(word.lower(), word.lower()) for word in words]
    first = shown[0]
    shown[0] = first if first.isupper() else first[:1].upper() + first[1:]
    return " ".join(shown)


def readable_value(value: str | None) -> str:
    """An ISO 8601 datetime as "Thu 13 Mar 2025, 22:30 (UTC+01:00)"; anything else as it is."""
    if value is None:
        return ""
    if _ISO_DATETIME.match(value):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        text = moment.strftime("%a %d %b %Y, %H:%M")
        offset = moment.strftime("%z")
        if offset:
            text += f" (UTC{offset[:3]}:{offset[3:]})"
        return text
    return value
