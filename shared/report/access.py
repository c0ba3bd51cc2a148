"""Who may open the report: the admin (the API key) or the holder of a call's signed, expiring link."""

from __future__ import annotations

import hmac
from enum import StrEnum
from urllib.parse import urlsplit
from uuid import UUID

from shared.insights.links import report_link, verify_report_link
from shared.models import Call
from shared.settings import Settings

REPORT_PATH = "/api/report"  # under the Functions host's route prefix, see docs/architecture.md

__all__ = ["REPORT_PATH", "Access", "admin_key_matches", "call_page_access", "relative_report_link"]


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
    results = [hmac.compare_digest(key.encode(), secret) for key in presented if key is not None]
    return Access.GRANTED if any(results) else Access.DENIED


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
