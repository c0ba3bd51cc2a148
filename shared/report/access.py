"""Who may open the report: the admin (the API key) or the holder of a call's signed, expiring link.

The admin key is never written into a page: an admin who came with `?key=` gets, in every link and
form of the pages, a signed view token instead (`view_token`: `v1.<expires>.<HMAC>`, valid
`VIEW_TTL_SEC`), which opens the report like the key until it expires and says nothing about the key."""

from __future__ import annotations

import hashlib
import hmac
import time
from enum import StrEnum
from urllib.parse import urlsplit
from uuid import UUID

from shared.insights.links import report_link, signing_key, verify_report_link
from shared.models import Call
from shared.settings import Settings

REPORT_PATH = "/api/report"  # under the Functions host's route prefix, see docs/architecture.md
VIEW_TTL_SEC = 12 * 3600
_VIEW_PREFIX = "v1."

__all__ = [
    "REPORT_PATH",
    "Access",
    "admin_key_matches",
    "call_page_access",
    "carried_key",
    "relative_report_link",
    "view_token",
]


class Access(StrEnum):
    GRANTED = "granted"
    DENIED = "denied"
    NOT_CONFIGURED = "not_configured"  # no API key on the server: the admin cannot be recognised


def admin_key_matches(settings: Settings, *presented: str | None) -> Access:
    """GRANTED when one of the presented keys (header, query parameter) is the API key."""
    expected = settings.api.key
    if expected is None:
        return Access.NOT_CONFIGURED
    secret = expected.get_secret_value().encode()
    # compare every presented key, so the time taken does not tell which one was checked
    results = [
        hmac.compare_digest(key.encode(), secret) or _valid_view_token(settings, key)
        for key in presented
        if key is not None
    ]
    return Access.GRANTED if any(results) else Access.DENIED


def _view_signature(settings: Settings, expires: int) -> str:
    return hmac.new(signing_key(settings), f"report-view:{expires}".encode(), hashlib.sha256).hexdigest()


def view_token(settings: Settings, *, now: float | None = None) -> str:
    """A signed token opening the report for `VIEW_TTL_SEC`: what links carry instead of the key."""
    expires = int((time.time() if now is None else now) + VIEW_TTL_SEC)
    return f"{_VIEW_PREFIX}{expires}.{_view_signature(settings, expires)}"


def _valid_view_token(settings: Settings, token: str, *, now: float | None = None) -> bool:
    if not token.startswith(_VIEW_PREFIX):
        return False
    expires, _, signature = token[len(_VIEW_PREFIX) :].partition(".")
    if not (expires.isascii() and expires.isdigit()) or len(expires) > 12:
        return False
    fresh = int(expires) > (time.time() if now is None else now)
    return hmac.compare_digest(signature.encode(), _view_signature(settings, int(expires)).encode()) and fresh


def carried_key(settings: Settings, presented: str) -> str:
    """What the page's links carry for a query key that opened it: a view token, never the key."""
    return presented if _valid_view_token(settings, presented) else view_token(settings)


def call_page_access(
    settings: Settings,
    call_id: UUID,
    *,
    keys: tuple[str | None, ...],
    expires: str | None,
    signature: str | None,
) -> bool:
    """The admin key, or a link signed for this very call that has not expired."""
    if admin_key_matches(settings, *keys) is Access.GRANTED:
        return True
    if (
        expires is None
        or signature is None
        or not (expires.isascii() and expires.isdigit())
        or len(expires) > 12
    ):
        return False
    return verify_report_link(settings, call_id, int(expires), signature)


def relative_report_link(settings: Settings, call: Call) -> str:
    """The call's signed link as a same-origin path on the report route, `REPORT_PATH`.

    Only the signed query (`expires`, `sig`) is taken from `report_link`, so the list links to the
    server it was served by, whatever `API__PUBLIC_URL` says.
    """
    query = urlsplit(report_link(settings, call)).query
    return f"{REPORT_PATH}/{call.call_id}?{query}"
