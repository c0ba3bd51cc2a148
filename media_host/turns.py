"""Caller turns from VAD decisions, one 32 ms frame at a time (per call, no I/O).

- An utterance starts after `start_ms` of speech (`cutoff_ms` while the bot speaks: that is a
  barge-in), with `preroll_ms` of audio from before the start so the first syllable is kept. Speech
  is counted from its onset: one window just under the threshold (VAD probability at least
  `onset_threshold`) right before the first window over it counts, since silero's probability takes a
  window to rise once someone starts talking.
- A pause of `pause_ms` inside the utterance cuts a segment, transcribed while the caller goes on, so
  the transcript is nearly ready when the turn ends. Earlier, at `hint_ms` of a pause, a `Pause`
  event offers the audio since the last cut for a speculative transcription: the segment cut later in
  the same pause (or the turn's end) names that pause when nothing was said since, so the session can
  use the transcript already under way instead of starting over.
- The session may end the turn before `silence_ms` with `end_now()` (the end-of-turn decision of
  `media_host/end_of_turn.py`: finished words after a short pause).
- The turn ends after `silence_ms` without speech whatever was said (the session sets it to the
  longest wait of its end-of-turn policy: `vad_unfinished_timeout_ms`, or `vad_silence_timeout_ms`).
- Echo guard: while the bot speaks, a frame counts as speech only if it is clearly louder than the
  echo the bot's own audio can make on this line. Until the line is measured, "clearly louder" is
  within `echo_margin_db` of the bot's recent output level; the `EchoPath` then learns how far below
  the bot's level the line actually sends its echo back (none at all on most phones) and relaxes the
  guard to `echo_safety_db` above that, never stricter than the default.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from media_host.end_of_turn import TurnEndPolicy
from shared.flags.base import FeatureFlags
from shared.speech.audio import level_dbfs
from shared.speech.base import SAMPLE_RATE, VAD_FRAME_BYTES, VAD_FRAME_SAMPLES

FRAME_MS = VAD_FRAME_SAMPLES * 1000 / SAMPLE_RATE  # 32 ms


@dataclass(frozen=True)
class TurnConfig:
    threshold: float = 0.5
    onset_threshold: float = 0.35  # silero's own "still speech" level (threshold - 0.15)
    start_ms: float = 96
    cutoff_ms: float = 250
    silence_ms: float = 500
    pause_ms: float = 200
    hint_ms: float = 64  # two silent windows: the transcript and the answer start while the turn may end
    preroll_ms: float = 300
    max_utterance_ms: float = 30_000
    echo_margin_db: float = 16.0  # an echo 20 dB down never passes; a caller 16 dB below the bot does
    gap_tolerance_ms: float = 100  # short dips between syllables don't reset a starting utterance
    echo_safety_db: float = 6.0  # once the echo path is measured: how far over the echo speech must be

    @classmethod
    def from_flags(cls, flags: FeatureFlags) -> TurnConfig:
        """A call's turn settings from its flags: `vad_threshold` (and the onset level 0.15 under it),
        `vad_cutoff_timeout_ms` (0 honoured: one window of speech over the bot is a barge-in) and, as
        the silence that ends any turn, the longest wait of the end-of-turn policy (`longest_ms`)."""
        return cls(
            threshold=flags.vad_threshold,
            onset_threshold=max(0.0, round(flags.vad_threshold - 0.15, 3)),  # as silero's own, below it
            cutoff_ms=flags.vad_cutoff_timeout_ms,
            silence_ms=TurnEndPolicy.from_flags(flags).longest_ms,
        )


class EchoPath:
    """How much quieter than the bot's own output its echo comes back on this call's line.

    While the bot speaks, each window the guard did not take for caller speech is a sample of the echo
    path: the bot's reference level minus what came in. The loss is a low percentile of the recent
    samples (the strongest echo seen), once there are enough of them. Windows taken for caller speech
    are not samples, so talking over the bot does not make the guard stricter."""

    SAMPLES = 64  # ~2 s of bot speech
    MIN_SAMPLES = 16
    PERCENTILE = 0.1
    VOICED_REFERENCE_DBFS = -50.0  # the bot is really saying something (not a pause in its audio)

    def __init__(self) -> None:
        self._losses: deque[float] = deque(maxlen=self.SAMPLES)

    def observe(self, reference_dbfs: float, level: float) -> None:
        if reference_dbfs > self.VOICED_REFERENCE_DBFS:
            self._losses.append(reference_dbfs - level)

    @property
    def loss_db(self) -> float | None:
        """The measured echo return loss in dB, or None until measured."""
        if len(self._losses) < self.MIN_SAMPLES:
            return None
        ordered = sorted(self._losses)
        return ordered[int(len(ordered) * self.PERCENTILE)]


@dataclass(frozen=True)
class SpeechStarted:
    at: float
    barge_in: bool


@dataclass(frozen=True)
class Pause:
    """The caller paused: the audio since the previous cut, for a speculative transcription."""

    pcm: bytes
    number: int


@dataclass(frozen=True)
class Segment:
    """Audio of the utterance since the previous cut, at an internal pause; `pause` is the number of
    the `Pause` that offered the same speech (nothing said since), if any."""

    pcm: bytes
    pause: int | None = None


@dataclass(frozen=True)
class TurnEnded:
    """The rest of the utterance (empty when it was only the closing silence); `speech_end_at` is
    when the caller's last speech frame arrived; `pause` as for `Segment`."""

    pcm: bytes
    speech_end_at: float
    pause: int | None = None


