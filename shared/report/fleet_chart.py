"""The fleet view's charts as inline SVG (no script): calls per day stacked by outcome, and voice-to-voice
p50/p95 per day for each agent. Every piece of text goes through `markupsafe.escape`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

from markupsafe import Markup, escape

from shared.calls.outcome import OUTCOME_WORDS, Outcome
from shared.report.chart import nice_ceiling
from shared.report.fleet import AGENTS, OUTCOMES, Day

__all__ = ["AGENT_COLORS", "OUTCOME_COLORS", "calls_per_day_svg", "latency_per_day_svg"]

OUTCOME_COLORS: Final = {
    Outcome.CLAIM_COMPLETE: "#59a14f",
    Outcome.TRANSFERRED: "#4e79a7",
    Outcome.HUNG_UP: "#f28e2b",
    Outcome.FAILED: "#e15759",
    Outcome.IN_PROGRESS: "#9aa5b1",
}
AGENT_COLORS: Final = {"llm": "#4e79a7", "form": "#f28e2b"}
AGENT_WORDS: Final = {"llm": "LLM agent", "form": "form agent"}
PLOT_HEIGHT: Final = 180.0
PLOT_WIDTH: Final = 640.0  # the days share it: wide columns for a week, narrow ones for a quarter
MAX_COLUMN: Final = 46.0
LABEL_WIDTH: Final = 46.0  # room for one day label ("Nov 23")
LEFT: Final = 56.0
RIGHT: Final = 12.0
TOP: Final = 14.0
LABELS: Final = 36.0
LEGEND_ROW: Final = 18.0
LEGEND_ITEM: Final = 150.0
TICKS: Final = 4


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _count_ceiling(value: int) -> float:
    return float(max(TICKS, math.ceil(value / TICKS) * TICKS)) if value > TICKS else float(TICKS)


def _frame(ident: str, width: float, height: float, title: str, description: str) -> list[str]:
    name = escape(ident)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="fleet-chart" id="{name}" '
        f'viewBox="0 0 {_num(width)} {_num(height)}" width="{_num(width)}" height="{_num(height)}" '
        f'style="max-width: {_num(width)}px" role="img" aria-labelledby="{name}-title" '
        f'aria-describedby="{name}-desc">',
        f'<title id="{name}-title">{escape(title)}</title>',
        f'<desc id="{name}-desc">{escape(description)}</desc>',
    ]


def _axis(top: float, plot_width: float, unit: str, integer: bool) -> list[str]:
    baseline = TOP + PLOT_HEIGHT
    parts = ['<g class="axis" aria-hidden="true">']
    for tick in range(TICKS + 1):
        value = top * tick / TICKS
        y = baseline - PLOT_HEIGHT * tick / TICKS
        text = f"{value:.0f}" if integer else _num(value)
        parts.append(
            f'<line class="grid" x1="{_num(LEFT)}" x2="{_num(LEFT + plot_width)}" y1="{_num(y)}" '
            f'y2="{_num(y)}" stroke="#d0d4da" stroke-width="1"/>'
            f'<text class="tick" x="{_num(LEFT - 6)}" y="{_num(y + 4)}" text-anchor="end">{text}</text>'
        )
    parts.append(
        f'<text class="axis-title" transform="translate(14 {_num(TOP + PLOT_HEIGHT / 2)}) rotate(-90)" '
        f'text-anchor="middle">{escape(unit)}</text></g>'
    )
    return parts


def _column(days: Sequence[Day]) -> float:
    return min(MAX_COLUMN, PLOT_WIDTH / max(len(days), 1))


def _day_labels(days: Sequence[Day]) -> list[str]:
    baseline = TOP + PLOT_HEIGHT
    column = _column(days)
    every = max(1, math.ceil(LABEL_WIDTH / column))  # labels never overlap
    return [
        f'<text class="day-label" x="{_num(LEFT + (i + 0.5) * column)}" y="{_num(baseline + 15)}" '
        f'text-anchor="middle">{escape(day.label)}</text>'
        for i, day in enumerate(days)
        if (len(days) - 1 - i) % every == 0  # today always labelled
    ]


def _legend(items: Sequence[tuple[str, str, str, bool]], top: float, width: float) -> tuple[list[str], float]:
    """(key, label, color, dashed) items in rows; returns the parts and their height."""
    columns = max(1, int((width - LEFT) // LEGEND_ITEM))
    parts = ['<g class="legend">']
    for index, (key, label, color, dashed) in enumerate(items):
        x = LEFT + (index % columns) * LEGEND_ITEM
        y = top + (index // columns) * LEGEND_ROW
        dash = ' stroke-dasharray="4 3"' if dashed else ""
        mark = (
            f'<line x1="{_num(x)}" x2="{_num(x + 14)}" y1="{_num(y + 5)}" y2="{_num(y + 5)}" '
            f'stroke="{color}" stroke-width="2"{dash}/>'
            if key.startswith("line:")
            else f'<rect x="{_num(x)}" y="{_num(y)}" width="10" height="10" fill="{color}"/>'
        )
        parts.append(
            f'<g class="legend-item" data-key="{escape(key)}">{mark}'
            f'<text x="{_num(x + 18)}" y="{_num(y + 9)}">{escape(label)}</text></g>'
        )
    parts.append("</g>")
    return parts, math.ceil(len(items) / columns) * LEGEND_ROW


def calls_per_day_svg(days: Sequence[Day], *, element_id: str = "calls-per-day") -> Markup:
    column = _column(days)
    bar = column * 0.65
    plot_width = len(days) * column
    width = LEFT + plot_width + RIGHT
    top = _count_ceiling(max((d.calls for d in days), default=0))
    baseline = TOP + PLOT_HEIGHT
    total = sum(d.calls for d in days)
    description = (
        f"{total} call(s) over {len(days)} day(s), one bar per day stacked by outcome "
        f"({', '.join(OUTCOME_WORDS[o] for o in OUTCOMES)}). Axis from 0 to {top:.0f} calls."
    )
    legend, legend_height = _legend(
        [(o.value, OUTCOME_WORDS[o], OUTCOME_COLORS[o], False) for o in OUTCOMES], baseline + LABELS, width
    )
    parts = _frame(element_id, width, baseline + LABELS + legend_height + 4, "Calls per day", description)
    parts += _axis(top, plot_width, "calls", integer=True)
    for index, day in enumerate(days):
        x = LEFT + index * column + (column - bar) / 2
        parts.append(f'<g class="day" data-day="{day.day.isoformat()}" data-calls="{day.calls}">')
        reached = 0
        for outcome in OUTCOMES:
            count = day.outcomes.get(outcome, 0)
            if not count:
                continue
            y_top = baseline - PLOT_HEIGHT * (reached + count) / top
            height = PLOT_HEIGHT * count / top
            tooltip = f"{day.label}: {count} {OUTCOME_WORDS[outcome]}"
            parts.append(
                f'<rect class="segment" data-outcome="{outcome.value}" x="{_num(x)}" y="{_num(y_top)}" '
                f'width="{_num(bar)}" height="{_num(height)}" fill="{OUTCOME_COLORS[outcome]}">'
                f"<title>{escape(tooltip)}</title></rect>"
            )
            reached += count
        parts.append("</g>")
    parts += _day_labels(days)
    parts += legend
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text above went through escape)


def latency_per_day_svg(days: Sequence[Day], *, element_id: str = "latency-per-day") -> Markup:
    column = _column(days)
    plot_width = len(days) * column
    width = LEFT + plot_width + RIGHT
    baseline = TOP + PLOT_HEIGHT
    values = [v for d in days for a in d.agents.values() for v in (a.p50, a.p95) if v is not None]
    top = nice_ceiling(max(values, default=0.0))
    description = (
        "Voice-to-voice latency (end of the caller's speech to the bot's first audio) per day: p50 "
        f"(solid) and p95 (dashed) for the LLM agent and the form agent. Axis from 0 to {top:,.0f} ms."
    )
    items = [
        (f"line:{agent}:{which}", f"{AGENT_WORDS[agent]} {which}", AGENT_COLORS[agent], which == "p95")
        for agent in AGENTS
        for which in ("p50", "p95")
    ]
    legend, legend_height = _legend(items, baseline + LABELS, width)
    parts = _frame(
        element_id, width, baseline + LABELS + legend_height + 4, "Voice-to-voice per day", description
    )
    parts += _axis(top, plot_width, "ms", integer=False)
    for agent in AGENTS:
        for which in ("p50", "p95"):
            points = [
                (LEFT + (i + 0.5) * column, baseline - PLOT_HEIGHT * min(value / top, 1.0), day, value)
                for i, day in enumerate(days)
                if (value := getattr(day.agents[agent], which)) is not None
            ]
            if not points:
                continue
            dash = ' stroke-dasharray="4 3"' if which == "p95" else ""
            path = " ".join(f"{_num(x)},{_num(y)}" for x, y, _d, _v in points)
            parts.append(
                f'<g class="series" data-agent="{agent}" data-stat="{which}"><polyline points="{path}" '
                f'fill="none" stroke="{AGENT_COLORS[agent]}" stroke-width="2"{dash}/>'
            )
            for x, y, day, value in points:
                tooltip = f"{day.label}, {AGENT_WORDS[agent]} {which}: {value:,.0f} ms"
                parts.append(
                    f'<circle cx="{_num(x)}" cy="{_num(y)}" r="3" fill="{AGENT_COLORS[agent]}" '
                    f'data-day="{day.day.isoformat()}" data-ms="{_num(value)}">'
                    f"<title>{escape(tooltip)}</title></circle>"
                )
            parts.append("</g>")
    parts += _day_labels(days)
    parts += legend
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text above went through escape)
