"""When the line stays quiet: after `phone_silence_timeout_sec` with nobody speaking and no answer being
prepared, the bot asks whether the caller is still there; past `recognition_retry_max` such prompts
without the caller speaking, it says goodbye and hangs up. 0 seconds never prompts."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from shared.flags.base import FeatureFlags


class Silence(Enum):
    PROMPT = "prompt"  # ask whether the caller is still there
    GIVE_UP = "give_up"  # say goodbye and end the call


class SilenceWatch:
    """One per call; `check` is called periodically, `activity` on every turn event."""

    def __init__(self, flags: FeatureFlags, clock: Callable[[], float]) -> None:
        self._flags = flags
        self._clock = clock
        self._last_activity = clock()
        self._prompts = 0

    def activity(self, now: float, *, speech: bool = False) -> None:
        """Something happened on the line at `now`; `speech`: the caller started speaking (that answers
        the prompts so far)."""
        self._last_activity = now
        if speech:
            self._prompts = 0

    def check(self, *, idle: bool) -> Silence | None:
        """What the bot does about the silence now (None: nothing). Busy is activity."""
        now = self._clock()
        if not idle:
            self._last_activity = now
            return None
        timeout = self._flags.phone_silence_timeout_sec
        if not timeout or now - self._last_activity < timeout:
            return None
        self._last_activity = now
        self._prompts += 1
        return Silence.GIVE_UP if self._prompts > self._flags.recognition_retry_max else Silence.PROMPT
