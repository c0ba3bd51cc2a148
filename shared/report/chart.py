"""The per-turn latency chart of a call: one stacked bar per turn, as inline SVG built without any script.

A turn's bar is the time the caller waited for the bot's voice, from the end of their speech to the
first audio frame out, split into what it was spent on:

    end-of-turn wait -> speech to text -> agent (first sentence) -> text to speech (first frame out)

Each stage ends at a mark of `TurnLatency` (all in ms after the end of the caller's speech); a stage
whose mark is missing, or that took no time (a transcript ready before the turn ended), draws nothing,
so a turn of the form agent (no LLM token) shows no empty bar. The y axis has round ticks; the legend,
`<title>` and `<desc>` name the stages. Every piece of text goes through `markupsafe.escape`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from markupsafe import Markup, escape

from shared.models import TurnLatency

__all__ = [
    "METRICS",
    "PLOT_HEIGHT",
    "STAGES",
    "LatencyMetric",
    "Stage",
    "StageSpan",
    "latency_chart_svg",
    "nice_ceiling",
    "stage_spans",
]


@dataclass(frozen=True)
class LatencyMetric:
    """One recorded mark of a turn (a column of the numbers table)."""

    field: str
    label: str


METRICS: Final = (
    LatencyMetric("end_of_turn_ms", "Turn ended"),
    LatencyMetric("stt_final_ms", "STT final"),
    LatencyMetric("llm_first_token_ms", "LLM first token"),
    LatencyMetric("first_sentence_ms", "First sentence"),
    LatencyMetric("tts_first_audio_ms", "TTS first audio"),
    LatencyMetric("first_frame_out_ms", "First frame out"),
)


@dataclass(frozen=True)
class Stage:
    key: str
    label: str
    color: str
    ends_at: tuple[str, ...]  # the TurnLatency marks that end it, the first one present wins


STAGES: Final = (
    Stage("wait", "End-of-turn wait", "#9aa5b1", ("end_of_turn_ms",)),
    Stage("stt", "Speech to text", "#4e79a7", ("stt_final_ms",)),
    Stage("agent", "Agent", "#f28e2b", ("first_sentence_ms",)),
    Stage("tts", "Text to speech", "#59a14f", ("first_frame_out_ms", "tts_first_audio_ms")),
)


@dataclass(frozen=True)
class StageSpan:
    stage: Stage
    start_ms: float
    end_ms: float

    @property
    def ms(self) -> float:
        return self.end_ms - self.start_ms


PLOT_HEIGHT: Final = 200.0
BAR_WIDTH: Final = 26.0
BAR_GAP: Final = 18.0
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


def _mark(turn: TurnLatency, field: str) -> float | None:
    raw = getattr(turn, field)
    if raw is None or not math.isfinite(raw):
        return None
    return max(float(raw), 0.0)


def stage_spans(turn: TurnLatency) -> list[StageSpan]:
    """The turn's stages that took time, in order; each starts where the previous one ended."""
    spans: list[StageSpan] = []
    reached = 0.0
    for stage in STAGES:
        end = next((m for f in stage.ends_at if (m := _mark(turn, f)) is not None), None)
        if end is None or end <= reached:
            continue
        spans.append(StageSpan(stage, reached, end))
        reached = end
    return spans


def latency_chart_svg(
    turns: Sequence[TurnLatency], *, title: str = "Latency per turn", element_id: str = "latency-chart"
) -> Markup:
    """The chart as one `<svg>` element: one stacked bar per turn."""
    plot_width = max(len(turns) * (BAR_WIDTH + BAR_GAP) + BAR_GAP, MIN_WIDTH - MARGIN_LEFT - MARGIN_RIGHT)
    width = MARGIN_LEFT + plot_width + MARGIN_RIGHT
    columns = max(1, int((width - MARGIN_LEFT) // LEGEND_ITEM_WIDTH))
    legend_rows = math.ceil(len(STAGES) / columns)
    legend_top = MARGIN_TOP + PLOT_HEIGHT + AXIS_LABELS_HEIGHT
    height = legend_top + legend_rows * LEGEND_ROW_HEIGHT + 4
    spans = [stage_spans(turn) for turn in turns]
    top = nice_ceiling(max((s[-1].end_ms for s in spans if s), default=0.0))
    baseline = MARGIN_TOP + PLOT_HEIGHT
    ident = escape(element_id)
    stages = " then ".join(stage.label.lower() for stage in STAGES)
    description = (
        f"{len(turns)} turn(s); each bar is the time from the end of the caller's speech to the bot's "
        f"first audio, stacked as {stages}. Axis from 0 to {_ms(top)}."
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
    for index, turn_spans in enumerate(spans):
        x = MARGIN_LEFT + BAR_GAP + index * (BAR_WIDTH + BAR_GAP)
        total = turn_spans[-1].end_ms if turn_spans else 0.0
        parts.append(f'<g class="turn" data-turn="{index + 1}" data-total-ms="{_num(total)}">')
        for span in turn_spans:
            y_top = baseline - PLOT_HEIGHT * min(span.end_ms / top, 1.0)
            y_bottom = baseline - PLOT_HEIGHT * min(span.start_ms / top, 1.0)
            tooltip = f"Turn {index + 1}, {span.stage.label}: {_ms(span.ms)} (until {_ms(span.end_ms)})"
            parts.append(
                f'<rect class="segment" data-stage="{span.stage.key}" x="{_num(x)}" y="{_num(y_top)}" '
                f'width="{_num(BAR_WIDTH)}" height="{_num(y_bottom - y_top)}" fill="{span.stage.color}">'
                f"<title>{escape(tooltip)}</title></rect>"
            )
        parts.append(
            f'<text class="turn-label" x="{_num(x + BAR_WIDTH / 2)}" y="{_num(baseline + 15)}" '
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
    for index, stage in enumerate(STAGES):
        x = MARGIN_LEFT + (index % columns) * LEGEND_ITEM_WIDTH
        y = legend_top + (index // columns) * LEGEND_ROW_HEIGHT
        parts.append(
            f'<g class="legend-item" data-stage="{stage.key}">'
            f'<rect x="{_num(x)}" y="{_num(y)}" width="10" height="10" fill="{stage.color}"/>'
            f'<text x="{_num(x + 14)}" y="{_num(y + 9)}">{escape(stage.label)}</text></g>'
        )
    parts.append("</g>")
    return parts
