"""The turn detector on synthetic VAD decisions: onset credit, echo guard learning the line, segments."""

from __future__ import annotations

import math

import numpy as np
import pytest

from media_host.turns import (
    FRAME_MS,
    EchoPath,
    Pause,
    Segment,
    SpeechStarted,
    TurnConfig,
    TurnDetector,
    TurnEnded,
)
from shared.speech.audio import level_dbfs
from shared.speech.base import VAD_FRAME_SAMPLES

BOT_DBFS = -18.0


def frame_at(dbfs: float) -> bytes:
    """One 32 ms window of a 440 Hz tone at `dbfs` RMS (digital silence below -110)."""
    if dbfs < -110:
        return bytes(2 * VAD_FRAME_SAMPLES)
    amplitude = 32768 * math.sqrt(2) * 10 ** (dbfs / 20)
    t = np.arange(VAD_FRAME_SAMPLES) / 16_000
    return (amplitude * np.sin(2 * math.pi * 440 * t)).astype(np.int16).tobytes()


class Feeder:
    def __init__(self, detector: TurnDetector) -> None:
        self.detector = detector
        self.index = 0

    def feed(self, probability: float, dbfs: float = -30.0, *, bot: bool = False) -> list[object]:
        self.index += 1
        return list(
            self.detector.feed(
                frame_at(dbfs),
                probability=probability,
                echo_level_dbfs=BOT_DBFS if bot else None,
                bot_speaking=bot,
                now=self.index * FRAME_MS / 1000,
            )
        )

    def until_started(self, probabilities: list[float], dbfs: float = -30.0, *, bot: bool) -> int | None:
        """The 1-based position in `probabilities` of the window that started the utterance."""
        for position, probability in enumerate(probabilities, start=1):
            if any(isinstance(e, SpeechStarted) for e in self.feed(probability, dbfs, bot=bot)):
                return position
        return None


def test_frame_levels_are_what_the_tests_assume() -> None:
    assert level_dbfs(frame_at(-30.0)) == pytest.approx(-30.0, abs=0.2)
    assert level_dbfs(frame_at(-120.0)) == -120.0


def test_a_barge_in_needs_the_cutoff_in_speech_windows() -> None:
    feeder = Feeder(TurnDetector(TurnConfig(cutoff_ms=250)))
    assert feeder.until_started([0.1] * 5 + [0.9] * 10, bot=True) == 5 + 8  # 8 windows of 32 ms


def test_the_window_where_speech_sets_in_counts_towards_the_cutoff() -> None:
    feeder = Feeder(TurnDetector(TurnConfig(cutoff_ms=250)))
    # silero's probability rises over a window: 0.4 is the onset, then 7 clear windows make 8
    assert feeder.until_started([0.1] * 5 + [0.4] + [0.9] * 10, bot=True) == 5 + 1 + 7


def test_only_one_onset_window_is_credited() -> None:
    feeder = Feeder(TurnDetector(TurnConfig(cutoff_ms=250)))
    assert feeder.until_started([0.1] * 5 + [0.4] * 3 + [0.9] * 10, bot=True) == 5 + 3 + 7


def test_windows_under_the_threshold_alone_never_start_an_utterance() -> None:
    feeder = Feeder(TurnDetector())
    assert feeder.until_started([0.45] * 50, bot=False) is None


def test_the_echo_of_the_bot_never_interrupts_it_and_teaches_the_echo_path() -> None:
    detector = TurnDetector(TurnConfig(cutoff_ms=250))
    feeder = Feeder(detector)
    # the bot's voice back 20 dB down, which silero takes for speech
    assert feeder.until_started([0.95] * 100, BOT_DBFS - 20, bot=True) is None
    assert detector.echo_path.loss_db == pytest.approx(20, abs=0.5)
    assert detector.echo_margin_db() == detector.config.echo_margin_db  # never looser than the default


def test_on_a_line_without_echo_a_soft_caller_barges_in() -> None:
    soft = BOT_DBFS - 24  # under the default guard (16 dB below the bot)
    fresh = Feeder(TurnDetector(TurnConfig(cutoff_ms=250)))
    assert fresh.until_started([0.9] * 12, soft, bot=True) is None  # line not measured: held for echo
    measured = Feeder(TurnDetector(TurnConfig(cutoff_ms=250)))
    for _ in range(EchoPath.MIN_SAMPLES):  # the phone sends silence while the bot speaks
        measured.feed(0.01, -120.0, bot=True)
    assert measured.detector.echo_path.loss_db == pytest.approx(102, abs=1)
    assert measured.until_started([0.9] * 12, soft, bot=True) == 8


def test_talking_over_the_bot_does_not_make_the_guard_stricter() -> None:
    detector = TurnDetector(TurnConfig(cutoff_ms=250))
    feeder = Feeder(detector)
    for _ in range(40):
        feeder.feed(0.01, -120.0, bot=True)
    before = detector.echo_path.loss_db
    feeder.until_started([0.9] * 12, BOT_DBFS - 3, bot=True)  # the caller, loud, over the bot
    assert detector.echo_path.loss_db == before


def test_a_pause_cuts_a_segment_and_silence_ends_the_turn() -> None:
    config = TurnConfig(pause_ms=200, silence_ms=500)
    feeder = Feeder(TurnDetector(config))
    events: list[object] = []
    for probability in [0.9] * 20 + [0.05] * 7 + [0.9] * 10 + [0.05] * 20:
        events += feeder.feed(probability)
    kinds = [type(e) for e in events]
    assert kinds == [SpeechStarted, Pause, Segment, Pause, Segment, TurnEnded]
    first_pause, first_cut = events[1], events[2]
    assert isinstance(first_pause, Pause) and isinstance(first_cut, Segment)
    assert first_cut.pause == first_pause.number  # nothing said since: the speculative transcript holds
    assert first_cut.pcm[: len(first_pause.pcm)] == first_pause.pcm
    ended = events[-1]
    assert isinstance(ended, TurnEnded) and ended.pcm == b""  # the rest was only the closing silence
    assert ended.speech_end_at == pytest.approx((20 + 7 + 10) * FRAME_MS / 1000)


def test_speech_after_a_pause_makes_its_transcript_stale() -> None:
    feeder = Feeder(TurnDetector(TurnConfig(hint_ms=96, pause_ms=200, silence_ms=500)))
    events: list[object] = []
    # a short pause (3 windows: the hint, no cut), more speech, then a real pause
    for probability in [0.9] * 10 + [0.05] * 3 + [0.9] * 5 + [0.05] * 7:
        events += feeder.feed(probability)
    pauses = [e for e in events if isinstance(e, Pause)]
    segments = [e for e in events if isinstance(e, Segment)]
    assert len(pauses) == 2 and len(segments) == 1
    assert segments[0].pause == pauses[1].number  # the second pause's audio, not the first's


def test_the_session_can_end_a_turn_early_and_reuse_the_pause() -> None:
    detector = TurnDetector(TurnConfig(hint_ms=96, pause_ms=200, silence_ms=500))
    feeder = Feeder(detector)
    events: list[object] = []
    for probability in [0.9] * 10 + [0.05] * 4:
        events += feeder.feed(probability)
    pause = next(e for e in events if isinstance(e, Pause))
    assert detector.silence_ms == pytest.approx(4 * FRAME_MS)
    assert not detector.all_cut
    ended = detector.end_now()
    assert ended is not None and ended.pause == pause.number and ended.pcm
    assert not detector.speaking and detector.end_now() is None
