"""The post-call SMS: a short summary and the signed report link, sent at most once per call.

Why not "set `summary_sms_sent_at` (etag-checked), then send"? A crash or a refused send after the
mark would leave a call that says "sent" when nothing was: a silent loss. Why not "send, then mark"
alone? A crash between the two makes the retry send again: a silent double. So:

1. `summary_sms_sent_at` on the call (written after the send) is the durable "done" mark;
2. a cache lease `post-call-sms:<call_id>` (atomic add, 24 h TTL) is taken before sending. It holds
   `sending|<started>` while the request is out and `sent|<message id>|<started>` once the provider
   accepted it, and is released once the mark is written. Another attempt that finds it:
   - `sent|...` younger than `STALE_AFTER_SEC`: raises `SmsInProgressError` (the sender is writing
     the mark); older: the sender stopped before the mark, so it writes the mark and sends nothing;
   - `sending|...` younger than `STALE_AFTER_SEC`: raises `SmsInProgressError` (the orchestration
     retries later, when the mark is usually there);
   - `sending|...` older than that: the attempt died mid-send, so the SMS may or may not have gone
     out: it is NOT re-sent, and the call records `summary_sms_error` saying so (never silent).
3. Failures that surely sent nothing release the lease: `SmsUnavailableError` is raised again for the
   orchestration's retry; a refusal (`SmsError`) is recorded on the call. `SmsOutcomeUnknownError`
   keeps the lease and is recorded like a stale lease.

What is left: if the cache loses the lease (Redis flush or failover) in the few seconds between a
successful send and the mark, a retry could send a second SMS. Locally the cache and the orchestration
live in the same process, so they are lost together.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from shared.composition import Services
from shared.insights.customer_sms import customer_sms
from shared.insights.links import report_link
from shared.models import Call, Message, MessageAction, Persona
from shared.models.call import utc_now
from shared.sms.base import SmsError, SmsOutcomeUnknownError, SmsUnavailableError
from shared.store.base import CallNotFoundError, update_call
from shared.telemetry import record

log = logging.getLogger(__name__)

LEASE_TTL_SEC = 24 * 3600.0
STALE_AFTER_SEC = 90.0  # well over a send's timeout (30 s)


class SmsInProgressError(RuntimeError):
    """Another attempt is sending this call's SMS right now: retry later (transient)."""


def lease_key(call_id: UUID | str) -> str:
    return f"post-call-sms:{call_id}"


def summary_text(services: Services, call: Call) -> str:
    """The SMS the customer gets: written for them, in the call's language (`customer_sms`)."""
    now = datetime.now(ZoneInfo(services.settings.conversation.timezone))
    link = report_link(services.settings, call)
    return customer_sms(call, services.phrases, link=link, now=now)


async def _read(services: Services, call_id: UUID, caller_phone: str) -> Call:
    call = await services.store.get(call_id, caller_phone=caller_phone)
    if call is None:
        raise CallNotFoundError(call_id)
    return call


async def _save(services: Services, call: Call, mutate: Callable[[Call], None]) -> Call:
    return await update_call(services.store, call.call_id, mutate, caller_phone=call.caller_phone)


async def _record_error(services: Services, call: Call, error: str) -> None:
    log.warning("call %s: summary SMS: %s", call.call_id, error)

    def apply(stored: Call) -> None:
        if stored.summary_sms_sent_at is None:
            stored.summary_sms_error = error[:2000]

    await _save(services, call, apply)


async def _mark_sent(services: Services, call: Call, body: str, message_id: str | None) -> None:
    def apply(stored: Call) -> None:
        if stored.summary_sms_sent_at is None:
            stored.summary_sms_sent_at = utc_now()
            stored.summary_sms_error = None
            stored.messages.append(Message(persona=Persona.ASSISTANT, action=MessageAction.SMS, content=body))

    await _save(services, call, apply)
    log.info("call %s: summary SMS sent (%s)", call.call_id, message_id or "id unknown")


