"""React to the telephony service's call events (CloudEvents posted to the call's callback URL).

Every event is applied once: its id is marked in the cache after it is applied, and state changes
are guarded by the call document itself (a redelivered CallDisconnected finds
`post_call_enqueued_at` already set, so the post-call job is enqueued once even if the cache forgot).
The cache mark is an optimisation: when the cache is down or hung the event is applied anyway.

A finished call stays finished: once `disconnected`, only a redelivered CallDisconnected and a
recording's state change are applied; late or out-of-order events (CallConnected, transfers, tones)
are logged and dropped. Event data of the wrong shape is a ValueError (HTTP 400), never a crash.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from shared.cache.dedupe import already_done, mark_done
from shared.composition import Services
from shared.jobs.base import POST_CALL, Job
from shared.models import Call, CallState, Message, MessageAction, Persona
from shared.models.call import utc_now
from shared.store.base import CallNotFoundError, update_call
from shared.telemetry import names, record, spans
from shared.telephony.base import TelephonyError
from shared.telephony.callback_auth import check_call_secret

from .outcome import call_outcome

log = logging.getLogger(__name__)

Handler = Callable[[Services, Call, dict[str, Any]], Awaitable[None]]

EVENT_PREFIX = "Microsoft.Communication."
MEDIA_RESTARTS = 5  # media streams started again for one call before giving up (15.5 s in all)
MEDIA_RESTART_DELAYS_SEC = (0.5, 1.0, 2.0, 4.0, 8.0)  # a restarted media host takes a moment to listen
SEEN_EVENT_TTL_SEC = 24 * 3600.0


async def handle_call_events(
    services: Services,
    call_id: UUID,
    secret: str | None,
    events: list[dict[str, Any]],
    *,
    caller_phone: str | None = None,
) -> list[str]:
    """Apply each event to the call; returns the event types applied (duplicates and unknowns left out).

    Raises CallbackAuthError for a wrong per-call secret and CallNotFoundError for an unknown call,
    before anything changes. `caller_phone`: the partition key the callback URL carries (a point read).
    """
    call = await services.store.get(call_id, caller_phone=caller_phone)
    if call is None:
        raise CallNotFoundError(call_id)
    check_call_secret(call.secrets.callback, secret)
    applied: list[str] = []
    finished = call.connection.state is CallState.DISCONNECTED
    for event in events:
        kind = str(event.get("type", "")).removeprefix(EVENT_PREFIX)
        event_id = event.get("id") if isinstance(event.get("id"), str) else None
        seen_key = f"call-event:{event_id}"
        if event_id and await already_done(services.cache, seen_key):
            log.info("call %s: event %s (%s) already handled", call_id, event_id, kind)
            continue
        handler = _HANDLERS.get(kind)
        if handler is None:
            log.info("call %s: event %s not handled", call_id, kind)
            continue
        if finished and kind not in _AFTER_THE_END:
            log.info("call %s: late %s dropped (the call is finished)", call_id, kind)
            continue
        data = event.get("data")
        try:
            with spans.call_part(names.SPAN_EVENT, call, {names.ATTR_EVENT: kind}, new_trace=False):
                await handler(services, call, data if isinstance(data, dict) else {})
        except (AttributeError, TypeError, KeyError, ValidationError) as exc:
            raise ValueError(f"event {kind}: malformed data: {exc}") from exc
        finished = finished or kind == "CallDisconnected"
        if event_id:  # marked once applied: a failed handler lets the redelivery try again
            await mark_done(services.cache, seen_key, ttl_sec=SEEN_EVENT_TTL_SEC)
        applied.append(kind)
    return applied


def _field(data: dict[str, Any], *path: str) -> Any:
    """`data[path[0]][path[1]]...`, or None where a level is missing or not an object."""
    value: Any = data
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


async def _save(services: Services, call: Call, mutate: Callable[[Call], None]) -> Call:
    return await update_call(services.store, call.call_id, mutate, caller_phone=call.caller_phone)


async def _connected(services: Services, call: Call, data: dict[str, Any]) -> None:
    def apply(stored: Call) -> None:
        if stored.connection.state is CallState.DISCONNECTED:  # a disconnect got in first
            return
        stored.connection.state = CallState.CONNECTED
        stored.connection.call_connection_id = (
            _text(data.get("callConnectionId")) or stored.connection.call_connection_id
        )
        stored.connection.server_call_id = _text(data.get("serverCallId")) or stored.connection.server_call_id
        stored.connection.correlation_id = (
            _text(data.get("correlationId")) or stored.connection.correlation_id
        )

    stored = await _save(services, call, apply)
    if stored.connection.state is not CallState.CONNECTED:
        return
    flags = await services.flags.get()
    if flags.recording_enabled and not stored.recording_id:
        await _start_recording(services, stored)


async def finish_call(services: Services, call: Call) -> None:
    """Finish the call as CallDisconnected does (once: the post-call job is enqueued a single time)."""
    await _disconnected(services, call, {})


async def _start_recording(services: Services, call: Call) -> None:
    try:
        recording_id = await services.telephony.start_recording(call)
    except TelephonyError as exc:
        log.warning("call %s: recording did not start: %s", call.call_id, exc)
        return

    def apply(stored: Call) -> None:
        stored.recording_id = recording_id

    await _save(services, call, apply)


async def _disconnected(services: Services, call: Call, data: dict[str, Any]) -> None:
    enqueue: list[bool] = []
    stop_recording: list[str] = []

    def apply(stored: Call) -> None:
        stored.connection.state = CallState.DISCONNECTED
        enqueue.clear()
        stop_recording.clear()
        if stored.post_call_enqueued_at is None:
            stored.post_call_enqueued_at = utc_now()
            enqueue.append(True)
        if stored.recording_id and stored.recording_stopped_at is None and not stored.recording_url:
            stored.recording_stopped_at = utc_now()  # once: a redelivered disconnect stops nothing
            stop_recording.append(stored.recording_id)

    stored = await _save(services, call, apply)
    if enqueue:
        record.call_ended(stored, call_outcome(stored))  # once per call, as the post-call job
        await services.jobs.enqueue(Job(kind=POST_CALL, call_id=str(call.call_id)))
    for recording_id in stop_recording:
        await _stop_recording(services, call, recording_id)


async def _stop_recording(services: Services, call: Call, recording_id: str) -> None:
    """Stop the call's recording; ACS may have ended it with the call already, which is fine."""
    try:
        await services.telephony.stop_recording(recording_id)
    except TelephonyError as exc:
        log.info(
            "call %s: recording %s not stopped (ended with the call?): %s", call.call_id, recording_id, exc
        )


