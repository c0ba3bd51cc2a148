"""One turn's telemetry without a call: the media loop's plain counts (echo-guard drops, late frames) go
out once per turn, the turn's steps become child spans at their measured times, and a turn that never
played (no first frame) is still recorded."""

from __future__ import annotations

from media_host.turns import TurnDetector
from shared.speech.base import VAD_FRAME_BYTES
from shared.telemetry import names
from shared.telemetry.record import TurnMarksMs, TurnTrace
from tests.telemetry.conftest import Captured


def test_the_echo_guard_counts_the_speech_it_holds() -> None:
    detector = TurnDetector()
    quiet = b"\x00\x01" * (VAD_FRAME_BYTES // 2)  # far under the bot's level: its echo, not the caller
    for at in range(5):
        detector.feed(quiet, probability=1.0, echo_level_dbfs=-12.0, bot_speaking=True, now=at * 0.032)
    detector.feed(
        quiet, probability=0.0, echo_level_dbfs=-12.0, bot_speaking=True, now=0.2
    )  # no speech: not counted
    assert detector.echo_held == 5
    assert not detector.speaking


def test_a_turn_is_one_span_with_its_steps_and_its_counts(telemetry: Captured) -> None:
    telemetry.spans.clear()
    before = _sums(telemetry)
    trace = TurnTrace(3, speech_end_at=100.0, now=101.0, lang="en-US", agent="form")
    trace.finish(
        TurnMarksMs(
            end_of_turn=500, stt_final=520, first_sentence=540, tts_first_audio=600, first_frame_out=630
        ),
        late_frames=2,
        echo_guard_drops=7,
    )
    spans = {s.name: s for s in telemetry.finished()}
    turn = spans[names.SPAN_TURN]
    assert turn.attributes is not None and turn.attributes[names.ATTR_TURN] == 3
    assert turn.end_time is not None and turn.start_time is not None
    assert abs((turn.end_time - turn.start_time) / 1e6 - 630) < 0.01  # the span is the voice-to-voice time
    stt = spans[names.SPAN_STT]
    assert stt.parent is not None and turn.context is not None and stt.parent.span_id == turn.context.span_id
    assert stt.start_time is not None and stt.end_time is not None
    assert (
        round((stt.start_time - turn.start_time) / 1e6) == 500
        and round((stt.end_time - turn.start_time) / 1e6) == 520
    )
    after = _sums(telemetry)
    assert after[names.LATE_FRAMES] - before.get(names.LATE_FRAMES, 0) == 2
    assert after[names.ECHO_GUARD_DROPS] - before.get(names.ECHO_GUARD_DROPS, 0) == 7


def test_a_turn_that_never_played_is_recorded_without_audio_steps(telemetry: Captured) -> None:
    telemetry.spans.clear()
    TurnTrace(1, speech_end_at=5.0, now=5.5, lang="en-US", agent=None).finish(
        TurnMarksMs(end_of_turn=500, stt_final=510)
    )
    assert {s.name for s in telemetry.finished()} == {names.SPAN_TURN, names.SPAN_END_OF_TURN, names.SPAN_STT}


def _sums(telemetry: Captured) -> dict[str, float]:
    totals: dict[str, float] = {}
    for name, points in telemetry.points().items():
        totals[name] = sum(float(value) for _attributes, value in points if isinstance(value, int | float))
    return totals
