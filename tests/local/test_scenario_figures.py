"""Scenario results: who ended the call, the run's one figure, and the shipped suite over text."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.scenario_files import Check, Scenario, ScenarioResult, ended_by, figures
from local.text_scenarios import run_text_scenarios
from shared.models import Call, CallInitiate, Message, Persona, ToolCall

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def _call(*messages: Message) -> Call:
    return Call(caller_phone="+33612345678", initiate=CallInitiate(), messages=list(messages))


def test_ended_by_tells_a_goodbye_answered_from_a_bot_giving_up() -> None:
    goodbye = Message(
        persona=Persona.ASSISTANT,
        content="Goodbye!",
        tool_calls=[ToolCall(id="1", name="end_call", arguments="{}")],
    )
    after_caller = _call(Message(persona=Persona.HUMAN, content="bye"), goodbye)
    alone = _call(Message(persona=Persona.ASSISTANT, content="Are you still there?"), goodbye)
    assert ended_by(after_caller, caller_hung_up=False) == "bot-after-goodbye"
    assert ended_by(alone, caller_hung_up=False) == "bot-alone"
    assert ended_by(alone, caller_hung_up=True) == "caller"


def test_figures_count_fields_exact_and_endings() -> None:
    good = ScenarioResult("a", checks=[Check("claim.x", True, ""), Check("ended_by", True, "")])
    bad = ScenarioResult("b", checks=[Check("claim.x", False, ""), Check("claim.y", True, "")])
    numbers = figures([good, bad])
    assert (numbers["fields_exact"], numbers["fields_expected"]) == (2, 3)
    assert (numbers["ended_as_intended"], numbers["endings_expected"]) == (1, 1)


def test_the_shipped_suite_is_large_bilingual_and_has_one_number_per_caller() -> None:
    scenarios = [Scenario.load(path) for path in sorted(SCENARIOS.glob("*.yaml"))]
    assert len(scenarios) >= 40
    assert sum(s.lang.startswith("fr") for s in scenarios) >= 10
    callers = [s.call.caller for s in scenarios]
    assert len(callers) == len(set(callers)), "a shared number would resume another scenario's call"


@pytest.mark.parametrize("name", ["email-correction-en", "one-breath-en", "tout-dun-coup-fr"])
async def test_shipped_scenarios_pass_over_text(tmp_path: Path, name: str) -> None:
    scenario = Scenario.load(SCENARIOS / f"{name}.yaml")
    results = await run_text_scenarios([scenario], echo=lambda _line: None, data_dir=tmp_path)
    assert [r.passed for r in results] == [True], results[0].checks
    assert results[0].fields[0] == results[0].fields[1] > 0