async def _transfer_accepted(services: Services, call: Call, data: dict[str, Any]) -> None:
    target = _text(_field(data, "transferTarget", "phoneNumber", "value")) or ""

    def apply(stored: Call) -> None:
        if stored.connection.state is CallState.DISCONNECTED:
            return
        stored.connection.state = CallState.TRANSFERRING
        stored.messages.append(
            Message(
                persona=Persona.ASSISTANT, action=MessageAction.TRANSFER, content=f"transferred to {target}"
            )
        )

    await _save(services, call, apply)


FAREWELL_CONTEXT = "farewell"  # the operation context of a Call Automation play followed by a hang-up


async def _transfer_failed(services: Services, call: Call, data: dict[str, Any]) -> None:
    """The agent's line refused: apologise and hang up (a call-back reminder is the caller's way back).

    The media host owns the audio stream and the voice: while it streams, it says the apology and hangs
    up. Without a stream, Call Automation plays it (which needs Azure AI services connected to ACS: the
    cognitive services endpoint), hanging up when the play ends; with neither, the call just ends."""
    reason = _text(_field(data, "resultInformation", "message")) or "transfer failed"
    log.warning("call %s: transfer failed (%s)", call.call_id, reason)
    await services.phrases.prepare(call.current_lang)
    apology = services.phrases.phrase(
        "transfer_failed", call.current_lang, {"bot_company": call.initiate.bot_company}
    )

    def apply(stored: Call) -> None:
        if stored.connection.media_streaming:
            stored.connection.farewell = apology
        else:
            stored.messages.append(Message(persona=Persona.ASSISTANT, content=apology))

    stored = await _save(services, call, apply)
    if stored.connection.state is CallState.DISCONNECTED or stored.connection.farewell:
        return
    if services.settings.acs.cognitive_services_endpoint:
        try:
            await services.telephony.play_text(
                stored, apology, lang=stored.current_lang, operation_context=FAREWELL_CONTEXT
            )
            return  # hung up on PlayCompleted or PlayFailed
        except TelephonyError as exc:
            log.warning("call %s: apology not played: %s", call.call_id, exc)
    await _hang_up(services, stored, "after a failed transfer")


async def _hang_up(services: Services, call: Call, why: str) -> None:
    try:
        await services.telephony.hang_up(call)
    except TelephonyError as exc:
        log.warning("call %s: hang up %s: %s", call.call_id, why, exc)


async def _play_ended(services: Services, call: Call, data: dict[str, Any]) -> None:
    if _text(data.get("operationContext")) == FAREWELL_CONTEXT:
        await _hang_up(services, call, "after the farewell")
    else:
        await _logged(services, call, data)


