"""Where the telephony service reaches one call: its callback URL and its media websocket URL.

Each carries a per-call secret (never shared between calls) so a leaked URL opens one call only.
"""

from __future__ import annotations

from urllib.parse import quote

from shared.models import Call
from shared.settings import Settings
from shared.telephony.base import CallRoute
from shared.telephony.callback_auth import new_call_secret

CALLBACK_PATH = "/api/call/events/{call_id}"
MEDIA_PATH = "/ws/{call_id}"


def with_new_secrets(call: Call) -> Call:
    call.secrets.callback = new_call_secret()
    call.secrets.media = new_call_secret()
    return call


def call_route(settings: Settings, call: Call) -> CallRoute:
    if not call.secrets.callback or not call.secrets.media:
        raise ValueError(f"call {call.call_id} has no secrets; use with_new_secrets first")
    api = settings.api.public_url.rstrip("/")
    media = settings.media.public_url.rstrip("/")
    callback = api + CALLBACK_PATH.format(call_id=call.call_id) + f"?secret={quote(call.secrets.callback)}"
    media_url = media + MEDIA_PATH.format(call_id=call.call_id) + f"?token={quote(call.secrets.media)}"
    return CallRoute(callback_url=callback, media_url=media_url)
