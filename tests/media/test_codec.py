"""The ACS codec: the phone's messages to 16 kHz caller audio and keys, the bot's audio to messages, on
the wire protocol's golden messages (tests/media/test_protocol.py) and at both ACS rates."""

from __future__ import annotations

import math
import struct

import numpy as np

from media_host.codec import AcsCodec, CallerAudio, KeyPressed
from media_host.protocol import OutboundAudio, encode_audio_data, encode_audio_metadata, parse_outbound
from tests.media.test_protocol import AUDIO, BOT_AUDIO, BOT_STOP, DTMF, METADATA, PCM

STAMP = "2026-12-06T10:00:00Z"
CALLER = "4:+33612345678"


def sine(rate: int, seconds: float, hz: float = 440.0) -> bytes:
    count = int(rate * seconds)
    return struct.pack(
        f"<{count}h", *(int(8000 * math.sin(2 * math.pi * hz * i / rate)) for i in range(count))
    )


def peak_hz(pcm: bytes, rate: int) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * rate / len(samples))


def test_the_golden_messages_round_trip_at_16_khz() -> None:
    codec = AcsCodec()
    assert codec.decode(METADATA) is None  # a format announcement carries nothing for the call
    heard = codec.decode(AUDIO)
    assert heard == CallerAudio(PCM)
    assert codec.decode(DTMF) == KeyPressed("3")
    assert codec.audio_message(codec.to_wire(heard.pcm)) == BOT_AUDIO
    assert codec.stop_message() == BOT_STOP
    assert codec.frame_bytes == 640
    assert (codec.counts.frames_in, codec.counts.dropped) == (1, 0)


def test_24_khz_is_resampled_both_ways() -> None:
    codec = AcsCodec()
    assert codec.decode(encode_audio_metadata("sub-1", sample_rate=24_000)) is None
    assert codec.frame_bytes == 960
    caller = sine(24_000, 1.0)
    heard = b""
    for start in range(0, len(caller), 960):
        decoded = codec.decode(encode_audio_data(caller[start : start + 960], STAMP, CALLER))
        assert isinstance(decoded, CallerAudio)
        heard += decoded.pcm
    assert abs(len(heard) - 32_000) <= 2 * 640  # one second at 16 kHz, less what the filter holds
    assert abs(peak_hz(heard[3200:], 16_000) - 440) < 5

    bot = sine(16_000, 1.0, hz=1000.0)
    wire = b"".join(codec.to_wire(bot[start : start + 640]) for start in range(0, len(bot), 640))
    assert abs(len(wire) - 48_000) <= 2 * 960
    assert abs(peak_hz(wire[4800:], 24_000) - 1000) < 5
    message = parse_outbound(codec.audio_message(wire[:960]))
    assert message == OutboundAudio(pcm=wire[:960])


def test_bad_messages_and_unsupported_rates_are_dropped_and_counted() -> None:
    codec = AcsCodec()
    assert codec.decode("not json") is None
    assert codec.decode('{"kind":"AudioData","audioData":{"data":"@@"}}') is None
    assert codec.decode(encode_audio_metadata("sub-1", sample_rate=8_000)) is None
    assert codec.frame_bytes == 640  # the unsupported rate changed nothing
    assert codec.decode(AUDIO) == CallerAudio(PCM)
    assert (codec.counts.frames_in, codec.counts.dropped) == (1, 3)


def test_a_late_format_announcement_keeps_the_format_the_bot_speaks() -> None:
    codec = AcsCodec()
    assert codec.to_wire(PCM) == PCM  # the bot spoke at 16 kHz
    assert codec.decode(encode_audio_metadata("sub-1", sample_rate=24_000)) is None
    assert codec.frame_bytes == 640
    assert codec.decode(AUDIO) == CallerAudio(PCM)
    assert codec.counts.dropped == 0
