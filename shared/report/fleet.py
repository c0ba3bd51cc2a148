"""The fleet view's numbers, from the stored calls alone (works offline): calls per day by outcome,
voice-to-voice latency p50/p95 per day and per agent (LLM or form), and the slowest calls.

Voice-to-voice is a turn's `first_frame_out_ms`: from the end of the caller's speech to the bot's first
audio frame, as the media host measured it. Days are UTC days of the call's creation.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Final

from shared.calls.outcome import Outcome, call_outcome
from shared.models import Call

__all__ = ["AGENTS", "OUTCOMES", "AgentLatency", "Day", "Fleet", "SlowCall", "fleet_of", "percentile"]

OUTCOMES: Final = (
    Outcome.CLAIM_COMPLETE,
    Outcome.TRANSFERRED,
    Outcome.HUNG_UP,
    Outcome.FAILED,
    Outcome.IN_PROGRESS,
)
AGENTS: Final = ("llm", "form")
SLOWEST: Final = 10


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile (`share` in 0..1) of `values`, None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def voice_to_voice(call: Call) -> list[float]:
    return [t.first_frame_out_ms for t in call.turns if t.first_frame_out_ms is not None]


def agent_of(call: Call) -> str:
    return str(call.agent) if call.agent is not None else "none"


@dataclass(frozen=True)
class AgentLatency:
    agent: str
    turns: int
    p50: float | None
    p95: float | None


def _latencies(calls: Iterable[Call], agents: Sequence[str] = AGENTS) -> dict[str, AgentLatency]:
    pooled: dict[str, list[float]] = {agent: [] for agent in agents}
    for call in calls:
        if agent_of(call) in pooled:
            pooled[agent_of(call)] += voice_to_voice(call)
    return {
        agent: AgentLatency(agent, len(values), percentile(values, 0.5), percentile(values, 0.95))
        for agent, values in pooled.items()
    }


@dataclass(frozen=True)
class Day:
    day: date
    outcomes: dict[Outcome, int]
    turns: int
    p50: float | None
    p95: float | None
    agents: dict[str, AgentLatency]

    @property
    def calls(self) -> int:
        return sum(self.outcomes.values())

    @property
    def label(self) -> str:
        return self.day.strftime("%b %d")


@dataclass(frozen=True)
class SlowCall:
    call: Call
    link: str
    p95: float
    worst: float
    turns: int
    outcome: Outcome


@dataclass(frozen=True)
class Fleet:
    start: date
    end: date  # included
    days: tuple[Day, ...]
    totals: dict[Outcome, int]
    agents: dict[str, AgentLatency]
    slowest: tuple[SlowCall, ...]
    p50: float | None = None
    p95: float | None = None
    complete: bool = True  # every call of the window was looked at
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def calls(self) -> int:
        return sum(self.totals.values())


def fleet_of(
    calls: Iterable[Call], *, end: date, days: int, link: Callable[[Call], str], complete: bool = True
) -> Fleet:
    """The fleet over the `days` UTC days ending with `end` (included); `link` gives a call's page."""
    start = end - timedelta(days=days - 1)
    window = [c for c in calls if start <= _day(c.created_at) <= end]
    by_day: dict[date, list[Call]] = {start + timedelta(days=i): [] for i in range(days)}
    for call in window:
        by_day[_day(call.created_at)].append(call)
    rows = tuple(_day_stats(day, members) for day, members in by_day.items())
    everything = [v for call in window for v in voice_to_voice(call)]
    totals = Counter(call_outcome(call) for call in window)
    return Fleet(
        start=start,
        end=end,
        days=rows,
        totals={outcome: totals.get(outcome, 0) for outcome in OUTCOMES},
        agents=_latencies(window),
        slowest=_slowest(window, link),
        p50=percentile(everything, 0.5),
        p95=percentile(everything, 0.95),
        complete=complete,
    )


def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date() if moment.tzinfo else moment.date()


def _day_stats(day: date, calls: list[Call]) -> Day:
    counts = Counter(call_outcome(call) for call in calls)
    values = [v for call in calls for v in voice_to_voice(call)]
    return Day(
        day=day,
        outcomes={outcome: counts.get(outcome, 0) for outcome in OUTCOMES},
        turns=len(values),
        p50=percentile(values, 0.5),
        p95=percentile(values, 0.95),
        agents=_latencies(calls),
    )


def _slowest(calls: Iterable[Call], link: Callable[[Call], str]) -> tuple[SlowCall, ...]:
    slow: list[SlowCall] = []
    for call in calls:
        values = voice_to_voice(call)
        p95 = percentile(values, 0.95)
        if p95 is not None:
            slow.append(SlowCall(call, link(call), p95, max(values), len(values), call_outcome(call)))
    slow.sort(key=lambda s: (s.p95, s.worst), reverse=True)
    return tuple(slow[:SLOWEST])