def _media_streaming(active: bool) -> Handler:
    async def handle(services: Services, call: Call, data: dict[str, Any]) -> None:
        await _logged(services, call, data)
        if call.connection.media_streaming is not active:

            def apply(stored: Call) -> None:
                stored.connection.media_streaming = active

            await _save(services, call, apply)

    return handle


async def _recognize_completed(services: Services, call: Call, data: dict[str, Any]) -> None:
    """A key pressed to choose the language: 1 for the first available language, 2 for the second..."""
    tones = _field(data, "dtmfResult", "tones")
    tones = tones if isinstance(tones, list) else []
    chosen = call.language_for_key(str(tones[0])) if tones else None
    if chosen is not None:

        def apply(stored: Call) -> None:
            stored.lang_short_code = chosen

        await _save(services, call, apply)


async def _media_streaming_failed(services: Services, call: Call, data: dict[str, Any]) -> None:
    """The call's media stream dropped (a media host crashed or went away): start it again, and the
    conversation resumes from the store on a media host that is up. After `MEDIA_RESTARTS` starts
    the caller hears an apology (where Call Automation can speak) and the call ends: never silence."""
    details = _text(_field(data, "mediaStreamingUpdate", "mediaStreamingStatusDetails")) or "unknown"
    attempt: list[int] = []

    def count(stored: Call) -> None:
        attempt.clear()
        if stored.connection.state is not CallState.DISCONNECTED:
            stored.connection.media_restarts += 1
            attempt.append(stored.connection.media_restarts)

    stored = await _save(services, call, count)
    if not attempt:
        return
    if attempt[0] <= MEDIA_RESTARTS:
        await asyncio.sleep(MEDIA_RESTART_DELAYS_SEC[attempt[0] - 1])
        try:
            await services.telephony.start_media_streaming(stored)
        except TelephonyError as exc:
            log.warning("call %s: media stream (%s) not started again: %s", call.call_id, details, exc)
        else:
            log.warning(
                "call %s: media stream dropped (%s), started again (%d)", call.call_id, details, attempt[0]
            )
            return
    await services.phrases.prepare(stored.current_lang)
    apology = services.phrases.phrase(
        "transfer_failed", stored.current_lang, {"bot_company": stored.initiate.bot_company}
    )
    try:
        await services.telephony.play_text(stored, apology, lang=stored.current_lang)
    except TelephonyError as exc:
        log.info("call %s: no apology without a media stream: %s", call.call_id, exc)
    try:
        await services.telephony.hang_up(stored)
    except TelephonyError as exc:
        log.warning("call %s: hang up after the media stream was lost: %s", call.call_id, exc)


async def _stream_failed(services: Services, call: Call, data: dict[str, Any]) -> None:
    await _media_streaming(False)(services, call, data)
    await _media_streaming_failed(services, call, data)


async def _recording_state(services: Services, call: Call, data: dict[str, Any]) -> None:
    recording_id = _text(data.get("recordingId"))
    if recording_id and recording_id != call.recording_id:

        def apply(stored: Call) -> None:
            stored.recording_id = recording_id

        await _save(services, call, apply)


async def _logged(services: Services, call: Call, data: dict[str, Any]) -> None:
    log.info(
        "call %s: %s %s",
        call.call_id,
        _field(data, "resultInformation", "code") or "",
        _field(data, "resultInformation", "message") or "",
    )


_AFTER_THE_END = frozenset({"CallDisconnected", "RecordingStateChanged", "CreateCallFailed", "AnswerFailed"})


async def _never_connected(services: Services, call: Call, data: dict[str, Any]) -> None:
    """A call that was declined, rang out or failed (CreateCallFailed, AnswerFailed): it ends here."""
    info = _field(data, "resultInformation", "message") or "no reason given"
    log.info("call %s: never connected: %s", call.call_id, info)
    await _disconnected(services, call, data)


_HANDLERS = {
    "CreateCallFailed": _never_connected,
    "AnswerFailed": _never_connected,
    "CallConnected": _connected,
    "CallDisconnected": _disconnected,
    "CallTransferAccepted": _transfer_accepted,
    "CallTransferFailed": _transfer_failed,
    "RecognizeCompleted": _recognize_completed,
    "RecognizeFailed": _logged,
    "PlayCompleted": _play_ended,
    "PlayFailed": _play_ended,
    "MediaStreamingStarted": _media_streaming(True),
    "MediaStreamingStopped": _media_streaming(False),
    "MediaStreamingFailed": _stream_failed,
    "RecordingStateChanged": _recording_state,
}
