"""Secrets that travel in URLs, masked before any text reaches a log line or a span.

The per-call callback `secret`, the media `token`, the report `key`, signed links' `sig` and the
partition key `pk` (the caller's phone number) ride in query strings; an access log or an exception
message quoting such a URL must not leak them. Bearer tokens are masked too.
"""

from __future__ import annotations

import re

SECRET_PARAMETERS = ("secret", "token", "key", "sig", "pk", "code", "access_token")
MASK = "***"

_QUERY = re.compile(r"(?i)(?<![\w-])((?:" + "|".join(SECRET_PARAMETERS) + r")=)(?!\*\*\*)[^&\s\"'#<>,;)\]]+")
_BEARER = re.compile(r"(?i)\b(bearer\s+)(?!\*\*\*)[\w.~+/=-]+")
_HINTS = (*(f"{name}=" for name in SECRET_PARAMETERS), "bearer")


def needs_redaction(text: str) -> bool:
    """A cheap test before the regular expressions (most log lines hold no URL at all)."""
    lowered = text.lower()
    return any(hint in lowered for hint in _HINTS)


def redact(text: str) -> str:
    """`text` with the value of every secret query parameter and bearer token replaced by ***."""
    if not needs_redaction(text):
        return text
    return _BEARER.sub(r"\1" + MASK, _QUERY.sub(r"\1" + MASK, text))
