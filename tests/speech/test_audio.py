"""PCM helpers: resampling (one-shot and streaming), level, framing, silence, WAV."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest

from shared.speech.audio import (
    StreamResampler,
    frames,
    parse_wav_header,
    read_wav,
    resample,
    rms_dbfs,
    silence,
    wav_bytes,
    write_wav,
)
from shared.speech.base import VAD_FRAME_BYTES


def tone(rate: int, seconds: float, freq: float = 440.0, amplitude: float = 0.5) -> bytes:
    t = np.arange(round(rate * seconds)) / rate
    return (amplitude * 32767 * np.sin(2 * np.pi * freq * t)).astype("<i2").tobytes()


def as_array(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64)


def test_resample_round_trip_lengths_and_shape() -> None:
    original = tone(24_000, 1.0)
    down = resample(original, 24_000, 16_000)
    assert len(down) == 16_000 * 2
    back = resample(down, 16_000, 24_000)
    assert len(back) == len(original)
    # A 440 Hz tone survives the round trip (ignore the filter's edges).
    a, b = as_array(original)[1000:-1000], as_array(back)[1000:-1000]
    assert np.max(np.abs(a - b)) < 0.01 * 32767


def test_resample_same_rate_and_empty() -> None:
    pcm = tone(16_000, 0.1)
    assert resample(pcm, 16_000, 16_000) == pcm
    assert resample(b"", 24_000, 16_000) == b""
    with pytest.raises(ValueError, match="even"):
        resample(b"\x00", 24_000, 16_000)


def test_stream_resampler_matches_one_shot() -> None:
    """24 kHz ACS frames arrive 20 ms (960 bytes) at a time."""
    original = tone(24_000, 1.0, freq=300.0)
    stream = StreamResampler(24_000, 16_000)
    out = b"".join(stream.process(original[i : i + 960]) for i in range(0, len(original), 960))
    out += stream.flush()
    one_shot = resample(original, 24_000, 16_000)
    assert abs(len(out) - len(one_shot)) <= 2 * 4
    n = min(len(out), len(one_shot)) // 2
    a, b = as_array(out)[:n], as_array(one_shot)[:n]
    assert np.max(np.abs(a[200:-200] - b[200:-200])) < 0.01 * 32767


def test_stream_resampler_takes_odd_chunks_and_same_rate() -> None:
    original = tone(24_000, 0.2)
    stream = StreamResampler(24_000, 16_000)
    out = b"".join(stream.process(original[i : i + 333]) for i in range(0, len(original), 333))
    out += stream.flush()
    assert len(out) % 2 == 0
    assert abs(len(out) // 2 - 3200) <= 4
    with pytest.raises(ValueError, match="flushed"):
        stream.process(b"\x00\x00")
    passthrough = StreamResampler(16_000, 16_000)
    assert passthrough.process(b"\x01\x02\x03") == b"\x01\x02"
    assert passthrough.process(b"\x04") == b"\x03\x04"


def test_rms_dbfs() -> None:
    assert math.isinf(rms_dbfs(b"")) and rms_dbfs(b"") < 0
    assert math.isinf(rms_dbfs(silence(100)))
    full_scale_sine = tone(16_000, 1.0, amplitude=1.0)
    assert rms_dbfs(full_scale_sine) == pytest.approx(-3.01, abs=0.05)
    assert rms_dbfs(tone(16_000, 1.0, amplitude=0.1)) == pytest.approx(-23.01, abs=0.05)


def test_frames_and_silence() -> None:
    pcm = silence(100)  # 1600 samples = 3 frames of 512 and a 64-sample tail
    assert len(pcm) == 3200
    assert [len(f) for f in frames(pcm, VAD_FRAME_BYTES)] == [VAD_FRAME_BYTES] * 3
    padded = list(frames(pcm, VAD_FRAME_BYTES, pad=True))
    assert len(padded) == 4 and all(len(f) == VAD_FRAME_BYTES for f in padded)
    assert len(silence(20, rate=24_000)) == 960
    with pytest.raises(ValueError):
        list(frames(pcm, 3))


def test_wav_round_trip_and_downmix(tmp_path) -> None:
    pcm = tone(22_050, 0.25)
    path = tmp_path / "a.wav"
    write_wav(path, pcm, 22_050)
    assert read_wav(path) == (pcm, 22_050)
    assert read_wav(wav_bytes(pcm, 8000)) == (pcm, 8000)
    stereo = np.stack([np.full(10, 1000), np.full(10, 3000)], axis=1).astype("<i2").tobytes()
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + len(stereo),
        b"WAVE",
        b"fmt ",
        16,
        1,
        2,
        16_000,
        64_000,
        4,
        16,
        b"data",
        len(stereo),
    )
    mono, rate = read_wav(header + stereo)
    assert rate == 16_000 and as_array(mono).tolist() == [2000.0] * 10


def test_parse_wav_header_streaming_with_placeholder_sizes() -> None:
    """espeak-ng writes WAV to a pipe with placeholder sizes: the data runs to the end."""
    wav = bytearray(wav_bytes(tone(22_050, 0.1), 22_050))
    struct.pack_into("<I", wav, 4, 0x7FFFFFFF)
    struct.pack_into("<I", wav, 40, 0x7FFFF000)
    assert parse_wav_header(bytes(wav[:10])) is None
    assert parse_wav_header(bytes(wav[:30])) is None
    header = parse_wav_header(bytes(wav[:44]))
    assert header is not None
    assert (header.rate, header.channels, header.sample_width, header.data_offset) == (22_050, 1, 2, 44)
    with pytest.raises(ValueError):
        parse_wav_header(b"not a wave file at all")
