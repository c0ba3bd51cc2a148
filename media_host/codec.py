"""The seam between a telephony wire protocol and the call: a codec turns the phone's messages into
16 kHz caller audio and key presses, and the bot's 16 kHz audio into the phone's messages.

The call (media_host/session.py) and the bot's playback (media_host/playback.py) speak only in these
terms; one codec per wire protocol knows the messages, the wire's audio format and its resampling.
`AcsCodec` speaks Azure Communication Services media streaming (media_host/protocol.py): PCM16 at the
rate its AudioMetadata announces (16 or 24 kHz). A codec is per call: its resamplers keep state.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from media_host import protocol
from shared.speech.audio import StreamResampler
from shared.speech.base import SAMPLE_RATE
from shared.telemetry import record

log = logging.getLogger(__name__)

ACS_RATES = (16_000, 24_000)


@dataclass(slots=True)  # not frozen: built for every frame, and a frozen init costs more
class CallerAudio:
    """A piece of the caller's voice, as 16 kHz mono PCM16."""

    pcm: bytes


@dataclass(frozen=True, slots=True)
class KeyPressed:
    """A phone key the caller pressed (0-9, *, #, A-D)."""

    tone: str


Inbound = CallerAudio | KeyPressed


@dataclass
class FrameCounts:
    """What came in from the phone: audio frames taken, messages dropped (malformed or unsupported),
    marks answered (the bot audio before them was played; protocols with marks only)."""

    frames_in: int = 0
    dropped: int = 0
    marks: int = 0


class Codec(Protocol):
    """One wire protocol of a call's media stream, seen from the bot."""

    counts: FrameCounts

    @property
    def frame_bytes(self) -> int:
        """Bytes of one 20 ms outbound frame in the wire's audio format."""
        ...

    def decode(self, message: str | bytes) -> Inbound | None:
        """What a phone message means for the call; None for one that carries nothing for it
        (a format announcement) or that is dropped (counted)."""
        ...

    def to_wire(self, pcm: bytes) -> bytes:
        """A piece of the bot's 16 kHz audio in the wire's audio format (a stream: call in order).
        From the first call on, the wire format is fixed for the rest of the call."""
        ...

    def audio_message(self, frame: bytes) -> str:
        """The message carrying one wire-format frame of bot audio."""
        ...

    def stop_message(self) -> str:
        """The message asking the phone to drop the bot audio it has not played yet."""
        ...

    def mark_message(self, name: str) -> str | None:
        """The message marking the end of a piece of bot audio (the phone answers it once that audio
        was played), or None when the protocol has no marks."""
        ...


class AcsCodec:
    """ACS media streaming: JSON text messages, PCM16 at 16 or 24 kHz (see media_host/protocol.py)."""

    def __init__(self, call_id: object = None) -> None:
        self.counts = FrameCounts()
        self.wire_rate = SAMPLE_RATE
        self._call_id = call_id
        self._inbound: StreamResampler | None = None
        self._outbound: StreamResampler | None = None
        self._frame_bytes = protocol.frame_bytes(SAMPLE_RATE)
        self._locked = False  # the bot spoke in the wire format: a late AudioMetadata keeps it

    @property
    def frame_bytes(self) -> int:
        return self._frame_bytes

    def decode(self, message: str | bytes) -> Inbound | None:
        try:
            parsed = protocol.parse_inbound(message)
        except protocol.ProtocolError as exc:
            self.counts.dropped += 1
            record.frame_dropped()
            log.debug("call %s: frame dropped: %s", self._call_id, exc)
            return None
        if isinstance(parsed, protocol.AudioData):
            self.counts.frames_in += 1
            return CallerAudio(self._inbound.process(parsed.pcm) if self._inbound else parsed.pcm)
        if isinstance(parsed, protocol.DtmfData):
            return KeyPressed(parsed.tone)
        self._set_wire_rate(parsed.sample_rate)
        return None

    def _set_wire_rate(self, rate: int) -> None:
        if rate not in ACS_RATES:
            self.counts.dropped += 1
            return
        if self._locked:
            return
        self.wire_rate = rate
        self._inbound = StreamResampler(rate, SAMPLE_RATE) if rate != SAMPLE_RATE else None
        self._outbound = StreamResampler(SAMPLE_RATE, rate) if rate != SAMPLE_RATE else None
        self._frame_bytes = protocol.frame_bytes(rate)

    def to_wire(self, pcm: bytes) -> bytes:
        self._locked = True
        return self._outbound.process(pcm) if self._outbound else pcm

    def audio_message(self, frame: bytes) -> str:
        return protocol.audio_data(frame)

    def stop_message(self) -> str:
        return protocol.stop_audio()

    def mark_message(self, name: str) -> str | None:
        return None  # ACS media streaming has no marks
