"""Several scenario calls at once on one LocalStack (`callcenter simulate --jobs N`).

Each call still runs in real time: the caller's frames and the bot's are paced at 20 ms and every
turn-taking rule (VAD windows, end-of-turn silences, the silence prompts) sees the same audio as in a
call run alone. What the pool saves is the wall time: a real-time call leaves the cores mostly idle
(about a quarter of one core on average), so several calls share them. The longest calls start first
so that the last ones to finish are short.

A scenario that measures timing (a `barge_in` step: words said a chosen time into the bot's speech)
runs alone after the others, as it would with `--jobs 1`. With one job the scenarios run in file
order and each transcript is printed as it happens; with more, each scenario's lines are printed
together when it ends, and the results are kept in file order.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence

from local.scenario_files import Scenario, ScenarioResult
from local.scenarios import ScenarioRunner

Printer = Callable[[str], None]

CALLS_PER_CORE = 1
"""The default `--jobs`: real-time calls per core. More calls queue their transcriptions (one Whisper
decode at a time on 2 cores), turns end later and differently (docs/scenario-figures.md)."""
# the rough length of a call, to start the longest first (fitted on a sequential run of the suite):
GREETING_SEC = 5.0
LINE_SEC = 8.0  # a caller line and the bot's answer
PAUSE_FACTOR = 1.5  # a silence draws the bot's prompts, and the call ends after the last of them


def default_jobs() -> int:
    return max(1, CALLS_PER_CORE * (os.cpu_count() or 1))


def runs_alone(scenario: Scenario) -> bool:
    """A barge-in is timed into the bot's speech: no other call shares the cores with it."""
    return any(step.barge_in is not None for step in scenario.steps)


def estimated_sec(scenario: Scenario) -> float:
    spoken = (step for step in scenario.steps if step.say or step.wav or step.barge_in)
    lines = sum(1 for _ in spoken)
    pauses = sum(step.pause or 0.0 for step in scenario.steps)
    return GREETING_SEC + LINE_SEC * lines + PAUSE_FACTOR * pauses


def print_result(result: ScenarioResult, echo: Printer) -> None:
    status = "PASS" if result.passed else "FAIL"
    echo(f"{status} {result.name} ({result.seconds:.1f} s)")
    if result.error:
        echo(f"  error: {result.error}")
    for check in result.checks:
        echo(f"  [{'ok' if check.passed else 'KO'}] {check.name}: {check.detail}")
    for number, turn in enumerate(result.turns, 1):
        parts = ", ".join(f"{k.removesuffix('_ms')} {v:.0f} ms" for k, v in turn.items() if v is not None)
        echo(f"  turn {number}: {parts}")


def _header(scenario: Scenario) -> str:
    return f"--- {scenario.name}: {scenario.description}".rstrip(": ")


async def _run_live(runner: ScenarioRunner, scenario: Scenario, echo: Printer) -> ScenarioResult:
    echo(_header(scenario))
    result = await runner.run(scenario, echo=echo)
    print_result(result, echo)
    return result


async def _run_buffered(runner: ScenarioRunner, scenario: Scenario, echo: Printer) -> ScenarioResult:
    lines = [_header(scenario)]
    result = await runner.run(scenario, echo=lines.append)
    print_result(result, lines.append)
    for line in lines:  # one block per scenario, not the calls' lines interleaved
        echo(line)
    return result


async def run_pool(
    runner: ScenarioRunner, scenarios: Sequence[Scenario], *, jobs: int, echo: Printer
) -> list[ScenarioResult]:
    """Run the scenarios, ``jobs`` calls at a time (the barge-in ones alone); results in file order."""
    if jobs < 1:
        raise ValueError("--jobs must be at least 1")
    if jobs == 1:
        return [await _run_live(runner, scenario, echo) for scenario in scenarios]
    results: dict[int, ScenarioResult] = {}
    shared = sorted(
        (i for i, s in enumerate(scenarios) if not runs_alone(s)),
        key=lambda i: estimated_sec(scenarios[i]),
        reverse=True,
    )
    waiting = list(shared)

    async def worker() -> None:
        while waiting:
            index = waiting.pop(0)
            results[index] = await _run_buffered(runner, scenarios[index], echo)

    echo(f"{len(shared)} calls {min(jobs, len(shared))} at a time, then {len(scenarios) - len(shared)} alone")
    async with asyncio.TaskGroup() as group:  # the workers are owned here and awaited together
        for _ in range(min(jobs, len(shared))):
            group.create_task(worker())
    for index, scenario in enumerate(scenarios):
        if index not in results:
            results[index] = await _run_live(runner, scenario, echo)
    return [results[i] for i in range(len(scenarios))]
