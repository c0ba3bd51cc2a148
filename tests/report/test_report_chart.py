"""The latency chart: one group of bars per turn, bars to scale, escaped text, an accessible SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from shared.models import TurnLatency
from shared.report.chart import METRICS, PLOT_HEIGHT, latency_chart_svg, nice_ceiling

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def bars(root: ET.Element) -> list[ET.Element]:
    return [rect for rect in root.iter(f"{SVG}rect") if rect.get("class") == "bar"]


def turn(*values: float | None) -> TurnLatency:
    return TurnLatency(**{metric.field: value for metric, value in zip(METRICS, values, strict=True)})


def test_one_bar_per_stage_and_turn_in_one_group_per_turn() -> None:
    root = parse(latency_chart_svg([turn(1, 2, 3, 4, 5), turn(5, 4, 3, 2, 1), turn(9, 9, 9, 9, 9)]))
    groups = [g for g in root.iter(f"{SVG}g") if g.get("class") == "turn"]
    assert [g.get("data-turn") for g in groups] == ["1", "2", "3"]
    assert len(bars(root)) == 15
    for group in groups:
        in_group = [r.get("data-metric") for r in group.iter(f"{SVG}rect")]
        assert in_group == [metric.field for metric in METRICS]


def test_a_stage_not_reached_draws_no_bar() -> None:
    root = parse(latency_chart_svg([turn(100, None, None, None, None), turn(100, 200, None, 300, 310)]))
    assert [bar.get("data-metric") for bar in bars(root)] == [
        "stt_final_ms",
        "stt_final_ms",
        "llm_first_token_ms",
        "tts_first_audio_ms",
        "first_frame_out_ms",
    ]


def test_bars_are_to_scale_against_a_round_axis_top() -> None:
    root = parse(latency_chart_svg([turn(100, 50, 25, 0, 75)]))
    heights = [float(bar.get("height", "nan")) for bar in bars(root)]
    assert heights == [PLOT_HEIGHT, PLOT_HEIGHT / 2, PLOT_HEIGHT / 4, 0.0, PLOT_HEIGHT * 3 / 4]
    baselines = {round(float(bar.get("y", "nan")) + float(bar.get("height", "nan")), 6) for bar in bars(root)}
    assert len(baselines) == 1  # every bar stands on the x axis
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "tick"]
    assert ticks == ["0", "25", "50", "75", "100"]


def test_the_axis_top_is_the_next_round_number_above_the_slowest_stage() -> None:
    root = parse(latency_chart_svg([turn(130, 260, 390, 520, 1300)]))
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "tick"]
    assert ticks[-1] == "2000"
    tallest = max(float(bar.get("height", "nan")) for bar in bars(root))
    assert tallest == pytest.approx(PLOT_HEIGHT * 1300 / 2000)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 100), (-5, 100), (1, 1), (7, 10), (101, 200), (180, 200), (201, 250), (2400, 2500), (4001, 5000)],
)
def test_nice_ceiling(value: float, expected: float) -> None:
    assert nice_ceiling(value) == expected


def test_text_is_escaped_and_the_chart_is_accessible() -> None:
    svg = latency_chart_svg([turn(1, 2, 3, 4, 5)], title="<script>alert(1)</script>", element_id='x"><b')
    assert "<script>" not in svg
    root = parse(svg)
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == "<script>alert(1)</script>"
    assert root.get("aria-labelledby") == title.get("id")
    desc = root.find(f"{SVG}desc")
    assert desc is not None and root.get("aria-describedby") == desc.get("id")


def test_legend_names_every_stage_and_bars_have_tooltips() -> None:
    root = parse(latency_chart_svg([turn(10, 20, 30, 40, 50)]))
    legend = [g for g in root.iter(f"{SVG}g") if g.get("class") == "legend-item"]
    assert [g.findtext(f"{SVG}text") for g in legend] == [metric.label for metric in METRICS]
    assert bars(root)[0].findtext(f"{SVG}title") == "Turn 1, STT final: 10 ms"


def test_no_turn_still_gives_a_valid_empty_chart() -> None:
    root = parse(latency_chart_svg([]))
    assert bars(root) == []
    assert root.get("viewBox")
