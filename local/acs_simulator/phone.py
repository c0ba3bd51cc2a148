"""The caller's phone on the media websocket: what ACS does between a phone and the bot.

It connects to the call's `transportUrl` with `x-ms-call-connection-id`, `x-ms-call-correlation-id` and
`Authorization: Bearer <JWT>`, sends AudioMetadata, then one AudioData frame per 20 ms tick (paced by the
call's `speed`): scripted speech, else silence (`silent: true`, zero PCM), plus, in echo mode, the bot
audio being played, attenuated. The bot's AudioData goes to a jitter buffer played one frame per tick, so
what was "heard" is what was played; StopAudio empties the buffer at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from local.acs_simulator.audio import is_silent, mix, resample
from local.acs_simulator.state import MediaOptions, SimCall, TimelineKind
from media_host.protocol import (
    ProtocolError,
    StopAudio,
    encode_audio_data,
    encode_audio_metadata,
    encode_dtmf,
    frame_bytes,
    parse_outbound,
)

__all__ = ["FRAME_S", "IDLE_TICK_S", "Phone", "PhoneHooks"]

FRAME_S = 0.02
IDLE_TICK_S = 0.005
"""At speed 0, the pause between silent frames when there is nothing to say or play."""
_MAX_LAG_S = 0.2


class PhoneHooks(Protocol):
    """What the switchboard learns from a phone."""

    def media_started(self, phone: Phone) -> None: ...

    def media_failed(self, phone: Phone, reason: str) -> None: ...

    def media_ended(self, phone: Phone) -> None: ...


class Phone:
    """One media stream of one call; `start()` on the simulator's loop, `aclose()` to hang it up."""

    def __init__(
        self,
        call: SimCall,
        media: MediaOptions,
        token: Callable[[], str],
        hooks: PhoneHooks,
        *,
        operation_context: str | None = None,
        callback_url: str | None = None,
    ) -> None:
        self.call, self.media, self._token, self._hooks = call, media, token, hooks
        self.operation_context, self.callback_url = operation_context, callback_url
        self.sample_rate = media.sample_rate
        self.frame_bytes = frame_bytes(self.sample_rate)
        self.stop_requested = False
        self._silence = bytes(self.frame_bytes)
        self._jitter = bytearray()
        self._control: deque[str] = deque()
        self._speech: bytes | None = None
        self._speech_at = 0
        self._awaiting_reply = True
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._live = bytearray()
        self.listeners: list[Callable[[bytes], None]] = []
        """Called with each frame of bot audio the caller hears (the softphone relays it)."""

    @property
    def connected(self) -> bool:
        return self._ws is not None

    def start(self) -> None:
        name = f"phone:{self.call.call_connection_id}"
        self._task = asyncio.get_running_loop().create_task(self._run(), name=name)

    def send_dtmf(self, tone: str) -> None:
        """Stream a DtmfData message (when the stream enables DTMF tones)."""
        if self.media.enable_dtmf_tones:
            self._control.append(encode_dtmf(tone))

    def feed_live(self, pcm: bytes, sample_rate: int) -> None:
        """Live caller audio (the softphone's microphone), sent when no scripted speech is queued."""
        self._live.extend(resample(pcm, sample_rate, self.sample_rate))
        excess = len(self._live) - 2 * self.sample_rate  # keep at most 1 s: drop the oldest
        if excess > 0:
            del self._live[:excess]

    async def aclose(self) -> None:
        """Close the websocket and end the phone's task."""
        ws, task = self._ws, self._task
        if ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 2)
        if task is not None and not task.done():
            await asyncio.wait({task}, timeout=2)  # the closed socket ends the task
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        call = self.call
        headers = {
            "x-ms-call-connection-id": call.call_connection_id,
            "x-ms-call-correlation-id": call.correlation_id,
            "Authorization": f"Bearer {self._token()}",
        }
        try:
            ws = await connect(
                self.media.transport_url,
                additional_headers=headers,
                open_timeout=5,
                close_timeout=1,
                max_size=2**20,
                proxy=None,
            )
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            self._hooks.media_failed(self, f"{type(exc).__name__}: {exc}")
            return
        self._ws = ws
        self._hooks.media_started(self)
        loops: list[asyncio.Task[None]] = []
        try:
            await ws.send(encode_audio_metadata(call.media_subscription_id, sample_rate=self.sample_rate))
            loops = [asyncio.create_task(self._send_loop(ws)), asyncio.create_task(self._receive_loop(ws))]
            await asyncio.wait(loops, return_when=asyncio.FIRST_COMPLETED)
        except ConnectionClosed:
            pass
        finally:
            self._ws = None
            for task in loops:
                task.cancel()
            try:
                await asyncio.gather(*loops, return_exceptions=True)
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(ws.close(), 2)
            finally:  # even when cancelled
                self._hooks.media_ended(self)

    def _next_speech_frame(self) -> tuple[bytes, bool, bool]:
        """(caller frame, an utterance starts with it, an utterance ends with it)."""
        started = False
        if self._speech is None and self.call.pending_speech:
            pcm, rate = self.call.pending_speech.popleft()
            self._speech, self._speech_at, started = resample(pcm, rate, self.sample_rate), 0, True
        if self._speech is None:
            if len(self._live) >= self.frame_bytes:
                live = bytes(self._live[: self.frame_bytes])
                del self._live[: self.frame_bytes]
                return live, False, False
            return self._silence, False, False
        size = self.frame_bytes
        frame = self._speech[self._speech_at : self._speech_at + size]
        self._speech_at += size
        ended = self._speech_at >= len(self._speech)
        if ended:
            self._speech = None
        return frame + bytes(size - len(frame)), started, ended

    def _play_frame(self) -> bytes:
        """Up to one frame of bot audio out of the jitter buffer: what the caller hears this tick."""
        if not self._jitter:
            return b""
        played = bytes(self._jitter[: self.frame_bytes])
        del self._jitter[: self.frame_bytes]
        self.call.audio.heard.extend(played)
        for listener in self.listeners:
            listener(played)
        return played

    async def _send_loop(self, ws: ClientConnection) -> None:
        call, audio = self.call, self.call.audio
        raw_id = f"4:{call.caller}"
        loop = asyncio.get_running_loop()
        next_tick = loop.time()
        while True:
            while self._control:
                await ws.send(self._control.popleft())
            frame, started, ended = self._next_speech_frame()
            played = self._play_frame()
            if played and call.echo_gain > 0:
                frame = mix(frame, played, call.echo_gain)
            if started:
                call.mark(TimelineKind.CALLER_SPEECH_START)
            message = encode_audio_data(frame, datetime.now(UTC), raw_id, silent=is_silent(frame))
            await ws.send(message)
            if ended:
                call.mark(TimelineKind.CALLER_SPEECH_END)
                self._awaiting_reply = True
            audio.sent.extend(frame)
            if audio.capturing:
                audio.mixed.extend(mix(frame, played))
            next_tick = await self._pace(loop, next_tick)

    async def _pace(self, loop: asyncio.AbstractEventLoop, next_tick: float) -> float:
        speed = self.call.speed
        if speed <= 0:
            busy = self._speech is not None or self.call.pending_speech or self._jitter
            await asyncio.sleep(0 if busy else IDLE_TICK_S)
            return loop.time()
        next_tick += FRAME_S / speed
        delay = next_tick - loop.time()
        if delay < -_MAX_LAG_S:  # fell far behind (a slow machine): do not burst to catch up
            next_tick = loop.time()
        await asyncio.sleep(max(0.0, delay))
        return next_tick

    async def _receive_loop(self, ws: ClientConnection) -> None:
        call = self.call
        async for message in ws:
            if isinstance(message, bytes):
                call.protocol_errors.append("binary message: ACS media messages are JSON text")
                continue
            try:
                parsed = parse_outbound(message)
            except ProtocolError as exc:
                call.protocol_errors.append(str(exc))
                continue
            if not self.media.bidirectional:
                call.protocol_errors.append(f"{parsed.kind} on a stream without enableBidirectional")
                continue
            if isinstance(parsed, StopAudio):
                dropped = len(self._jitter)
                self._jitter.clear()
                call.mark(TimelineKind.STOP_AUDIO, dropped_bytes=dropped)
            elif parsed.pcm:
                if self._awaiting_reply:
                    self._awaiting_reply = False
                    call.mark(TimelineKind.BOT_AUDIO_FIRST_FRAME)
                self._jitter.extend(parsed.pcm)
                call.audio.received_bytes += len(parsed.pcm)
