"""16-bit mono PCM helpers for the simulated phone: mix, attenuate, resample, WAV files."""

from __future__ import annotations

import sys
import wave
from array import array
from pathlib import Path

__all__ = ["is_silent", "load_speech", "mix", "read_wav", "resample", "write_wav"]

_LITTLE = sys.byteorder == "little"
_MIN, _MAX = -32768, 32767


def _samples(pcm: bytes) -> array[int]:
    samples = array("h", pcm[: len(pcm) - len(pcm) % 2])
    if not _LITTLE:
        samples.byteswap()
    return samples


def _pcm(samples: array[int]) -> bytes:
    if not _LITTLE:
        samples = array("h", samples)
        samples.byteswap()
    return samples.tobytes()


def is_silent(pcm: bytes) -> bool:
    """True when every byte is zero (what a phone sends as `silent: true`)."""
    return pcm.count(0) == len(pcm)


def mix(base: bytes, other: bytes, gain: float = 1.0) -> bytes:
    """`base` plus `other` times `gain`, clipped to 16 bits; the result has the length of `base`."""
    if not other or gain == 0 or not base:
        return base
    mixed = _samples(base)
    extra = _samples(other)
    for index in range(min(len(mixed), len(extra))):
        value = mixed[index] + int(extra[index] * gain)
        mixed[index] = _MIN if value < _MIN else _MAX if value > _MAX else value
    return _pcm(mixed)


def resample(pcm: bytes, source_rate: int, target_rate: int) -> bytes:
    """Linear interpolation between rates: good enough for a simulated caller's voice."""
    if source_rate == target_rate or not pcm:
        return pcm
    source = _samples(pcm)
    count = len(source) * target_rate // source_rate
    step = source_rate / target_rate
    last = len(source) - 1
    out = array("h", bytes(2 * count))
    for index in range(count):
        position = index * step
        left = int(position)
        right = min(left + 1, last)
        fraction = position - left
        out[index] = int(source[left] + (source[right] - source[left]) * fraction)
    return _pcm(out)


def read_wav(path: Path | str) -> tuple[bytes, int]:
    """(PCM, sample rate) of a 16-bit mono WAV file."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
            raise ValueError(f"{path}: need 16-bit mono PCM WAV")
        return wav.readframes(wav.getnframes()), wav.getframerate()


def load_speech(audio: bytes | Path | str, sample_rate: int) -> bytes:
    """Caller speech at the call's rate: raw PCM is 16 kHz mono; a WAV path is read and resampled."""
    if isinstance(audio, bytes | bytearray):
        pcm, rate = bytes(audio), 16000
    else:
        pcm, rate = read_wav(audio)
    if len(pcm) % 2:
        raise ValueError("16-bit PCM needs an even number of bytes")
    return resample(pcm, rate, sample_rate)


def write_wav(path: Path, pcm: bytes, sample_rate: int) -> Path:
    """Write 16-bit mono PCM as a WAV file (parent folders created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm)
    return path