def _started(lease: bytes) -> float:
    try:
        return float(lease.decode().split("|")[2])
    except (IndexError, ValueError, UnicodeDecodeError):
        return 0.0


async def _lease_taken(services: Services, call: Call, key: str, now: float) -> dict[str, Any]:
    """Another attempt holds the lease: finish its work, wait for it, or report the unknown outcome."""
    held = await services.cache.get(key)
    if held is None:  # released in between: the next attempt takes it
        raise SmsInProgressError(f"call {call.call_id}: the SMS lease changed hands, retry")
    if held.startswith(b"sent|") and now - _started(held) < STALE_AFTER_SEC:
        raise SmsInProgressError(f"call {call.call_id}: the SMS was just sent, its mark is being written")
    if held.startswith(b"sent|"):  # the sender stopped before writing the mark: write it
        await _mark_sent(services, call, summary_text(services, call), held.decode().split("|")[1])
        await services.cache.release(key, held)
        return {"status": "sent", "resumed": True}
    if now - _started(held) < STALE_AFTER_SEC:
        raise SmsInProgressError(f"call {call.call_id}: another attempt is sending the SMS")
    call = await _read(services, call.call_id, call.caller_phone)
    if call.summary_sms_sent_at is not None:
        return {"status": "already_sent"}
    started = datetime.fromtimestamp(_started(held), UTC).isoformat(timespec="seconds")
    await _record_error(
        services,
        call,
        f"an earlier attempt stopped while sending (started {started}): the SMS may have been sent, "
        "so it was not sent again",
    )
    return {"status": "unknown"}


async def send_summary_sms(
    services: Services, call_id: UUID, caller_phone: str, *, clock: Callable[[], float] = time.time
) -> dict[str, Any]:
    """Send the call's summary SMS unless it was sent (or may have been); see the module docstring."""
    call = await _read(services, call_id, caller_phone)
    if call.summary_sms_sent_at is not None:
        return {"status": "already_sent"}
    if call.summary_sms_error is not None:
        return {"status": "not_sent", "error": call.summary_sms_error}
    await services.phrases.prepare(call.current_lang)  # translated words, before the lease's clock starts
    key, now = lease_key(call_id), clock()
    token = f"sending|{secrets.token_hex(8)}|{now:.3f}".encode()
    if not await services.cache.add(key, token, ttl_sec=LEASE_TTL_SEC):
        return await _lease_taken(services, call, key, now)
    return await _send_holding_lease(services, call, key, token)


async def _send_holding_lease(services: Services, call: Call, key: str, token: bytes) -> dict[str, Any]:
    call = await _read(services, call.call_id, call.caller_phone)  # fresh, now that the lease is ours
    if call.summary_sms_sent_at is not None or call.summary_sms_error is not None:
        await services.cache.release(key, token)
        return {"status": "already_sent" if call.summary_sms_sent_at else "not_sent"}
    body = summary_text(services, call)
    try:
        with record.sms("summary"):
            receipt = await services.sms.send(call.caller_phone, body)
    except SmsUnavailableError:
        await services.cache.release(key, token)
        raise  # nothing was sent: the orchestration retries with backoff
    except SmsOutcomeUnknownError as exc:  # the lease stays: no attempt will send it again
        await _record_error(services, call, f"no answer from the SMS service, it may have been sent: {exc}")
        return {"status": "unknown"}
    except SmsError as exc:
        await services.cache.release(key, token)
        await _record_error(services, call, f"refused: {exc}")
        return {"status": "failed", "error": str(exc)}
    sent = f"sent|{receipt.message_id}|{_started(token):.3f}".encode()
    await services.cache.set(key, sent, ttl_sec=LEASE_TTL_SEC)
    await _mark_sent(services, call, body, receipt.message_id)
    await services.cache.release(key, sent)
    return {"status": "sent", "message_id": receipt.message_id}
