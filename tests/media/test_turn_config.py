"""A call's turn settings come from its flags in one place (`TurnConfig.from_flags`), 0 and false honoured."""

from __future__ import annotations

import pytest

from media_host.turns import FRAME_MS, SpeechStarted, TurnConfig, TurnDetector, TurnEnded
from shared.flags.base import FeatureFlags
from shared.speech.base import VAD_FRAME_BYTES

QUIET = bytes(VAD_FRAME_BYTES)


def _feed(detector: TurnDetector, probabilities: list[float], *, bot: bool) -> list[tuple[int, object]]:
    events: list[tuple[int, object]] = []
    for position, probability in enumerate(probabilities, start=1):
        for event in detector.feed(
            QUIET, probability=probability, bot_speaking=bot, now=position * FRAME_MS / 1000
        ):
            events.append((position, event))
    return events


def test_the_defaults_are_the_flags_defaults() -> None:
    config = TurnConfig.from_flags(FeatureFlags())
    assert config.threshold == 0.5
    assert config.cutoff_ms == 250
    assert config.silence_ms == 1500  # the longest end-of-turn wait: vad_unfinished_timeout_ms


def test_the_silence_that_ends_any_turn_is_the_longest_wait() -> None:
    flags = FeatureFlags(vad_silence_timeout_ms=900, vad_unfinished_timeout_ms=600)
    assert TurnConfig.from_flags(flags).silence_ms == 900


def test_flags_at_zero_are_honoured_not_replaced_by_defaults() -> None:
    flags = FeatureFlags.from_raw(
        {"vad_threshold": "0", "vad_cutoff_timeout_ms": "0.0", "vad_unfinished_timeout_ms": 0}
    )
    config = TurnConfig.from_flags(flags)
    assert config.threshold == 0.0
    assert config.cutoff_ms == 0
    assert config.silence_ms == 500  # vad_unfinished_timeout_ms at 0: vad_silence_timeout_ms alone


def test_a_zero_cutoff_makes_one_window_of_speech_over_the_bot_a_barge_in() -> None:
    detector = TurnDetector(TurnConfig.from_flags(FeatureFlags(vad_cutoff_timeout_ms=0)))
    events = _feed(detector, [0.1, 0.1, 0.9], bot=True)
    assert [(position, type(event)) for position, event in events] == [(3, SpeechStarted)]
    started = events[0][1]
    assert isinstance(started, SpeechStarted) and started.barge_in


def test_a_zero_threshold_takes_every_window_for_speech() -> None:
    detector = TurnDetector(TurnConfig.from_flags(FeatureFlags(vad_threshold=0.0)))
    events = _feed(detector, [0.0] * 4, bot=False)
    assert [type(event) for _, event in events] == [SpeechStarted]


@pytest.mark.parametrize(("silence_ms", "unfinished_ms", "windows"), [(500, 0, 16), (0, 0, 1)])
def test_the_turn_ends_after_the_flags_silence(silence_ms: int, unfinished_ms: int, windows: int) -> None:
    flags = FeatureFlags(vad_silence_timeout_ms=silence_ms, vad_unfinished_timeout_ms=unfinished_ms)
    detector = TurnDetector(TurnConfig.from_flags(flags))
    events = _feed(detector, [0.9] * 5 + [0.0] * 40, bot=False)
    ends = [position for position, event in events if isinstance(event, TurnEnded)]
    assert ends == [5 + windows]


def test_a_caller_just_over_a_low_threshold_barges_in() -> None:
    """The onset level follows the flag (silero's "still speech": threshold - 0.15): with
    vad_threshold 0.3, a caller the VAD rates 0.32 over the bot is speech, not the bot's echo."""
    config = TurnConfig.from_flags(FeatureFlags(vad_threshold=0.3, vad_cutoff_timeout_ms=96))
    assert config.onset_threshold == pytest.approx(0.15)
    detector = TurnDetector(config)
    loud = b"\x00\x40" * (VAD_FRAME_BYTES // 2)  # a caller well over the bot's recent level
    started = []
    for position in range(1, 10):
        for event in detector.feed(
            loud, probability=0.32, echo_level_dbfs=-30.0, bot_speaking=True, now=position * FRAME_MS / 1000
        ):
            started.append((position, event))
    assert [(position, type(event)) for position, event in started] == [(3, SpeechStarted)]


def test_the_default_onset_level_is_unchanged() -> None:
    assert TurnConfig.from_flags(FeatureFlags()).onset_threshold == pytest.approx(
        TurnConfig().onset_threshold
    )
