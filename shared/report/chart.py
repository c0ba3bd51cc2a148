"""The per-turn latency chart of a call: grouped bars as inline SVG, built without any script.

One group of bars per turn, one bar per stage (all in milliseconds after the end of the caller's
speech), a y axis in ms with round ticks, a legend, and an accessible title and description. Every
piece of text goes through `markupsafe.escape`, so the result is safe to insert into a page as is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from markupsafe import Markup, escape

from shared.models import TurnLatency

__all__ = ["METRICS", "PLOT_HEIGHT", "LatencyMetric", "latency_chart_svg", "nice_ceiling"]


@dataclass(frozen=True)
class LatencyMetric:
    field: str
    label: str
    color: str


METRICS: Final = (
    LatencyMetric("stt_final_ms", "STT final", "#4e79a7"),
    LatencyMetric("llm_first_token_ms", "LLM first token", "#f28e2b"),
    LatencyMetric("first_sentence_ms", "First sentence", "#59a14f"),
    LatencyMetric("tts_first_audio_ms", "TTS first audio", "#e15759"),
    LatencyMetric("first_frame_out_ms", "First frame out", "#8c6bb1"),
)

PLOT_HEIGHT: Final = 200.0
BAR_WIDTH: Final = 10.0
BAR_GAP: Final = 2.0
GROUP_GAP: Final = 18.0
MARGIN_LEFT: Final = 56.0
MARGIN_RIGHT: Final = 12.0
MARGIN_TOP: Final = 14.0
AXIS_LABELS_HEIGHT: Final = 34.0
LEGEND_ITEM_WIDTH: Final = 132.0
LEGEND_ROW_HEIGHT: Final = 18.0
MIN_WIDTH: Final = 320.0
TICKS: Final = 4


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 (times a power of ten) at least `value`: the top of the y axis."""
    if not math.isfinite(value) or value <= 0:
        return 100.0
    magnitude = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if step * magnitude >= value:
            return step * magnitude
    return 10.0 * magnitude  # pragma: no cover (the loop always returns)


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _ms(value: float) -> str:
    return f"{value:,.0f} ms"


def _value(turn: TurnLatency, metric: LatencyMetric) -> float | None:
    raw = getattr(turn, metric.field)
    if raw is None or not math.isfinite(raw):
        return None
    return max(float(raw), 0.0)


def latency_chart_svg(
    turns: Sequence[TurnLatency], *, title: str = "Latency per turn", element_id: str = "latency-chart"
) -> Markup:
    """The chart as one `<svg>` element. A stage a turn did not reach (None) draws no bar."""
    group_width = len(METRICS) * BAR_WIDTH + (len(METRICS) - 1) * BAR_GAP
    plot_width = max(
        len(turns) * (group_width + GROUP_GAP) + GROUP_GAP, MIN_WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    )
    width = MARGIN_LEFT + plot_width + MARGIN_RIGHT
    columns = max(1, int((width - MARGIN_LEFT) // LEGEND_ITEM_WIDTH))
    legend_rows = math.ceil(len(METRICS) / columns)
    legend_top = MARGIN_TOP + PLOT_HEIGHT + AXIS_LABELS_HEIGHT
    height = legend_top + legend_rows * LEGEND_ROW_HEIGHT + 4
    values = [v for turn in turns for m in METRICS if (v := _value(turn, m)) is not None]
    top = nice_ceiling(max(values, default=0.0))
    baseline = MARGIN_TOP + PLOT_HEIGHT
    ident = escape(element_id)
    labels = ", ".join(m.label for m in METRICS)
    description = (
        f"{len(turns)} turn(s); for each turn, bars give the milliseconds after the end of the "
        f"caller's speech until: {labels}. Axis from 0 to {_ms(top)}."
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="latency-chart" id="{ident}" '
        f'viewBox="0 0 {_num(width)} {_num(height)}" width="{_num(width)}" height="{_num(height)}" '
        f'style="--turns: {len(turns)}" role="img" '
        f'aria-labelledby="{ident}-title" aria-describedby="{ident}-desc">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(description)}</desc>',
    ]
    parts += _axis(top, plot_width)
    for index, turn in enumerate(turns):
        group_x = MARGIN_LEFT + GROUP_GAP + index * (group_width + GROUP_GAP)
        parts.append(f'<g class="turn" data-turn="{index + 1}">')
        for position, metric in enumerate(METRICS):
            value = _value(turn, metric)
            if value is None:
                continue
            bar_height = PLOT_HEIGHT * min(value / top, 1.0)
            x = group_x + position * (BAR_WIDTH + BAR_GAP)
            parts.append(
                f'<rect class="bar" data-metric="{metric.field}" x="{_num(x)}" '
                f'y="{_num(baseline - bar_height)}" width="{_num(BAR_WIDTH)}" height="{_num(bar_height)}" '
                f'fill="{metric.color}"><title>{escape(f"Turn {index + 1}, {metric.label}: {_ms(value)}")}'
                "</title></rect>"
            )
        label_x = group_x + group_width / 2
        parts.append(
            f'<text class="turn-label" x="{_num(label_x)}" y="{_num(baseline + 15)}" '
            f'text-anchor="middle">{index + 1}</text></g>'
        )
    parts.append(
        f'<text class="axis-title" x="{_num(MARGIN_LEFT + plot_width / 2)}" y="{_num(baseline + 30)}" '
        'text-anchor="middle">turn</text>'
    )
    parts += _legend(legend_top, columns)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text above went through escape)


def _axis(top: float, plot_width: float) -> list[str]:
    baseline = MARGIN_TOP + PLOT_HEIGHT
    parts = ['<g class="axis" aria-hidden="true">']
    for tick in range(TICKS + 1):
        value = top * tick / TICKS
        y = baseline - PLOT_HEIGHT * tick / TICKS
        parts.append(
            f'<line class="grid" x1="{_num(MARGIN_LEFT)}" x2="{_num(MARGIN_LEFT + plot_width)}" '
            f'y1="{_num(y)}" y2="{_num(y)}" stroke="#d0d4da" stroke-width="1"/>'
            f'<text class="tick" x="{_num(MARGIN_LEFT - 6)}" y="{_num(y + 4)}" '
            f'text-anchor="end">{_num(value)}</text>'
        )
    parts.append(
        f'<line x1="{_num(MARGIN_LEFT)}" x2="{_num(MARGIN_LEFT)}" y1="{_num(MARGIN_TOP)}" '
        f'y2="{_num(baseline)}" stroke="#5b6470" stroke-width="1"/>'
        f'<text class="axis-title" transform="translate(14 {_num(MARGIN_TOP + PLOT_HEIGHT / 2)}) '
        'rotate(-90)" text-anchor="middle">ms</text></g>'
    )
    return parts


def _legend(legend_top: float, columns: int) -> list[str]:
    parts = ['<g class="legend">']
    for index, metric in enumerate(METRICS):
        x = MARGIN_LEFT + (index % columns) * LEGEND_ITEM_WIDTH
        y = legend_top + (index // columns) * LEGEND_ROW_HEIGHT
        parts.append(
            f'<g class="legend-item" data-metric="{metric.field}">'
            f'<rect x="{_num(x)}" y="{_num(y)}" width="10" height="10" fill="{metric.color}"/>'
            f'<text x="{_num(x + 14)}" y="{_num(y + 9)}">{escape(metric.label)}</text></g>'
        )
    parts.append("</g>")
    return parts
