"""When the quiet line gets a prompt and when it gets the goodbye (SilenceWatch, on a fake clock)."""

from __future__ import annotations

from media_host.silence import Silence, SilenceWatch
from shared.flags.base import FeatureFlags


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_prompts_then_gives_up_past_the_retries() -> None:
    clock = Clock()
    watch = SilenceWatch(FeatureFlags(phone_silence_timeout_sec=10, recognition_retry_max=2), clock)
    clock.now = 9.9
    assert watch.check(idle=True) is None
    seen = []
    for _ in range(3):
        clock.now += 10
        seen.append(watch.check(idle=True))
    assert seen == [Silence.PROMPT, Silence.PROMPT, Silence.GIVE_UP]


def test_a_busy_line_and_the_callers_speech_start_over() -> None:
    clock = Clock()
    watch = SilenceWatch(FeatureFlags(phone_silence_timeout_sec=10, recognition_retry_max=1), clock)
    clock.now = 10
    assert watch.check(idle=True) is Silence.PROMPT
    clock.now = 25
    assert watch.check(idle=False) is None  # the bot speaks or the caller does: that is activity
    clock.now = 34
    assert watch.check(idle=True) is None
    watch.activity(34, speech=True)  # the caller answered: the prompts so far no longer count
    clock.now = 44
    assert watch.check(idle=True) is Silence.PROMPT


def test_a_zero_timeout_never_prompts() -> None:
    clock = Clock()
    watch = SilenceWatch(FeatureFlags(phone_silence_timeout_sec=0), clock)
    clock.now = 10_000
    assert watch.check(idle=True) is None
