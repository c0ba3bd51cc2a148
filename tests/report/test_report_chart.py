"""The latency chart: a stacked bar per turn (wait -> STT -> agent -> TTS), to scale, escaped, accessible."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from shared.models import TurnLatency
from shared.report.chart import PLOT_HEIGHT, STAGES, latency_chart_svg, nice_ceiling, stage_spans

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def segments(root: ET.Element) -> list[ET.Element]:
    return [rect for rect in root.iter(f"{SVG}rect") if rect.get("class") == "segment"]


def turn(  # noqa: PLR0917 (the six marks in their order read best positionally)
    wait: float | None = None,
    stt: float | None = None,
    token: float | None = None,
    sentence: float | None = None,
    tts: float | None = None,
    frame: float | None = None,
) -> TurnLatency:
    return TurnLatency(
        end_of_turn_ms=wait,
        stt_final_ms=stt,
        llm_first_token_ms=token,
        first_sentence_ms=sentence,
        tts_first_audio_ms=tts,
        first_frame_out_ms=frame,
    )


def test_one_stacked_bar_per_turn_in_stage_order() -> None:
    root = parse(latency_chart_svg([turn(300, 400, 450, 500, 600, 620), turn(200, 350, None, 380, 420, 430)]))
    groups = [g for g in root.iter(f"{SVG}g") if g.get("class") == "turn"]
    assert [g.get("data-turn") for g in groups] == ["1", "2"]
    assert [g.get("data-total-ms") for g in groups] == ["620", "430"]
    for group in groups:
        assert [r.get("data-stage") for r in group.iter(f"{SVG}rect")] == ["wait", "stt", "agent", "tts"]


def test_the_stages_add_up_to_the_first_frame_out() -> None:
    spans = stage_spans(turn(300, 400, 450, 500, 600, 620))
    assert [(s.stage.key, s.start_ms, s.end_ms) for s in spans] == [
        ("wait", 0, 300),
        ("stt", 300, 400),
        ("agent", 400, 500),
        ("tts", 500, 620),  # to the first frame out: what the caller hears
    ]
    assert sum(s.ms for s in spans) == 620


def test_a_stage_not_reached_or_taking_no_time_draws_nothing() -> None:
    # the form agent: no LLM token; a transcript ready before the turn ended (stt <= wait); no wait recorded
    assert [s.stage.key for s in stage_spans(turn(None, 120, None, 300, 350, None))] == [
        "stt",
        "agent",
        "tts",
    ]
    assert [s.stage.key for s in stage_spans(turn(300, 250, None, 320, 400, 410))] == ["wait", "agent", "tts"]
    assert stage_spans(turn()) == []
    root = parse(latency_chart_svg([turn(), turn(None, 100)]))
    assert [r.get("data-stage") for r in segments(root)] == ["stt"]


def test_segments_are_stacked_to_scale_against_a_round_axis_top() -> None:
    root = parse(latency_chart_svg([turn(25, 50, None, 75, None, 100)]))
    heights = [float(r.get("height", "nan")) for r in segments(root)]
    assert heights == [PLOT_HEIGHT / 4] * 4
    tops = [float(r.get("y", "nan")) for r in segments(root)]
    bottoms = [top + height for top, height in zip(tops, heights, strict=True)]
    assert bottoms[1:] == tops[:-1]  # each stage sits on the previous one
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "tick"]
    assert ticks == ["0", "25", "50", "75", "100"]


def test_the_axis_top_is_the_next_round_number_above_the_slowest_turn() -> None:
    root = parse(
        latency_chart_svg([turn(300, 400, None, 500, 600, 1300), turn(100, 200, None, 300, 400, 410)])
    )
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "tick"]
    assert ticks[-1] == "2000"
    first = [r for r in segments(root)][:4]
    assert sum(float(r.get("height", "nan")) for r in first) == pytest.approx(PLOT_HEIGHT * 1300 / 2000)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 100), (-5, 100), (1, 1), (7, 10), (101, 200), (180, 200), (201, 250), (2400, 2500), (4001, 5000)],
)
def test_nice_ceiling(value: float, expected: float) -> None:
    assert nice_ceiling(value) == expected


def test_text_is_escaped_and_the_chart_is_accessible() -> None:
    svg = latency_chart_svg([turn(1, 2, 3, 4, 5, 6)], title="<script>alert(1)</script>", element_id='x"><b')
    assert "<script>" not in svg
    root = parse(svg)
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == "<script>alert(1)</script>"
    assert root.get("aria-labelledby") == title.get("id")
    desc = root.find(f"{SVG}desc")
    assert desc is not None and root.get("aria-describedby") == desc.get("id")
    assert desc.text is not None and "end-of-turn wait then speech to text" in desc.text


def test_legend_names_every_stage_and_segments_have_tooltips() -> None:
    root = parse(latency_chart_svg([turn(300, 400, 450, 500, 600, 620)]))
    legend = [g for g in root.iter(f"{SVG}g") if g.get("class") == "legend-item"]
    assert [g.findtext(f"{SVG}text") for g in legend] == [stage.label for stage in STAGES]
    tooltips = [r.findtext(f"{SVG}title") for r in segments(root)]
    assert tooltips[0] == "Turn 1, End-of-turn wait: 300 ms (until 300 ms)"
    assert tooltips[3] == "Turn 1, Text to speech: 120 ms (until 620 ms)"


def test_no_turn_still_gives_a_valid_empty_chart() -> None:
    root = parse(latency_chart_svg([]))
    assert segments(root) == []
    assert root.get("viewBox")
