"""Texts sent by callers to the bot's number (ACS `SMSReceived` events, Twilio webhooks).

A text joins the transcript of the sender's latest call, as a human SMS message, so the next call
(or the report) sees it. A number with no call is logged and ignored. Each provider message id is
applied once: a redelivered event finds its id marked in the cache (a cache that is down or hung
only loses the mark: the text is still added).
"""

from __future__ import annotations

import logging

from shared.cache.dedupe import already_done, mark_done
from shared.composition import Services
from shared.models import Call, Message, MessageAction, Persona
from shared.models.call import normalise_e164
from shared.models.size import MAX_SMS_CHARS, clip
from shared.store.base import update_call
from shared.telemetry import names, spans

log = logging.getLogger(__name__)

SEEN_SMS_TTL_SEC = 24 * 3600.0


def _masked(phone: str) -> str:
    return f"{phone[:4]}…{phone[-2:]}" if len(phone) > 6 else "…"


def _is_ours(to_phone: str, bot_phone: str) -> bool:
    """A text for the bot's own number (written with or without the `+`); anything else is not ours."""
    try:
        return normalise_e164(to_phone) == normalise_e164(bot_phone)
    except ValueError:
        return False


async def receive_sms(
    services: Services, from_phone: str, to_phone: str, text: str, *, message_id: str | None = None
) -> Call | None:
    """Append the text to the sender's latest call; returns that call, or None when ignored.

    The sender's number is normalised to E.164 first (ACS sends some numbers without the `+`): calls are
    stored, and partitioned, under E.164 numbers."""
    try:
        from_phone = normalise_e164(from_phone)
    except ValueError:
        log.warning(
            "inbound SMS %s ignored: the sender %r is no phone number", message_id, _masked(from_phone)
        )
        return None
    if not _is_ours(to_phone, services.settings.acs.phone_number):
        log.warning(
            "inbound SMS %s ignored: sent to %s, not to the bot's number", message_id, _masked(to_phone)
        )
        return None
    seen_key = f"sms-received:{message_id}" if message_id else None
    if seen_key and await already_done(services.cache, seen_key):
        log.info("inbound SMS %s already applied", message_id)
        return None
    page = await services.store.list_by_phone(from_phone, limit=1)
    if not page.items:
        log.info("inbound SMS from %s to %s ignored: no call for this number", _masked(from_phone), to_phone)
        return None
    latest = page.items[0]
    message = Message(persona=Persona.HUMAN, action=MessageAction.SMS, content=clip(text, MAX_SMS_CHARS))

    def _append(call: Call) -> None:
        call.messages.append(message.model_copy())

    with spans.call_part(names.SPAN_SMS, latest, {names.ATTR_SMS_KIND: "inbound"}, new_trace=False):
        call = await update_call(services.store, latest.call_id, _append, caller_phone=latest.caller_phone)
    if seen_key:  # marked once applied: a failed write lets the redelivery try again
        await mark_done(services.cache, seen_key, ttl_sec=SEEN_SMS_TTL_SEC)
    log.info("inbound SMS added to call %s", call.call_id)
    return call