TurnEvent = SpeechStarted | Pause | Segment | TurnEnded


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
    _pauses: int = 0
    _pause_offered: int | None = None  # the Pause of the current silence run, if one was offered
    _utterance_frames: int = 0
    _last_speech_at: float = 0.0
    _pending_has_speech: bool = False
    _onset_run: int = 0  # consecutive windows just now between the onset threshold and the threshold
    _onset_credit: int = 0  # 1 when the current speech run began right after such a window
    echo_path: EchoPath = field(default_factory=EchoPath)
    echo_held: int = 0  # windows the VAD took for speech that the echo guard held as the bot's echo

    def _frames(self, ms: float) -> int:
        return max(1, round(ms / FRAME_MS))

    def echo_margin_db(self) -> float:
        """How far under the bot's reference level a frame may be and still count as the caller."""
        loss = self.echo_path.loss_db
        if loss is None:
            return self.config.echo_margin_db
        return max(self.config.echo_margin_db, loss - self.config.echo_safety_db)

    def _guarded(self, frame: bytes, probability: float, echo_level_dbfs: float | None) -> float:
        """The VAD probability, or 0 for a frame the echo guard holds for the bot's own echo (and,
        while the bot speaks, what that frame teaches about the line's echo)."""
        if echo_level_dbfs is None:
            return probability
        level = level_dbfs(frame)
        if probability >= self.config.onset_threshold and level > echo_level_dbfs - self.echo_margin_db():
            return probability
        self.echo_path.observe(echo_level_dbfs, level)
        if probability >= self.config.threshold:
            self.echo_held += 1  # speech to the VAD, held as the bot's own echo (telemetry)
        return 0.0

    def feed(
        self,
        frame: bytes,
        *,
        probability: float,
        echo_level_dbfs: float | None = None,
        bot_speaking: bool = False,
        now: float,
    ) -> list[TurnEvent]:
        """One 32 ms window with its VAD speech probability; `echo_level_dbfs` is the bot's recent
        output level while it speaks (None otherwise). Returns what happened."""
        if len(frame) != VAD_FRAME_BYTES:
            raise ValueError(f"a VAD frame is {VAD_FRAME_BYTES} bytes, got {len(frame)}")
        probability = self._guarded(frame, probability, echo_level_dbfs)
        speech = probability >= self.config.threshold
        if self.speaking:
            return self._in_speech(frame, speech, now)
        return self._idle(frame, speech, probability >= self.config.onset_threshold, bot_speaking, now)

    def _idle(
        self, frame: bytes, speech: bool, onset: bool, bot_speaking: bool, now: float
    ) -> list[TurnEvent]:
        self._preroll.append(frame)
        while len(self._preroll) > self._frames(self.config.preroll_ms):
            self._preroll.popleft()
        if speech:
            if self._speech_run == 0:
                self._onset_credit = min(self._onset_run, 1)
            self._speech_run += 1
            self._gap_run = self._onset_run = 0
        else:
            self._onset_run = self._onset_run + 1 if onset else 0
            self._gap_run += 1
            if self._gap_run > self._frames(self.config.gap_tolerance_ms):
                self._speech_run = 0
        needed = self._frames(self.config.cutoff_ms if bot_speaking else self.config.start_ms)
        if self._speech_run == 0 or self._speech_run + self._onset_credit < needed:
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
            self._pause_offered = None
            self._last_speech_at = now
            self._pending_has_speech = True
        else:
            self._silence_run += 1
        too_long = self._utterance_frames >= self._frames(self.config.max_utterance_ms)
        if self._silence_run >= self._frames(self.config.silence_ms) or too_long:
            return [self._end()]
        if self._silence_run >= self._frames(self.config.pause_ms) and not self._cut_at_this_pause:
            self._cut_at_this_pause = True
            pause, pcm, self._pending = self._pause_offered, self._take(), []
            return [Segment(pcm, pause)] if pcm else []
        hint = self._silence_run == self._frames(self.config.hint_ms) < self._frames(self.config.pause_ms)
        if hint and self._pending_has_speech:
            self._pauses += 1
            self._pause_offered = self._pauses
            return [Pause(b"".join(self._pending), self._pauses)]
        return []

    @property
    def silence_ms(self) -> float:
        """How long the caller has been silent in the current utterance (0 when not speaking)."""
        return self._silence_run * FRAME_MS if self.speaking else 0.0

    @property
    def all_cut(self) -> bool:
        """Everything the caller said in this utterance has gone out in a segment."""
        return self.speaking and not self._pending_has_speech

    def end_now(self) -> TurnEnded | None:
        """End the current utterance at once (None when the caller is not speaking)."""
        return self._end() if self.speaking else None

    def _take(self) -> bytes:
        """The pending audio, or nothing when it holds no speech (the silence after a cut)."""
        pcm = b"".join(self._pending) if self._pending_has_speech else b""
        self._pending_has_speech = False
        return pcm

    def _end(self) -> TurnEnded:
        pause = self._pause_offered if self._silence_run else None
        pcm = self._take()
        self._pending = []
        self.speaking = False
        self._pause_offered = None
        self._speech_run = self._gap_run = self._onset_run = 0
        return TurnEnded(pcm=pcm, speech_end_at=self._last_speech_at, pause=pause if pcm else None)

    def reset(self) -> None:
        self.speaking = False
        self._preroll.clear()
        self._pending = []
        self._speech_run = self._silence_run = self._onset_run = 0
        self._pause_offered = None
