"""One call's outbound audio: 20 ms frames sent at real time (with a small lead), and a priority lane.

The player task sends queued bot audio as it becomes due, so the phone's buffer stays short; `stop()`
drops everything queued and sends StopAudio at once, overtaking the queue (barge-in).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from media_host.codec import Codec
from shared.speech.audio import level_dbfs

FRAME_MS = 20
DEFAULT_LEAD_SEC = 0.1
LEVEL_WINDOW = 10  # frames (200 ms) of sent audio remembered for the echo guard

Send = Callable[[str], Awaitable[None]]


@dataclass
class _Item:
    ticket: int
    pcm: bytes
    on_start: Callable[[float], None] | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    sent: int = 0  # bytes sent to the phone
    dropped: bool = False  # stopped (barge-in) before all of it was sent


class Playback:
    def __init__(
        self,
        send: Send,
        codec: Codec,
        *,
        lead_sec: float = DEFAULT_LEAD_SEC,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._send = send
        self._codec = codec  # the wire's frame size and messages
        self._lead = lead_sec
        self._clock = clock
        self._queue: deque[_Item] = deque()
        self._wakeup = asyncio.Event()
        self._tickets = 0
        self._next_due = 0.0
        self._levels: deque[float] = deque(maxlen=LEVEL_WINDOW)
        self.frames_sent = 0
        self.late_frames = 0  # frames sent more than two frame times after their due time
        self._resuming = True  # the first frame after an idle gap is not late: there was nothing to send
        self.stops_sent = 0
        self._stopped: list[_Item] = []  # what the last stop dropped

    @property
    def frame_bytes(self) -> int:
        return self._codec.frame_bytes

    @property
    def playing(self) -> bool:
        """Audio is queued or still being heard (sent frames whose play time has not passed)."""
        return bool(self._queue) or self._clock() < self._next_due

    async def wait_heard(self) -> None:
        """Return once everything sent has had time to play (the lead included)."""
        remaining = self._next_due - self._clock()
        if self._queue or remaining > 0:
            await asyncio.sleep(max(remaining, FRAME_MS / 1000))
            if self._queue:
                await self._queue[-1].done.wait()
                await asyncio.sleep(max(0.0, self._next_due - self._clock()))

    def echo_level_dbfs(self) -> float | None:
        """Loudest recent outbound level while playing: the ceiling of any echo of it."""
        return max(self._levels) if self.playing and self._levels else None

    def enqueue(self, pcm: bytes, *, on_start: Callable[[float], None] | None = None) -> asyncio.Event:
        """Queue wire-rate PCM16; the returned event is set once all of it was sent (or dropped).
        `on_start(send_time)` is called when its first frame goes out (per-turn latency)."""
        if len(pcm) % self.frame_bytes:
            pcm += b"\x00" * (self.frame_bytes - len(pcm) % self.frame_bytes)
        self._tickets += 1
        item = _Item(self._tickets, pcm, on_start)
        self._queue.append(item)
        self._wakeup.set()
        return item.done

    def heard_share(self, done: asyncio.Event) -> float | None:
        """How much of a queued audio (its `enqueue` event) reached the phone: 1.0 unless a stop
        dropped it, then the share sent before the stop; None when it is no longer queued or playing."""
        for item in self._stopped:
            if item.done is done:
                return item.sent / len(item.pcm) if item.pcm else 1.0
        return None

    async def stop(self) -> bool:
        """Drop the queue and tell the phone to drop its buffer. True when something was playing."""
        was_playing = self.playing
        self._stopped = []
        while self._queue:
            item = self._queue.popleft()
            item.dropped = True
            self._stopped.append(item)
            item.done.set()
        self._next_due = 0.0
        self._levels.clear()
        if was_playing:
            self.stops_sent += 1
            await self._send(self._codec.stop_message())
        return was_playing

    async def run(self) -> None:
        """The player task (owned by the call session)."""
        while True:
            if not self._queue:
                self._wakeup.clear()
                self._resuming = True
                await self._wakeup.wait()
                continue
            item = self._queue[0]
            offset = 0
            while offset < len(item.pcm) and self._queue and self._queue[0] is item:
                now = self._clock()
                if self._next_due < now:  # idle gap, or we fell behind: restart the clock now
                    if not self._resuming and now - self._next_due > FRAME_MS / 1000 * 2:
                        self.late_frames += 1
                    self._next_due = now
                self._resuming = False
                wait = self._next_due - now - self._lead
                if wait > 0:
                    await asyncio.sleep(wait)
                    continue
                if offset == 0 and item.on_start is not None:
                    item.on_start(self._clock())
                frame = item.pcm[offset : offset + self.frame_bytes]
                offset += self.frame_bytes
                self._levels.append(level_dbfs(frame))
                await self._send(self._codec.audio_message(frame))
                item.sent = offset
                self.frames_sent += 1
                self._next_due += FRAME_MS / 1000
            if self._queue and self._queue[0] is item:
                self._queue.popleft()
            item.done.set()
            mark = None if item.dropped else self._codec.mark_message(f"audio-{item.ticket}")
            if mark is not None:  # the phone answers it once this audio was played
                await self._send(mark)
