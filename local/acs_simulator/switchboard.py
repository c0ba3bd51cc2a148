"""The simulated ACS call control: calls, their life cycle, media streams, transfers, hang-ups.

Every method runs on the simulator's event loop (the REST routes call them there; the Python API
hops onto the loop). Request bodies are the JSON the SDK sends (camelCase, see the SDK's
`_generated/models`); errors are `AcsError`s, rendered as ACS error JSON by the app.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, Literal

from local.acs_simulator.audio import write_wav
from local.acs_simulator.auth import TokenSigner
from local.acs_simulator.errors import AcsError, optional_str, require_str
from local.acs_simulator.events import Courier, cloud_event, event_grid_event, result_information
from local.acs_simulator.media_ops import MediaOperations
from local.acs_simulator.phone import Phone
from local.acs_simulator.recording import Recorder
from local.acs_simulator.sms import SmsCenter
from local.acs_simulator.state import (
    CallState,
    Delivery,
    MediaOptions,
    SimCall,
    SimulatorConfig,
    TimelineKind,
    identifier,
    new_server_call_id,
    phone_of,
)
from local.acs_simulator.streaming import MediaStreams
from media_host.protocol import DTMF_TONES

__all__ = ["Switchboard"]

_ACTIVE = (CallState.CONNECTING, CallState.CONNECTED, CallState.TRANSFERRING, CallState.TRANSFER_ACCEPTED)


def _media(body: dict[str, Any]) -> MediaOptions | None:
    options = body.get("mediaStreamingOptions")
    if options is None:
        return None
    try:
        return MediaOptions.from_json(options)
    except ValueError as exc:
        raise AcsError(400, "BadRequest", str(exc)) from exc


def _phone(model: object, what: str) -> str:
    try:
        return phone_of(model)
    except ValueError as exc:
        raise AcsError(400, "BadRequest", f"{what}: {exc}") from exc


class Switchboard:
    """All calls of one simulator, and the services around them."""

    def __init__(self, config: SimulatorConfig, signer: TokenSigner, recordings_dir: Path) -> None:
        self.config, self.signer, self.recordings_dir = config, signer, recordings_dir
        self.endpoint = ""
        self.calls: dict[str, SimCall] = {}
        self.contexts: dict[str, str] = {}
        self.deliveries: list[Delivery] = []
        self.courier = Courier(config, signer, self.deliveries)
        self.streams = MediaStreams(self)
        self.media = MediaOperations(self)
        self.recorder = Recorder(self)
        self.sms = SmsCenter(self)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    # Plumbing.
    def spawn(self, coroutine: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
        """A task the switchboard owns (cancelled by `aclose`)."""
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def get(self, call_id: str) -> SimCall:
        call = self.calls.get(call_id)
        if call is None:
            raise AcsError(404, "8522", f"Call connection {call_id} not found.")
        return call

    def active(self, call_id: str) -> SimCall:
        """A call the bot may act on: ended and never-answered calls are unknown to ACS."""
        call = self.get(call_id)
        if call.state not in _ACTIVE:
            raise AcsError(404, "8522", f"Call connection {call_id} is {call.state.value}.")
        return call

    def callback(
        self,
        call: SimCall,
        event_type: str,
        *,
        url: str | None = None,
        operation_context: str | None = None,
        result: dict[str, Any] | None = None,
        **fields: Any,
    ) -> Delivery:
        event = cloud_event(event_type, call, operation_context=operation_context, result=result, **fields)
        return self.courier.callback(call, event, url)

    def event_grid(self, event_type: str, subject: str, data: dict[str, Any]) -> Delivery:
        return self.courier.event_grid(
            event_grid_event(event_type, subject, data, self.config.resource_topic)
        )

    @staticmethod
    def scaled(call: SimCall, seconds: float) -> float:
        """A simulated duration at the call's speed (0 at speed 0)."""
        return seconds / call.speed if call.speed > 0 else 0.0

    @staticmethod
    def timeout(call: SimCall, seconds: float) -> float:
        """A timeout at the call's speed (real time at speed 0, where nothing else waits)."""
        return seconds / call.speed if call.speed > 0 else seconds

    def _register(self, call: SimCall) -> SimCall:
        self.calls[call.call_connection_id] = call
        if call.incoming_call_context:
            self.contexts[call.incoming_call_context] = call.call_connection_id
        return call

    def _new_call(
        self, direction: Literal["inbound", "outbound"], caller: str, bot_number: str, **fields: Any
    ) -> SimCall:
        return SimCall(
            call_connection_id=str(uuid.uuid4()),
            server_call_id=new_server_call_id(),
            correlation_id=str(uuid.uuid4()),
            direction=direction,
            caller=caller,
            bot_number=bot_number,
            speed=self.config.speed,
            echo_gain=self.config.echo_gain,
            **fields,
        )

    # Inbound calls.
    def ring(self, from_number: str, to_number: str, caller_display_name: str | None = None) -> SimCall:
        """A caller dials the bot's number: an IncomingCall Event Grid notification."""
        token = json.dumps({"sim": True, "nonce": uuid.uuid4().hex}).encode()
        context = "sim." + base64.urlsafe_b64encode(token).decode().rstrip("=")
        call = self._register(
            self._new_call(
                "inbound",
                from_number,
                to_number,
                state=CallState.RINGING,
                caller_display_name=caller_display_name,
                incoming_call_context=context,
            )
        )
        data = {
            "to": identifier(to_number),
            "from": identifier(from_number),
            "serverCallId": call.server_call_id,
            "callerDisplayName": caller_display_name or "",
            "incomingCallContext": context,
            "correlationId": call.correlation_id,
        }
        self.event_grid("IncomingCall", f"/caller/4:{from_number}/recipient/4:{to_number}", data)
        return call

    def _ringing(self, body: dict[str, Any]) -> SimCall:
        context = require_str(body, "incomingCallContext")
        call = self.calls.get(self.contexts.get(context, ""))
        if call is None:
            raise AcsError(404, "8523", "Invalid incoming call context.")
        if call.state is not CallState.RINGING:
            raise AcsError(400, "8522", f"The incoming call is already {call.state.value}.")
        return call

    def answer(self, body: dict[str, Any]) -> SimCall:
        call = self._ringing(body)
        call.callback_uri = require_str(body, "callbackUri")
        call.operation_context = optional_str(body, "operationContext")
        call.media = _media(body)
        call.media_state = "disabled" if call.media is None else "inactive"
        call.state = CallState.CONNECTING
        self.spawn(self._connect(call, self.config.connect_delay_s))
        return call

    def reject(self, body: dict[str, Any]) -> None:
        call = self._ringing(body)
        self._finish_unanswered(call, f"rejected ({body.get('callRejectReason') or 'none'})")

    def redirect(self, body: dict[str, Any]) -> None:
        call = self._ringing(body)
        target = _phone(body.get("target"), "target")
        self._finish_unanswered(call, f"redirected to {target}")

    def _finish_unanswered(self, call: SimCall, reason: str) -> None:
        call.state, call.ended_reason = CallState.DISCONNECTED, reason
        call.mark(TimelineKind.DISCONNECTED, reason)

    # Outbound calls.
    def create(self, body: dict[str, Any]) -> SimCall:
        targets = body.get("targets")
        if not isinstance(targets, list) or not targets:
            raise AcsError(400, "BadRequest", "'targets' must be a non-empty list.")
        callee = _phone(targets[0], "targets[0]")
        source = body.get("sourceCallerIdNumber")
        if not isinstance(source, dict) or not isinstance(source.get("value"), str):
            raise AcsError(400, "BadRequest", "'sourceCallerIdNumber' is required to call a phone number.")
        media = _media(body)
        call = self._new_call(
            "outbound",
            callee,
            source["value"],
            state=CallState.CONNECTING,
            callback_uri=require_str(body, "callbackUri"),
            operation_context=optional_str(body, "operationContext"),
            caller_display_name=optional_str(body, "sourceDisplayName"),
            media=media,
            media_state="disabled" if media is None else "inactive",
        )
        self.spawn(self._dial(self._register(call)))
        return call

    async def _dial(self, call: SimCall) -> None:
        await asyncio.sleep(self.config.answer_delay_s)
        if call.state is not CallState.CONNECTING:
            return
        if call.caller in self.config.busy_numbers:
            self._create_failed(call, 486, "The callee is busy.")
        elif call.caller in self.config.no_answer_numbers:
            await asyncio.sleep(self.timeout(call, self.config.no_answer_timeout_s))
            if call.state is CallState.CONNECTING:
                self._create_failed(call, 408, "The callee did not answer.")
        else:
            await self._connect(call, 0)

    def _create_failed(self, call: SimCall, code: int, message: str) -> None:
        result = result_information(code, 0, message)
        self.callback(call, "CreateCallFailed", operation_context=call.operation_context, result=result)
        self._finish_unanswered(call, message)

    async def _connect(self, call: SimCall, delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        if call.state is not CallState.CONNECTING:
            return
        call.state = CallState.CONNECTED
        call.mark(TimelineKind.CONNECTED)
        self.callback(call, "CallConnected", operation_context=call.operation_context)
        if call.media is not None and call.media.start_media_streaming:
            self.streams.start(call)

    # Ending calls.
    def hang_up(self, call_id: str, *, for_everyone: bool) -> None:
        reason = "terminated by the bot" if for_everyone else "hung up by the bot"
        self.end_call(self.active(call_id), reason)

    def hang_up_as_caller(self, call_id: str) -> None:
        call = self.get(call_id)
        if call.state is CallState.RINGING:
            self._finish_unanswered(call, "the caller hung up before an answer")
        elif call.state is CallState.CONNECTING and call.direction == "outbound":
            self._create_failed(call, 603, "The callee declined the call.")
        else:
            self.end_call(call, "hung up by the caller")

    def end_call(self, call: SimCall, reason: str) -> None:
        """Disconnect: CallDisconnected, media operations dropped, recording finished, socket closed."""
        if call.ended:
            return
        call.state, call.ended_reason = CallState.DISCONNECTED, reason
        call.mark(TimelineKind.DISCONNECTED, reason)
        self.media.drop(call)
        self.recorder.call_ended(call)
        if call.callback_uri:
            self.callback(call, "CallDisconnected", operation_context=call.operation_context)
        self.spawn(self._hang_up_phone(call, self.streams.detach(call)))

    async def _hang_up_phone(self, call: SimCall, phone: Phone | None) -> None:
        if phone is not None:
            await phone.aclose()
        audio, stem = call.audio, self.recordings_dir / "calls" / call.call_connection_id
        if audio.sent or audio.heard:
            sent = write_wav(
                stem.with_name(f"{stem.name}-caller-sent.wav"), bytes(audio.sent), audio.sample_rate
            )
            heard = write_wav(
                stem.with_name(f"{stem.name}-bot-heard.wav"), bytes(audio.heard), audio.sample_rate
            )
            audio.sent_wav, audio.heard_wav = sent, heard  # heard_wav last: set means both are written

    # Transfer.
    def transfer(self, call_id: str, body: dict[str, Any]) -> str | None:
        call = self.active(call_id)
        if call.state is not CallState.CONNECTED:
            raise AcsError(400, "BadRequest", f"Cannot transfer a call that is {call.state.value}.")
        target = _phone(body.get("targetParticipant"), "targetParticipant")
        context = optional_str(body, "operationContext")
        call.state, call.transfer_target = CallState.TRANSFERRING, target
        self.spawn(self._transfer(call, target, context, optional_str(body, "operationCallbackUri")))
        return context

    async def _transfer(self, call: SimCall, target: str, context: str | None, url: str | None) -> None:
        await asyncio.sleep(self.config.transfer_delay_s)
        if call.state is not CallState.TRANSFERRING:
            return
        if target in self.config.failing_transfer_targets:
            call.state = CallState.CONNECTED
            result = result_information(500, 0, f"The transfer target {target} could not be reached.")
            self.callback(call, "CallTransferFailed", url=url, operation_context=context, result=result)
            return
        call.state = CallState.TRANSFER_ACCEPTED
        self.callback(
            call,
            "CallTransferAccepted",
            url=url,
            operation_context=context,
            transferTarget=identifier(target),
            transferee=identifier(call.caller),
        )
        self.end_call(call, f"transferred to {target}")

    # The caller's actions (Python and /sim APIs).
    def say(self, call_id: str, pcm: bytes, sample_rate: int) -> None:
        if pcm:
            self.get(call_id).pending_speech.append((pcm, sample_rate))

    def send_dtmf(self, call_id: str, tones: str) -> None:
        call = self.get(call_id)
        bad = [tone for tone in tones if tone.upper() not in DTMF_TONES]
        if bad:
            raise AcsError(400, "BadRequest", f"Not DTMF tones: {''.join(bad)!r}.")
        phone = self.streams.phones.get(call.call_connection_id)
        for tone in tones.upper():
            call.dtmf_buffer.append(tone)
            call.mark(TimelineKind.DTMF, tone)
            if phone is not None:
                phone.send_dtmf(tone)
        call.dtmf_arrived.set()

    async def aclose(self) -> None:
        """Stop everything: phones closed, tasks cancelled, deliveries finished."""
        if self._closed:
            return
        self._closed = True
        await self.streams.aclose()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.courier.aclose()
