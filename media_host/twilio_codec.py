"""Twilio Media Streams behind the media seam (media_host/codec.py): JSON text messages, G.711 mu-law
at 8 kHz, mono.

Phone -> bot: `connected`, `start` (the stream's sid, media format and custom parameters), `media` (a
base64 mu-law payload), `dtmf` (a digit), `mark` (a mark the bot sent was played) and `stop`. Bot ->
phone: `media` (the payload of the bot's audio), `mark` (after each sentence's audio) and `clear` (drop
the audio not played yet), all naming the stream.

The bot's audio stays 16-bit PCM at 8 kHz up to the message (the playback paces it and measures its
level for the echo guard); it is mu-law encoded when written. Served by the media host's `/twilio/ws`
route (media_host/app.py), which reads the call and its credentials from the `start` event
(`TwilioStart`).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from media_host.codec import CallerAudio, FrameCounts, Inbound, KeyPressed
from media_host.protocol import DTMF_TONES, frame_bytes
from shared.speech.audio import StreamResampler
from shared.speech.base import SAMPLE_RATE
from shared.telemetry import record

log = logging.getLogger(__name__)

TWILIO_RATE = 8_000
_BIAS = 0x84
_CLIP = 32_636  # 8159 on 14 bits
_IGNORED = frozenset(("connected", "stop"))


@dataclass(frozen=True)
class TwilioStart:
    """What a `start` event says: the stream, and the custom parameters the <Stream> was given."""

    stream_sid: str
    parameters: dict[str, str]


def is_connected(message: str | bytes) -> bool:
    """The `connected` event Twilio sends first."""
    try:
        event = json.loads(message)
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(event, dict) and event.get("event") == "connected"


def read_start(message: str | bytes) -> TwilioStart:
    """The `start` event of a Twilio stream; ValueError (a plain reason) for anything else."""
    try:
        event = json.loads(message)
    except (ValueError, UnicodeDecodeError):
        raise ValueError("not a JSON message") from None
    if (
        not isinstance(event, dict)
        or event.get("event") != "start"
        or not isinstance(event.get("start"), dict)
    ):
        raise ValueError("expected the stream's start event")
    start: dict[str, Any] = event["start"]
    media_format = start.get("mediaFormat") or {}
    if not isinstance(media_format, dict) or (
        media_format.get("encoding", "audio/x-mulaw") != "audio/x-mulaw"
        or str(media_format.get("sampleRate", TWILIO_RATE)) != str(TWILIO_RATE)
    ):
        raise ValueError("unsupported media format (audio/x-mulaw at 8000 Hz only)")
    parameters = start.get("customParameters") or {}
    if not isinstance(parameters, dict):
        raise ValueError("customParameters is not an object")
    sid = start.get("streamSid") or event.get("streamSid")
    if not isinstance(sid, str) or not sid:
        raise ValueError("the start event names no streamSid")
    return TwilioStart(sid, {str(k): str(v) for k, v in parameters.items() if isinstance(v, str | int)})


def _decode_table() -> np.ndarray[Any, np.dtype[np.int16]]:
    code = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent = (code >> 4) & 0x07
    magnitude = (((code & 0x0F) << 3) + _BIAS << exponent) - _BIAS
    return np.where(code & 0x80, -magnitude, magnitude).astype(np.int16)


def _encode_table() -> np.ndarray[Any, np.dtype[np.uint8]]:
    """G.711 on the 14 most significant bits, as the reference encoder does (CCITT / Sun g711.c)."""
    sample = np.arange(-32_768, 32_768, dtype=np.int32) >> 2
    negative = sample < 0
    magnitude = np.minimum(np.where(negative, -sample, sample), _CLIP >> 2) + (_BIAS >> 2)
    segment = np.searchsorted(np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF]), magnitude)
    code = np.where(
        segment < 8, (segment << 4) | ((magnitude >> (segment + 1)) & 0x0F), 0x7F
    )  # 0x7F: clipped
    return (code ^ np.where(negative, 0x7F, 0xFF)).astype(np.uint8)


_ULAW_TO_PCM = _decode_table()
_PCM_TO_ULAW = _encode_table()


def ulaw_to_pcm(ulaw: bytes) -> bytes:
    """G.711 mu-law bytes -> 16-bit little-endian PCM."""
    return _ULAW_TO_PCM[np.frombuffer(ulaw, dtype=np.uint8)].astype("<i2").tobytes()


def pcm_to_ulaw(pcm: bytes) -> bytes:
    """16-bit little-endian PCM -> G.711 mu-law bytes."""
    samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2").astype(np.int32)
    return _PCM_TO_ULAW[samples + 32_768].tobytes()


class TwilioCodec:
    """Twilio Media Streams: mu-law at 8 kHz, resampled to and from the call's 16 kHz."""

    def __init__(self, call_id: object = None) -> None:
        self.counts = FrameCounts()
        self.stream_sid = ""
        self._call_id = call_id
        self._inbound = StreamResampler(TWILIO_RATE, SAMPLE_RATE)
        self._outbound = StreamResampler(SAMPLE_RATE, TWILIO_RATE)

    @property
    def frame_bytes(self) -> int:
        return frame_bytes(TWILIO_RATE)  # 320 bytes of 8 kHz PCM16 (160 mu-law bytes on the wire)

    def decode(self, message: str | bytes) -> Inbound | None:
        try:
            return self._decode(message)
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            self.counts.dropped += 1
            record.frame_dropped()
            log.debug("call %s: frame dropped: %r", self._call_id, exc)
            return None

    def _decode(self, message: str | bytes) -> Inbound | None:
        event: dict[str, Any] = json.loads(message)
        kind = event["event"]
        if kind == "media":
            media = event["media"]
            if media.get("track", "inbound") != "inbound":
                return None
            ulaw = base64.b64decode(media["payload"], validate=True)
            self.counts.frames_in += 1
            return CallerAudio(self._inbound.process(ulaw_to_pcm(ulaw)))
        if kind == "dtmf":
            digit = str(event["dtmf"]["digit"]).upper()
            if len(digit) != 1 or digit not in DTMF_TONES:
                raise ValueError(f"bad DTMF digit: {digit[:8]!r}")
            return KeyPressed(digit)
        if kind == "start":
            self.stream_sid = read_start(message).stream_sid
            return None
        if kind == "mark":
            name = event["mark"]["name"]
            if not isinstance(name, str):
                raise ValueError("a mark without a name")
            self.counts.marks += 1
            return None
        if kind in _IGNORED:
            return None
        raise ValueError(f"unknown event: {str(kind)[:40]!r}")

    def to_wire(self, pcm: bytes) -> bytes:
        return self._outbound.process(pcm)

    def audio_message(self, frame: bytes) -> str:
        payload = base64.b64encode(pcm_to_ulaw(frame)).decode("ascii")
        return json.dumps(
            {"event": "media", "streamSid": self.stream_sid, "media": {"payload": payload}},
            separators=(",", ":"),
        )

    def stop_message(self) -> str:
        return json.dumps({"event": "clear", "streamSid": self.stream_sid}, separators=(",", ":"))

    def mark_message(self, name: str) -> str | None:
        return json.dumps(
            {"event": "mark", "streamSid": self.stream_sid, "mark": {"name": name}}, separators=(",", ":")
        )
