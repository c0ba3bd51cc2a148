"""The `said` and `tools` expectations of scenario files: what the bot said, the tools it ran."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.scenario_files import Expectations, Scenario, evaluate
from shared.models import Call, CallDirection, Message, Persona, ToolCall


def test_said_and_tools_are_checked_against_the_call() -> None:
    call = Call(
        caller_phone="+33622223333",
        direction=CallDirection.INBOUND,
        messages=[
            Message(persona=Persona.HUMAN, content="Will I get a courtesy car?"),
            Message(
                persona=Persona.ASSISTANT,
                content="Here is what our document says: a replacement vehicle is provided.",
                tool_calls=[ToolCall(id="t1", name="search_document", arguments="{}", result="[1] ...")],
            ),
        ],
    )
    expect = Expectations(said=["Replacement vehicle", "loan car"], tools=["search_document", "send_sms"])
    checks = {check.name: check.passed for check in evaluate(expect, call, "bot-after-goodbye")}
    assert checks == {
        "said 'Replacement vehicle'": True,
        "said 'loan car'": False,
        "tool search_document": True,
        "tool send_sms": False,
    }


def test_the_question_scenario_expects_the_answer_and_the_search() -> None:
    scenario = Scenario.load(Path(__file__).parents[2] / "scenarios" / "question-mid-claim-en.yaml")
    assert scenario.expect.tools == ["search_document"]
    assert scenario.expect.said


def test_a_said_expectation_that_is_no_regex_is_refused_when_loaded(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nsteps:\n  - say: hi\nexpect:\n  said: ['(']\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"(?s)bad\.yaml: invalid scenario.*not a regular expression"):
        Scenario.load(bad)
