"""Answer a call the caller placed (Event Grid `IncomingCall`): one indexed lookup of the caller's
recent call, one write, then the answer request.

A caller ringing back within `callback_timeout_hour` resumes their conversation: the new call carries
the previous call's claim, reminders and transcript, and points back to it.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from shared.cache.base import CacheError
from shared.composition import Services
from shared.models import Call, CallDirection, CallState
from shared.models.call import check_e164, utc_now
from shared.store.base import update_call
from shared.telemetry import names, spans
from shared.telephony.base import TelephonyError

from .resume import carry_over, mark_taken_over
from .routing import call_route, with_new_secrets

log = logging.getLogger(__name__)

INCOMING_CALL = "Microsoft.Communication.IncomingCall"
CLAIM_TTL_SEC = 24 * 3600.0  # Event Grid redelivers an event for up to 24 hours


@dataclass(frozen=True)
class IncomingCall:
    to_phone: str
    from_phone: str
    incoming_call_context: str
    server_call_id: str | None
    correlation_id: str | None

    @classmethod
    def from_event_data(cls, data: dict[str, Any]) -> IncomingCall:
        def phone(side: str) -> str:
            party = data.get(side) or {}
            value = (party.get("phoneNumber") or {}).get("value") or str(party.get("rawId", "")).removeprefix(
                "4:"
            )
            return check_e164(value)

        context = data.get("incomingCallContext")
        if not isinstance(context, str) or not context:
            raise ValueError("IncomingCall event without incomingCallContext")
        return cls(
            to_phone=phone("to"),
            from_phone=phone("from"),
            incoming_call_context=context,
            server_call_id=data.get("serverCallId"),
            correlation_id=data.get("correlationId"),
        )


async def _resumable(services: Services, call: Call) -> Call | None:
    """The caller's latest other call, if it ended within `callback_timeout_hour`. A call still live is
    another conversation going on (two phones, one number): it is not resumed, nor anything older."""
    flags = await services.flags.get()
    since = utc_now() - timedelta(hours=flags.callback_timeout_hour)
    recent = await services.store.list_by_phone(call.caller_phone, limit=2)
    latest = next((c for c in recent.items if c.call_id != call.call_id), None)
    if latest is None or latest.updated_at < since or latest.connection.state is not CallState.DISCONNECTED:
        return None
    return latest


def _claim_key(incoming: IncomingCall) -> str:
    ring = incoming.server_call_id or hashlib.sha256(incoming.incoming_call_context.encode()).hexdigest()
    return f"incoming:{ring}"


async def _claim(services: Services, incoming: IncomingCall) -> bool:
    """Take the ring for this process, once across retries and duplicate deliveries. The cache is an
    optimisation: when it fails, answer anyway (a second answer of the same context gets a 4xx)."""
    try:
        return await services.cache.add(_claim_key(incoming), b"1", ttl_sec=CLAIM_TTL_SEC)
    except CacheError as exc:
        log.warning(
            "IncomingCall from %s: cache unavailable (%s), answering without a claim",
            incoming.from_phone,
            exc,
        )
        return True


async def _unclaim(services: Services, incoming: IncomingCall) -> None:
    """Let a retry of the delivery try again (after a failure worth retrying)."""
    try:
        await services.cache.delete(_claim_key(incoming))
    except CacheError as exc:
        log.warning("IncomingCall from %s: claim not released (%s)", incoming.from_phone, exc)


async def answer_incoming_call(services: Services, data: dict[str, Any]) -> Call | None:
    """Answer a call to the bot's number. None when the call is not ours, already answered (a retried or
    duplicate delivery), or refused for good by ACS (an expired or used context: retrying is useless).
    Raises on failures worth a retry (the event is redelivered)."""
    incoming = IncomingCall.from_event_data(data)
    settings = services.settings
    if incoming.to_phone != settings.acs.phone_number:
        log.info(
            "incoming call to %s ignored: the bot answers %s", incoming.to_phone, settings.acs.phone_number
        )
        return None
    if not await _claim(services, incoming):
        log.info("incoming call %s already claimed: duplicate delivery ignored", incoming.server_call_id)
        return None
    try:
        return await _answer(services, incoming)
    except Exception:
        await _unclaim(services, incoming)
        raise


async def _answer(services: Services, incoming: IncomingCall) -> Call | None:
    settings = services.settings
    call = with_new_secrets(
        Call(
            caller_phone=incoming.from_phone,
            bot_phone=incoming.to_phone,
            direction=CallDirection.INBOUND,
            initiate=settings.inbound.model_copy(deep=True),
        )
    )
    call.connection.server_call_id = incoming.server_call_id
    call.connection.correlation_id = incoming.correlation_id
    with spans.call_part(names.SPAN_ANSWER, call, new_trace=False):
        call.connection.trace_parent = spans.traceparent()  # the call's later parts link to this span
        answered = await _answer_call(services, call, incoming)
        if answered is not None:
            log.info("call answered (%s)", "resumed" if answered.previous_call_id else "new conversation")
        return answered


async def _answer_call(services: Services, call: Call, incoming: IncomingCall) -> Call | None:
    previous = await _resumable(services, call)  # one indexed read: the media socket must find the
    if previous is not None:  # resumed conversation as soon as it connects
        carry_over(previous, into=call)
    call = await services.store.create(call)  # the call's events and media need the document
    try:
        leg = await services.telephony.answer(
            incoming.incoming_call_context, call_route(services.settings, call)
        )
    except TelephonyError as exc:
        await services.store.delete(call.call_id, caller_phone=call.caller_phone)
        if exc.final:
            log.warning("incoming call from %s not answered, for good: %s", incoming.from_phone, exc)
            return None
        raise

    def _connect(stored: Call) -> None:
        stored.connection.call_connection_id = leg.call_connection_id
        stored.connection.server_call_id = leg.server_call_id or stored.connection.server_call_id
        stored.connection.correlation_id = leg.correlation_id or stored.connection.correlation_id

    answered = await update_call(services.store, call.call_id, _connect, caller_phone=call.caller_phone)
    if previous is not None:
        await mark_taken_over(services.store, previous, by=answered.call_id)
    return answered
