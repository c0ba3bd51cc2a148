"""Instant speech engines for media-loop tests and the load benchmark (not for real calls).

They keep the real interfaces and timing shape (chunked TTS, per-call VAD state) but cost nothing, so
what is measured is the media loop itself.
"""

from __future__ import annotations

import functools
import math
import struct
from collections import deque
from collections.abc import AsyncIterator, Iterable

from shared.speech.base import SAMPLE_RATE, Transcript

MS_PER_CHARACTER = 40
TTS_CHUNK_MS = 200


@functools.lru_cache(maxsize=256)
def tone(ms: float, *, frequency: float = 440.0, amplitude: float = 0.3, rate: int = SAMPLE_RATE) -> bytes:
    """A sine tone as PCM16 (speech-like enough for the energy VAD below)."""
    count = int(rate * ms / 1000)
    peak = int(32767 * amplitude)
    step = 2 * math.pi * frequency / rate
    return struct.pack(f"<{count}h", *(int(peak * math.sin(step * i)) for i in range(count)))


def silence(ms: float, rate: int = SAMPLE_RATE) -> bytes:
    return b"\x00\x00" * int(rate * ms / 1000)


class EnergyVoiceActivity:
    """Speech when the frame's RMS is above a level: deterministic and instant."""

    def __init__(self, threshold_dbfs: float) -> None:
        self._threshold = threshold_dbfs

    def speech_probability(self, frame: bytes) -> float:
        count = len(frame) // 2
        samples = struct.unpack(f"<{count}h", frame[: count * 2])
        rms = math.sqrt(sum(s * s for s in samples) / max(1, count)) / 32768
        level = 20 * math.log10(rms) if rms > 1e-6 else -120.0
        return 1.0 if level > self._threshold else 0.0

    def reset(self) -> None:
        return None


class EnergyVad:
    def __init__(self, threshold_dbfs: float = -40.0) -> None:
        self._threshold = threshold_dbfs

    def new_stream(self) -> EnergyVoiceActivity:
        return EnergyVoiceActivity(self._threshold)


class ScriptedStt:
    """Returns the scripted texts in order, one per transcribed segment (then empty strings)."""

    def __init__(self, texts: Iterable[str] = ()) -> None:
        self.texts: deque[str] = deque(texts)
        self.calls = 0

    async def transcribe(self, pcm: bytes, *, lang: str) -> Transcript:
        self.calls += 1
        return Transcript(text=self.texts.popleft() if self.texts else "", lang=lang)

    def supports(self, lang: str) -> bool:
        return True


class ToneTts:
    """A tone lasting MS_PER_CHARACTER per character, in TTS_CHUNK_MS chunks, instantly."""

    def __init__(self, *, amplitude: float = 0.3) -> None:
        self._amplitude = amplitude
        self.sentences: list[str] = []

    async def synthesize(
        self, text: str, *, lang: str, voice: str | None = None, speed: float = 1.0
    ) -> AsyncIterator[bytes]:
        self.sentences.append(text)
        pcm = tone(len(text) * MS_PER_CHARACTER / speed, frequency=300.0, amplitude=self._amplitude)
        step = int(SAMPLE_RATE * TTS_CHUNK_MS / 1000) * 2
        for start in range(0, len(pcm), step):
            yield pcm[start : start + step]

    def supports(self, lang: str) -> bool:
        return True
