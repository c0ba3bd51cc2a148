"""Scenario results: who ended the call, the run's one figure, and the shipped suite over text."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.scenario_files import Check, Scenario, ScenarioResult, ended_by, figures, shortfalls
from local.simulate import simulate
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


def _result(name: str, *checks: tuple[str, bool], mode: str = "audio") -> ScenarioResult:
    return ScenarioResult(name, checks=[Check(n, ok, "") for n, ok in checks], mode=mode)


def test_a_run_within_the_targets_has_no_shortfall_even_with_one_misheard_field() -> None:
    """One recogniser miss in a large run is what the targets allow (>= 95 % of fields over audio):
    the scenario is still reported as failed, the run is not."""
    heard = [_result(f"a{i}", ("claim.x", True), ("ended_by", True)) for i in range(19)]
    misheard = _result("b", ("claim.x", False), ("ended_by", True))
    text = [_result(f"t{i}", ("claim.x", True), mode="text") for i in range(10)]
    assert not misheard.passed
    assert shortfalls([*heard, misheard], text) == []


def test_a_run_under_a_target_or_with_another_failed_check_or_an_error_falls_short() -> None:
    audio = [_result("a", ("claim.x", True), ("claim.y", False), ("ended_by", True))]
    assert any("claim fields exact over audio: 50.0% < 95%" in s for s in shortfalls(audio, []))
    text = [_result(f"t{i}", ("claim.x", True), mode="text") for i in range(49)]
    text.append(_result("t", ("claim.x", False), mode="text"))  # 98.0 %: the target, met
    assert shortfalls([], text) == []
    text.append(_result("u", ("claim.x", False), mode="text"))
    assert shortfalls([], text) == ["claim fields exact over text: 96.1% < 98%"]
    ended = [_result(f"e{i}", ("ended_by", True)) for i in range(19)] + [_result("z", ("ended_by", False))]
    assert shortfalls(ended, []) == []  # 95 %
    ended.append(_result("y", ("transfer", False)))
    assert shortfalls(ended, []) == ["calls ending as intended over audio: 90.5% < 95%"]
    said = _result("s", ("claim.x", True), ("said 'goodbye'", False))
    assert shortfalls([said], []) == ["s (audio): said 'goodbye' failed"]
    broken = ScenarioResult("crash", error="the media host went away")
    assert shortfalls([broken], []) == [
        "crash (audio): the media host went away",
        "calls ending as intended over audio: 0.0% < 95%",
    ]


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


def _misheard_copy(folder: Path) -> Path:
    """water-leak-en as another caller, expecting a name the caller never says: one field missed."""
    text = (SCENARIOS / "water-leak-en.yaml").read_text(encoding="utf-8")
    text = text.replace("name: water-leak-en", "name: misheard-en").replace("+33611000001", "+33611009999")
    path = folder / "misheard-en.yaml"
    path.write_text(text.replace('caller_name: "Olivia Brown"', 'caller_name: "Olivia Browne"'), "utf-8")
    return path


@pytest.mark.parametrize(("strict", "status"), [(False, 0), (True, 1)])
def test_simulate_fails_the_run_under_its_targets_or_with_strict_on_any_miss(
    tmp_path: Path, strict: bool, status: int
) -> None:
    lines: list[str] = []
    suite = [*sorted(SCENARIOS.glob("*.yaml")), _misheard_copy(tmp_path)]
    code = simulate(
        suite, speed=1.0, json_path=None, echo=lines.append, with_llm=False, modes=("text",), strict=strict
    )
    assert code == status
    assert any(line.startswith("FAIL misheard-en") for line in lines)
    alone = simulate(
        [_misheard_copy(tmp_path)],
        speed=1.0,
        json_path=None,
        echo=lines.append,
        with_llm=False,
        modes=("text",),
    )
    assert alone == 1  # one scenario, 4 of 5 fields: under the target
    assert "short of the targets: claim fields exact over text: 80.0% < 98%" in lines
