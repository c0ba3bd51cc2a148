"""Signed links to a call's report page, sent in the post-call SMS.

`{api.public_url}/api/report/{call_id}?expires=<unix seconds>&sig=<hex>` (the report page lives under
the Functions host's `/api` route prefix, like every route): `sig` is HMAC-SHA256 over
`report:{call_id}:{expires}`, keyed with `REPORT__SIGNING_KEY`. Links must survive restarts, so the key
is never random: in azure mode it is required; locally, without it, the key is derived from `API__KEY`
when set, else a fixed development key is used (with a warning: anyone can forge those links).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import time
from urllib.parse import urlencode
from uuid import UUID

from shared.models import Call
from shared.settings import Mode, Settings

log = logging.getLogger(__name__)

REPORT_LINK_PATH = "/api/report/{call_id}"
DEV_SIGNING_KEY = b"call-center-ai local development report links"
_API_KEY_DERIVATION = b"call-center-ai report links v1"


@functools.cache
def _warn_dev_key() -> None:  # once per process
    log.warning(
        "REPORT__SIGNING_KEY and API__KEY are unset: report links are signed with a fixed development "
        "key anyone can use; set REPORT__SIGNING_KEY outside local development"
    )


def signing_key(settings: Settings) -> bytes:
    """The HMAC key of report links (see the module docstring for the defaults)."""
    if settings.report.signing_key is not None:
        return settings.report.signing_key.get_secret_value().encode()
    if settings.mode is Mode.AZURE:  # Settings validation refuses this; never sign with a guessable key
        raise ValueError("REPORT__SIGNING_KEY is required in azure mode")
    if settings.api.key is not None:
        return hmac.new(settings.api.key.get_secret_value().encode(), _API_KEY_DERIVATION, "sha256").digest()
    _warn_dev_key()
    return DEV_SIGNING_KEY


def _signature(key: bytes, call_id: str, expires: int) -> str:
    return hmac.new(key, f"report:{call_id}:{expires}".encode(), hashlib.sha256).hexdigest()


def report_link(settings: Settings, call: Call, *, now: float | None = None) -> str:
    """The signed report URL of the call, valid for `REPORT__LINK_TTL_HOURS`."""
    issued = time.time() if now is None else now
    expires = int(issued + settings.report.link_ttl_hours * 3600)
    call_id = str(call.call_id)
    signature = _signature(signing_key(settings), call_id, expires)
    query = urlencode({"expires": expires, "sig": signature, "pk": call.caller_phone})  # pk: a point read
    path = REPORT_LINK_PATH.format(call_id=call_id)
    return f"{settings.api.public_url.rstrip('/')}{path}?{query}"


def verify_report_link(
    settings: Settings,
    call_id: str | UUID,
    expires: int | str,
    signature: str,
    *,
    now: float | None = None,
) -> bool:
    """True when `signature` signs this call id and expiry, and the expiry has not passed."""
    try:
        expiry = int(expires)
        canonical = str(UUID(str(call_id)))
    except (TypeError, ValueError):
        return False
    if expiry <= (time.time() if now is None else now):
        return False
    expected = _signature(signing_key(settings), canonical, expiry)
    return hmac.compare_digest(expected.encode(), signature.strip().lower().encode())
