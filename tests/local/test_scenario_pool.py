"""`callcenter simulate --jobs N`: several scenario calls at once on one stack, each keeping its own
bot, claim schema and language; barge-in scenarios alone; results in file order; a bad --jobs is a
one-line error."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from local.cli import main
from local.dev import LocalStack, free_port
from local.scenario_pool import estimated_sec, run_pool, runs_alone
from local.scenarios import Scenario, ScenarioRunner
from local.speech_stubs import EnergyVad, ScriptedStt, ToneTts
from shared.composition import Services, build_services
from shared.models import Call, Persona
from shared.speech.base import SpeechEngines

SCENARIOS = Path(__file__).parents[2] / "scenarios"
BOTS = [
    ("Ingrid", "Fjord Mutual", "bike_frame"),
    ("Kofi", "Accra Home", "roof_tiles"),
    ("Mei", "Lotus Care", "pet_name"),
]


def _engines(_services: Services) -> SpeechEngines:
    return SpeechEngines(vad=EnergyVad(), stt=ScriptedStt(), tts=ToneTts())


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    running = LocalStack(
        api_port=free_port(),
        media_port=free_port(),
        data_dir=tmp_path_factory.mktemp("pool"),
        speech=_engines,
    )
    with running:
        yield running


def _scenario(folder: Path, number: int, bot: str, company: str, field: str) -> Scenario:
    path = folder / f"caller-{number}.yaml"
    path.write_text(
        f"name: caller-{number}\n"
        "lang: en-US\n"
        "modes: [audio]\n"
        f"bot: {{name: {bot}, company: {company}}}\n"
        f"claim: [{{name: {field}, type: text, description: what the caller says about it}}]\n"
        f'call: {{direction: inbound, caller: "+3361288{number:04d}"}}\n'
        "steps:\n  - pause: 3\n  - hang_up: true\n"
        "expect: {ended_by: caller}\n",
        encoding="utf-8",
    )
    return Scenario.load(path)


def test_calls_at_once_keep_their_own_bot_and_claim_schema(stack: LocalStack, tmp_path: Path) -> None:
    scenarios = [_scenario(tmp_path, n, *bot) for n, bot in enumerate(BOTS)]
    lines: list[str] = []

    async def run() -> tuple[list[float], list[Call]]:
        assert stack.settings is not None
        services = build_services(stack.settings)
        try:
            runner = ScenarioRunner(stack, services, lambda _lang: ToneTts(), echo=lines.append)
            results = await run_pool(runner, scenarios, jobs=3, echo=lines.append)
            calls = [await services.store.get(UUID(r.call_id or "")) for r in results]
        finally:
            await services.aclose()
        assert [r.name for r in results] == [s.name for s in scenarios]  # file order
        assert all(r.passed for r in results), lines
        return [r.seconds for r in results], [c for c in calls if c is not None]

    seconds, calls = asyncio.run(run())
    assert len(calls) == len(BOTS)
    for call, (bot, company, field) in zip(calls, BOTS, strict=True):
        assert (call.initiate.bot_name, call.initiate.bot_company) == (bot, company)
        assert [f.name for f in call.initiate.claim] == [field]
        greeting = next(m.content for m in call.messages if m.persona is Persona.ASSISTANT)
        assert bot in greeting and company in greeting
    # each scenario's lines are printed together: its header, its transcript, then its result
    for number, (bot, _company, _field) in enumerate(BOTS):
        block = lines[
            lines.index(f"--- caller-{number}") : lines.index(
                f"PASS caller-{number} ({seconds[number]:.1f} s)"
            )
        ]
        assert not any(line.startswith(("--- ", "PASS ", "FAIL ")) for line in block[1:])
        assert any(bot in line for line in block)


def test_barge_in_scenarios_run_alone_and_long_calls_start_first() -> None:
    shipped = {path.stem: Scenario.load(path) for path in SCENARIOS.glob("*.yaml")}
    alone = {name for name, scenario in shipped.items() if runs_alone(scenario)}
    assert {"barge-in-en", "barge-in-greeting-en", "barge-in-question-en"} <= alone
    assert all(name.startswith("barge-in") for name in alone)
    assert estimated_sec(shipped["long-silence-en"]) > estimated_sec(shipped["full-claim-en"])
    assert estimated_sec(shipped["full-claim-en"]) > estimated_sec(shipped["hangs-up-after-greeting-en"])


def test_jobs_below_one_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["simulate", str(SCENARIOS / "goodbye-fr.yaml"), "--jobs", "0"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == "callcenter simulate: --jobs must be at least 1"
