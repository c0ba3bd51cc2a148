"""Where the telephony service reaches one call: its callback URL and its media websocket URL.

Each carries a per-call secret (never shared between calls) so a leaked URL opens one call only, and the
call's partition key (`pk`, the caller's number) so that reading the call is a point read on Cosmos DB,
not a cross-partition query. A wrong `pk` finds no call (404), it opens nothing.
"""

from __future__ import annotations

from urllib.parse import quote

from shared.models import Call
from shared.models.call import check_e164
from shared.settings import Settings
from shared.telephony.base import CallRoute
from shared.telephony.callback_auth import new_call_secret

CALLBACK_PATH = "/api/call/events/{call_id}"
MEDIA_PATH = "/ws/{call_id}"
PARTITION_PARAM = "pk"
TWILIO_PATH = "/twilio/ws"  # the media host's route for Twilio Media Streams
TWILIO_CALL_ID_PARAM = "callId"  # the <Stream>'s custom parameters naming the call and admitting it
TWILIO_TOKEN_PARAM = "token"  # noqa: S105 (a parameter name, not a secret)


def partition_key(value: str | None) -> str | None:
    """The caller's number a URL carries, when it is one (anything else reads without it)."""
    if not value:
        return None
    try:
        return check_e164(value)
    except ValueError:
        return None


def with_new_secrets(call: Call) -> Call:
    call.secrets.callback = new_call_secret()
    call.secrets.media = new_call_secret()
    return call


def call_route(settings: Settings, call: Call) -> CallRoute:
    if not call.secrets.callback or not call.secrets.media:
        raise ValueError(f"call {call.call_id} has no secrets; use with_new_secrets first")
    api = settings.api.public_url.rstrip("/")
    media = settings.media.public_url.rstrip("/")
    pk = f"&{PARTITION_PARAM}={quote(call.caller_phone)}"
    callback = (
        api + CALLBACK_PATH.format(call_id=call.call_id) + f"?secret={quote(call.secrets.callback)}{pk}"
    )
    media_url = media + MEDIA_PATH.format(call_id=call.call_id) + f"?token={quote(call.secrets.media)}{pk}"
    return CallRoute(callback_url=callback, media_url=media_url)


def twilio_stream_parameters(call: Call) -> dict[str, str]:
    """The custom parameters (<Parameter name= value=>) a Twilio <Connect><Stream> to the media host's
    `TWILIO_PATH` must carry for this call: its id, its media secret and the caller's number."""
    if not call.secrets.media:
        raise ValueError(f"call {call.call_id} has no secrets; use with_new_secrets first")
    return {
        TWILIO_CALL_ID_PARAM: str(call.call_id),
        TWILIO_TOKEN_PARAM: call.secrets.media,
        PARTITION_PARAM: call.caller_phone,
    }
