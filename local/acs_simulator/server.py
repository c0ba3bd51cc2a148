"""`AcsSimulator`: the simulator under uvicorn in a background thread, and its Python API.

    with AcsSimulator(event_grid_urls={INCOMING_CALL: url}, speed=0) as sim:     # or `async with`
        client = CallAutomationClient(sim.endpoint, AzureKeyCredential(sim.access_key))
        context = sim.ring("+33612345678", "+33100000000")
        call = sim.wait_for_call_state(sim.call_id_for(context), CallState.CONNECTED)
        sim.say(call.call_connection_id, pcm16k)

Every method is thread-safe: state changes hop onto the simulator's loop. Waits poll with a deadline
and raise TimeoutError.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import os
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Self, TypeVar

from starlette.applications import Starlette

from local.acs_simulator.app import build_app
from local.acs_simulator.audio import load_speech
from local.acs_simulator.auth import TokenSigner, decode_access_key
from local.acs_simulator.events import EVENT_PREFIX
from local.acs_simulator.state import (
    DEFAULT_AUDIENCE,
    CallState,
    Delivery,
    Recording,
    SimCall,
    SimulatorConfig,
    SmsMessage,
    TimelineEvent,
    TimelineKind,
)
from local.acs_simulator.switchboard import Switchboard
from local.threaded_server import Background, ThreadedServer

__all__ = ["AcsSimulator"]

_T = TypeVar("_T")
_POLL_S = 0.005
_CALL_TIMEOUT_S = 10.0


class AcsSimulator(Background):
    """A loopback ACS: REST for the SDKs, signed callbacks, Event Grid, the caller's phone, SMS."""

    def __init__(
        self,
        *,
        access_key: str | None = None,
        audience: str = DEFAULT_AUDIENCE,
        event_grid_urls: Mapping[str, str] | None = None,
        recordings_dir: Path | str | None = None,
        speed: float = 1.0,
        echo_gain: float = 0.0,
        answer_delay_s: float = 0.2,
        host: str = "127.0.0.1",
        port: int = 0,
        config: SimulatorConfig | None = None,
    ) -> None:
        if config is None:
            config = SimulatorConfig(
                access_key=access_key or base64.b64encode(os.urandom(32)).decode(),
                audience=audience,
                event_grid_urls=dict(event_grid_urls or {}),
                speed=speed,
                echo_gain=echo_gain,
                answer_delay_s=answer_delay_s,
            )
        decode_access_key(config.access_key)  # fail early on a key that is not base64
        self.config, self.host, self.port = config, host, port
        self._temp: tempfile.TemporaryDirectory[str] | None = None
        if recordings_dir is None:  # a private folder, removed at stop
            self._temp = tempfile.TemporaryDirectory(prefix="acs-sim-")
        self.recordings_dir = Path(self._temp.name if self._temp else str(recordings_dir))
        self.signer = TokenSigner(audience=config.audience, ttl_s=config.token_ttl_s)
        self._board = Switchboard(config, self.signer, self.recordings_dir)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._http = ThreadedServer(
            build_app(self._board, lifespan=self._lifespan),
            name="ACS simulator",
            host=host,
            port=port,
            loop="asyncio",
            http="h11",
            ws="websockets-sansio",  # the softphone's /softphone/ws
            lifespan="on",
        )

    # Addresses.
    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def access_key(self) -> str:
        return self.config.access_key

    @property
    def audience(self) -> str:
        return self.config.audience

    @property
    def issuer(self) -> str:
        return self.endpoint

    @property
    def jwks_url(self) -> str:
        return f"{self.endpoint}/calling/keys"

    @property
    def event_grid_urls(self) -> dict[str, str]:
        """Mutable: set a subscriber URL per event type (`*` for any) at any time."""
        return self.config.event_grid_urls

    # Life cycle.
    @contextlib.asynccontextmanager
    async def _lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        self._loop, self._loop_thread = asyncio.get_running_loop(), threading.get_ident()
        try:
            yield
        finally:
            await self._board.aclose()

    def start(self, timeout: float = 10.0) -> Self:
        self.port = self._http.bind()
        self._board.endpoint = self.signer.issuer = self.endpoint
        self._http.start(timeout, ready=lambda: self._loop is not None)
        return self

    def stop(self) -> None:
        """Close the media sockets, cancel the tasks, stop uvicorn, join its thread."""
        loop = self._loop
        if loop is not None and self._http.running and not loop.is_closed():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._board.aclose(), loop).result(timeout=5)
        self._http.stop()
        if self._temp is not None:
            self._temp.cleanup()
            self._temp = None

    def _on_loop(self, action: Callable[[], _T]) -> _T:
        """Run `action` on the simulator's loop and return its result (directly when already there)."""
        loop = self._loop
        if loop is None:
            raise RuntimeError("the ACS simulator is not started")
        if threading.get_ident() == self._loop_thread:
            return action()
        future: concurrent.futures.Future[_T] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(action())
            except BaseException as exc:  # handed to the calling thread
                future.set_exception(exc)

        loop.call_soon_threadsafe(run)
        return future.result(timeout=_CALL_TIMEOUT_S)

    # The caller and the network (Python API).
    def ring(self, from_number: str, to_number: str, *, caller_display_name: str | None = None) -> str:
        """A caller dials `to_number`: IncomingCall to Event Grid; returns the incomingCallContext."""
        call = self._on_loop(lambda: self._board.ring(from_number, to_number, caller_display_name))
        assert call.incoming_call_context is not None
        return call.incoming_call_context

    def call_id_for(self, incoming_call_context: str) -> str:
        """The call connection id a ringing call gets when answered."""
        return self._board.contexts[incoming_call_context]

    def receive_sms(self, from_number: str, to_number: str, message: str) -> str:
        """A text to the bot's number: SMSReceived to Event Grid; returns its message id."""
        return self._on_loop(lambda: self._board.sms.receive(from_number, to_number, message)).message_id

    def say(self, call_id: str, audio: bytes | Path | str) -> int:
        """Queue caller speech: 16 kHz mono PCM16LE bytes, or a 16-bit mono WAV path; returns its bytes."""
        call = self.call(call_id)
        rate = 16000 if call.media is None else call.media.sample_rate
        pcm = load_speech(audio, rate)
        self._on_loop(lambda: self._board.say(call_id, pcm, rate))
        return len(pcm)

    def send_dtmf(self, call_id: str, tones: str) -> None:
        """The caller presses keys: for recognize operations, and DtmfData when the stream has DTMF."""
        self._on_loop(lambda: self._board.send_dtmf(call_id, tones))

    def hang_up_as_caller(self, call_id: str) -> None:
        self._on_loop(lambda: self._board.hang_up_as_caller(call_id))

    def set_call_options(
        self, call_id: str, *, speed: float | None = None, echo_gain: float | None = None
    ) -> None:
        """Per-call media pacing and speakerphone echo (new calls take `config.speed`/`echo_gain`)."""
        call = self.call(call_id)
        if speed is not None:
            call.speed = speed
        if echo_gain is not None:
            call.echo_gain = echo_gain

    # Inspection.
    @property
    def calls(self) -> dict[str, SimCall]:
        return dict(self._board.calls)

    def call(self, call_id: str) -> SimCall:
        try:
            return self._board.calls[call_id]
        except KeyError:
            raise KeyError(f"no call {call_id!r} in the simulator") from None

    @property
    def outbox(self) -> list[SmsMessage]:
        return list(self._board.sms.outbox)

    @property
    def inbox(self) -> list[SmsMessage]:
        return list(self._board.sms.inbox)

    @property
    def deliveries(self) -> list[Delivery]:
        return list(self._board.deliveries)

    @property
    def recordings(self) -> dict[str, Recording]:
        return dict(self._board.recorder.recordings)

    def bot_audio(self, call_id: str) -> bytes:
        """The bot audio the caller heard (played from the jitter buffer), at the call's rate."""
        return bytes(self.call(call_id).audio.heard)

    def caller_audio(self, call_id: str) -> bytes:
        """Every caller frame sent (silence and echo included), at the call's rate."""
        return bytes(self.call(call_id).audio.sent)

    def timeline(self, call_id: str) -> list[TimelineEvent]:
        return list(self.call(call_id).timeline)

    # Waits (poll with a deadline; TimeoutError when it passes).
    def wait_until(self, predicate: Callable[[], _T | None], timeout: float = 5.0, what: str = "") -> _T:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout} s waiting for {what or 'a condition'}")
            time.sleep(_POLL_S)

    async def wait_until_async(
        self,
        predicate: Callable[[], _T | None],
        timeout: float = 5.0,  # noqa: ASYNC109 (the same signature as wait_until)
        what: str = "",
    ) -> _T:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout} s waiting for {what or 'a condition'}")
            await asyncio.sleep(_POLL_S)

    def wait_for_call_state(self, call_id: str, state: CallState | str, timeout: float = 5.0) -> SimCall:
        wanted = CallState(state)
        return self.wait_until(
            lambda: self._board.calls.get(call_id) if self.call(call_id).state is wanted else None,
            timeout,
            f"call {call_id} to be {wanted.value}",
        )

    def _matching_deliveries(self, event_type: str, call_id: str | None) -> list[Delivery]:
        full_type = event_type if event_type.startswith(EVENT_PREFIX) else EVENT_PREFIX + event_type
        return [
            d
            for d in list(self._board.deliveries)
            if d.event_type == full_type and d.done and (call_id is None or d.call_connection_id == call_id)
        ]

    def wait_for_delivery(
        self, event_type: str, *, call_id: str | None = None, count: int = 1, timeout: float = 5.0
    ) -> Delivery:
        """The `count`-th finished delivery of `event_type` (short `CallConnected` or full name)."""
        found = self.wait_until(
            lambda: self._matching_deliveries(event_type, call_id)[count - 1 : count],
            timeout,
            f"delivery #{count} of {event_type}",
        )
        return found[0]

    def wait_for_timeline(
        self, call_id: str, kind: TimelineKind | str, *, count: int = 1, timeout: float = 5.0
    ) -> TimelineEvent:
        wanted = TimelineKind(kind)
        found = self.wait_until(
            lambda: [e for e in self.timeline(call_id) if e.kind is wanted][count - 1 : count],
            timeout,
            f"timeline event #{count} {wanted.value} of call {call_id}",
        )
        return found[0]

    def wait_for_bot_audio(self, call_id: str, min_bytes: int, timeout: float = 5.0) -> bytes:
        return self.wait_until(
            lambda: audio if len(audio := self.bot_audio(call_id)) >= min_bytes else None,
            timeout,
            f"{min_bytes} bytes of bot audio heard on call {call_id}",
        )

    def wait_for_deliveries_idle(self, timeout: float = 5.0) -> None:
        """Every queued delivery is finished."""
        self.wait_until(
            lambda: all(d.done for d in list(self._board.deliveries)), timeout, "the deliveries to finish"
        )
