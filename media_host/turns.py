"""Caller turns from VAD decisions, one 32 ms frame at a time (per call, no I/O).

- An utterance starts after `start_ms` of speech (`cutoff_ms` while the bot speaks: that is a
  barge-in), with `preroll_ms` of audio from before the start so the first syllable is kept.
- A pause of `pause_ms` inside the utterance cuts a segment, transcribed while the caller goes on, so
  the transcript is nearly ready when the turn ends.
- The turn ends after `silence_ms` without speech (the `vad_silence_timeout_ms` flag).
- Echo guard: while the bot speaks, a frame counts as speech only if it is clearly louder than the
  echo the bot's own audio can make (`echo_margin_db` under the bot's recent output level).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from shared.speech.base import SAMPLE_RATE, VAD_FRAME_BYTES, VAD_FRAME_SAMPLES

FRAME_MS = VAD_FRAME_SAMPLES * 1000 / SAMPLE_RATE  # 32 ms


@dataclass(frozen=True)
class TurnConfig:
    threshold: float = 0.5
    start_ms: float = 96
    cutoff_ms: float = 250
    silence_ms: float = 500
    pause_ms: float = 200
    preroll_ms: float = 300
    max_utterance_ms: float = 30_000
    echo_margin_db: float = 16.0  # an echo 20 dB down never passes; a caller 16 dB below the bot does
    gap_tolerance_ms: float = 100  # short dips between syllables don't reset a starting utterance


@dataclass(frozen=True)
class SpeechStarted:
    at: float
    barge_in: bool


@dataclass(frozen=True)
class Segment:
    """Audio of the utterance since the previous cut, at an internal pause."""

    pcm: bytes


@dataclass(frozen=True)
class TurnEnded:
    """The rest of the utterance (empty when it was only the closing silence); `speech_end_at` is
    when the caller's last speech frame arrived."""

    pcm: bytes
    speech_end_at: float


TurnEvent = SpeechStarted | Segment | TurnEnded


@dataclass
class TurnDetector:
    config: TurnConfig = field(default_factory=TurnConfig)
    speaking: bool = False
    _preroll: deque[bytes] = field(default_factory=deque)
    _pending: list[bytes] = field(default_factory=list)
    _speech_run: int = 0
    _gap_run: int = 0
    _silence_run: int = 0
    _cut_at_this_pause: bool = False
    _utterance_frames: int = 0
    _last_speech_at: float = 0.0
    _pending_has_speech: bool = False

    def _frames(self, ms: float) -> int:
        return max(1, round(ms / FRAME_MS))

    def is_speech(self, probability: float, level_dbfs: float, echo_level_dbfs: float | None) -> bool:
        if probability < self.config.threshold:
            return False
        return echo_level_dbfs is None or level_dbfs > echo_level_dbfs - self.config.echo_margin_db

    def feed(self, frame: bytes, *, speech: bool, bot_speaking: bool, now: float) -> list[TurnEvent]:
        """One VAD frame and its decision (from `is_speech`); returns what happened."""
        if len(frame) != VAD_FRAME_BYTES:
            raise ValueError(f"a VAD frame is {VAD_FRAME_BYTES} bytes, got {len(frame)}")
        return (
            self._in_speech(frame, speech, now)
            if self.speaking
            else self._idle(frame, speech, bot_speaking, now)
        )

    def _idle(self, frame: bytes, speech: bool, bot_speaking: bool, now: float) -> list[TurnEvent]:
        self._preroll.append(frame)
        while len(self._preroll) > self._frames(self.config.preroll_ms):
            self._preroll.popleft()
        if speech:
            self._speech_run += 1
            self._gap_run = 0
        else:
            self._gap_run += 1
            if self._gap_run > self._frames(self.config.gap_tolerance_ms):
                self._speech_run = 0
        needed = self._frames(self.config.cutoff_ms if bot_speaking else self.config.start_ms)
        if self._speech_run < needed:
            return []
        self.speaking = True
        self._pending = list(self._preroll)
        self._preroll.clear()
        self._silence_run = 0
        self._cut_at_this_pause = False
        self._utterance_frames = len(self._pending)
        self._last_speech_at = now
        self._pending_has_speech = True
        return [SpeechStarted(at=now, barge_in=bot_speaking)]

    def _in_speech(self, frame: bytes, speech: bool, now: float) -> list[TurnEvent]:
        self._pending.append(frame)
        self._utterance_frames += 1
        if speech:
            self._silence_run = 0
            self._cut_at_this_pause = False
            self._last_speech_at = now
            self._pending_has_speech = True
        else:
            self._silence_run += 1
        too_long = self._utterance_frames >= self._frames(self.config.max_utterance_ms)
        if self._silence_run >= self._frames(self.config.silence_ms) or too_long:
            return [self._end()]
        if self._silence_run >= self._frames(self.config.pause_ms) and not self._cut_at_this_pause:
            self._cut_at_this_pause = True
            pcm, self._pending = self._take(), []
            return [Segment(pcm)] if pcm else []
        return []

    def _take(self) -> bytes:
        """The pending audio, or nothing when it holds no speech (the silence after a cut)."""
        pcm = b"".join(self._pending) if self._pending_has_speech else b""
        self._pending_has_speech = False
        return pcm

    def _end(self) -> TurnEnded:
        pcm = self._take()
        self._pending = []
        self.speaking = False
        self._speech_run = self._gap_run = 0
        return TurnEnded(pcm=pcm, speech_end_at=self._last_speech_at)

    def reset(self) -> None:
        self.speaking = False
        self._preroll.clear()
        self._pending = []
        self._speech_run = self._silence_run = 0
