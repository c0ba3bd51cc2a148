"""PCM16 helpers: resampling (one-shot and streaming), level, framing, silence and WAV files.

All PCM here is mono signed 16-bit little-endian. Resampling uses soxr on int16 samples directly.
"""

from __future__ import annotations

import io
import math
import struct
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soxr  # type: ignore[import-untyped]

from shared.speech.base import SAMPLE_RATE, SAMPLE_WIDTH

__all__ = [
    "StreamResampler",
    "WavHeader",
    "frames",
    "level_dbfs",
    "parse_wav_header",
    "read_wav",
    "resample",
    "rms_dbfs",
    "silence",
    "wav_bytes",
    "write_wav",
]

_INT16 = np.dtype("<i2")


def _samples(pcm: bytes) -> npt.NDArray[np.int16]:
    if len(pcm) % SAMPLE_WIDTH:
        raise ValueError(f"PCM16 needs an even number of bytes, got {len(pcm)}")
    return np.frombuffer(pcm, dtype=_INT16)


def _check_rates(from_rate: int, to_rate: int) -> None:
    if from_rate <= 0 or to_rate <= 0:
        raise ValueError(f"sample rates must be positive, got {from_rate} -> {to_rate}")


def resample(pcm: bytes, from_rate: int, to_rate: int) -> bytes:
    """Resample a whole clip of PCM16 (int16 in, int16 out)."""
    _check_rates(from_rate, to_rate)
    samples = _samples(pcm)
    if from_rate == to_rate or samples.size == 0:
        return bytes(pcm)
    out: npt.NDArray[np.int16] = soxr.resample(samples, from_rate, to_rate)
    return out.astype(_INT16, copy=False).tobytes()


class StreamResampler:
    """One stream's resampler: `process()` chunks as they arrive (any size, even odd byte counts),
    keeping the filter state across chunks; `flush()` once at the end for the filter's tail."""

    def __init__(self, from_rate: int, to_rate: int) -> None:
        _check_rates(from_rate, to_rate)
        self.from_rate = from_rate
        self.to_rate = to_rate
        self._stream: soxr.ResampleStream | None = (
            None if from_rate == to_rate else soxr.ResampleStream(from_rate, to_rate, 1, dtype="int16")
        )
        self._carry = b""  # an odd trailing byte waiting for its pair
        self._done = False

    def process(self, chunk: bytes, *, last: bool = False) -> bytes:
        if self._done:
            raise ValueError("the stream was flushed; create a new StreamResampler")
        data = self._carry + bytes(chunk)
        cut = len(data) - len(data) % SAMPLE_WIDTH
        self._carry = data[cut:]
        data = data[:cut]
        if last:
            self._done = True
            self._carry = b""
        if self._stream is None:
            return data
        out: npt.NDArray[np.int16] = self._stream.resample_chunk(np.frombuffer(data, dtype=_INT16), last=last)
        return out.astype(_INT16, copy=False).tobytes()

    def flush(self) -> bytes:
        """The samples still inside the filter; the stream is finished afterwards."""
        return self.process(b"", last=True)


def rms_dbfs(pcm: bytes) -> float:
    """Root-mean-square level in dB relative to full scale (-inf for empty or digital silence)."""
    samples = _samples(pcm)
    if samples.size == 0:
        return -math.inf
    rms = float(np.sqrt(np.mean(np.square(samples.astype(np.float64)))))
    return -math.inf if rms == 0.0 else 20.0 * math.log10(rms / 32768.0)


SILENT_DBFS = -120.0


