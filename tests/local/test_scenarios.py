"""Scenario files: every shipped one loads, and expectations compare claim values as documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.scenarios import Scenario, claim_value_matches, evaluate
from shared.models import Call, CallDirection

SCENARIOS = sorted((Path(__file__).parents[2] / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_shipped_scenario_loads(path: Path) -> None:
    scenario = Scenario.load(path)
    assert scenario.name == path.stem
    assert scenario.steps


def test_at_least_ten_scenarios_ship() -> None:
    assert len(SCENARIOS) >= 10


@pytest.mark.parametrize(
    ("wanted", "got", "matches"),
    [
        ("+33798765432", "+33798765432", True),  # no valid regex: compared as is
        ("+33798765432", "+33908765432", False),
        ("John Smith", "john smith", True),  # a regex, case-insensitive
        (r"\d{4}-03-03T09:00:00.*", "2026-03-03T09:00:00+01:00", True),
        (r"\d{4}-03-03T09:00:00.*", "2026-03-04T09:00:00+01:00", False),
        ("Smith", "John Smith", False),  # the whole value
        ("(", "(", True),
    ],
)
def test_claim_value_matches(wanted: str, got: str, matches: bool) -> None:
    assert claim_value_matches(wanted, got) is matches


def test_evaluate_reports_a_literal_phone_number_expectation() -> None:
    scenario = Scenario.load(Path(__file__).parents[2] / "scenarios" / "phone-in-groups-en.yaml")
    call = Call(
        caller_phone="+33655556666",
        direction=CallDirection.INBOUND,
        claim={"caller_name": "Mary Jones", "caller_phone": "+33908765432"},
    )
    checks = {check.name: check for check in evaluate(scenario.expect, call, "caller")}
    assert checks["claim.caller_name"].passed
    assert not checks["claim.caller_phone"].passed
    assert "+33908765432" in checks["claim.caller_phone"].detail
    assert checks["ended_by"].passed


def test_a_bad_scenario_names_the_file_and_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nsteps:\n  - say: hi\n    pause: 2\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"(?s)bad\.yaml: invalid scenario.*exactly one of"):
        Scenario.load(bad)
