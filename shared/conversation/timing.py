"""The marks of one turn the conversation takes (for the latency breakdown the media host records)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class TurnTiming:
    """Monotonic marks of one turn, for the latency breakdown."""

    started: float = field(default_factory=time.monotonic)
    first_token: float | None = None
    first_sentence: float | None = None

    def ms(self, mark: float | None) -> float | None:
        return None if mark is None else round((mark - self.started) * 1000, 1)