def level_dbfs(pcm: bytes) -> float:
    """`rms_dbfs` floored at -120 dBFS (digital silence), a trailing odd byte ignored: the cheap level
    the media loop compares frames with, several times per 32 ms window and call."""
    samples = np.frombuffer(pcm, dtype=_INT16, count=len(pcm) // SAMPLE_WIDTH).astype(np.float32)
    if not samples.size:
        return SILENT_DBFS
    mean_square = float(np.dot(samples, samples)) / samples.size
    return 10.0 * math.log10(mean_square / 32768.0**2) if mean_square > 1e-3 else SILENT_DBFS


def frames(pcm: bytes, frame_bytes: int, *, pad: bool = False) -> Iterator[bytes]:
    """Consecutive `frame_bytes` slices of `pcm`; a short tail is dropped, or zero-padded with `pad`."""
    if frame_bytes <= 0 or frame_bytes % SAMPLE_WIDTH:
        raise ValueError(f"frame_bytes must be a positive even number, got {frame_bytes}")
    full = len(pcm) - len(pcm) % frame_bytes
    for start in range(0, full, frame_bytes):
        yield pcm[start : start + frame_bytes]
    if pad and full < len(pcm):
        tail = pcm[full:]
        yield tail + b"\x00" * (frame_bytes - len(tail))


def silence(ms: float, rate: int = SAMPLE_RATE) -> bytes:
    """`ms` milliseconds of digital silence."""
    return b"\x00" * (round(rate * ms / 1000) * SAMPLE_WIDTH)


def _downmix(raw: bytes, channels: int) -> bytes:
    if channels == 1:
        return raw
    interleaved = _samples(raw)
    usable = interleaved.size - interleaved.size % channels
    mixed: npt.NDArray[np.float64] = interleaved[:usable].reshape(-1, channels).astype(np.int32).mean(axis=1)
    return mixed.astype(_INT16).tobytes()


def read_wav(source: Path | str | bytes) -> tuple[bytes, int]:
    """(mono PCM16, sample rate) of a 16-bit WAV file or WAV bytes; several channels are averaged."""
    handle = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115
    with handle, wave.open(handle, "rb") as wav:
        if wav.getsampwidth() != SAMPLE_WIDTH:
            raise ValueError(f"only 16-bit WAV is supported, got {8 * wav.getsampwidth()}-bit")
        channels, rate = wav.getnchannels(), wav.getframerate()
        raw = wav.readframes(wav.getnframes())
    raw = raw[: len(raw) - len(raw) % (SAMPLE_WIDTH * channels)]
    return _downmix(raw, channels), rate


def wav_bytes(pcm: bytes, rate: int = SAMPLE_RATE) -> bytes:
    """A mono 16-bit WAV file holding `pcm`."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(SAMPLE_WIDTH)
        wav.setframerate(rate)
        wav.writeframes(pcm)
    return buffer.getvalue()


def write_wav(path: Path | str, pcm: bytes, rate: int = SAMPLE_RATE) -> None:
    Path(path).write_bytes(wav_bytes(pcm, rate))


@dataclass(frozen=True)
class WavHeader:
    rate: int
    channels: int
    sample_width: int
    data_offset: int
    """Where the samples start in the stream."""


def parse_wav_header(head: bytes) -> WavHeader | None:
    """The format of a WAV stream from its first bytes, or None while more bytes are needed.

    For WAV written to a pipe (e.g. `espeak-ng --stdout`), whose size fields are placeholders: the
    data chunk is taken to run to the end of the stream. Raises ValueError when it is not WAV.
    """
    if len(head) < 12:
        return None
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise ValueError("not a RIFF/WAVE stream")
    offset = 12
    fmt: tuple[int, int, int] | None = None
    while len(head) >= offset + 8:
        chunk_id, size = head[offset : offset + 4], struct.unpack_from("<I", head, offset + 4)[0]
        body = offset + 8
        if chunk_id == b"data":
            if fmt is None:
                raise ValueError("WAV data chunk before its fmt chunk")
            return WavHeader(rate=fmt[1], channels=fmt[0], sample_width=fmt[2], data_offset=body)
        if len(head) < body + size:
            return None
        if chunk_id == b"fmt ":
            _tag, channels, rate, _byte_rate, _align, bits = struct.unpack_from("<HHIIHH", head, body)
            fmt = (channels, rate, bits // 8)
        offset = body + size + size % 2
    return None
