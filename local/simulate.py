"""`callcenter simulate` (scenario files) and `callcenter demo` (one whole phone call, offline)."""

from __future__ import annotations

import asyncio
import json
import secrets
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from local.dev import LocalStack, free_port
from local.scenario_files import shortfalls
from local.scenario_pool import run_pool
from local.scenarios import Scenario, ScenarioResult, ScenarioRunner, figures, figures_line
from local.text_scenarios import run_text_scenarios
from shared.composition import build_services
from shared.models import Call
from shared.report.access import relative_report_link
from shared.speech.base import TextToSpeech
from shared.speech.routing import language_family

REPO = Path(__file__).resolve().parents[1]
SCENARIOS_DIR = REPO / "scenarios"
DEMO_SCENARIO = SCENARIOS_DIR / "insurance-claim-en.yaml"
POST_CALL_WAIT_SEC = 45.0
DEV_API_URL = "http://127.0.0.1:7071"  # `callcenter dev`'s default function app address

Printer = Callable[[str], None]


def caller_voices(piper_voices: Mapping[str, Path] | None = None) -> Callable[[str], TextToSpeech]:
    """The caller's voice: piper for English (and for each language family of `piper_voices`, a
    piper `.onnx` voice per family, e.g. {"fr": path}), espeak-ng for the other languages (local,
    offline). Raises ValueError when a given voice or its `.onnx.json` config is missing."""
    from shared.speech.espeak_tts import EspeakTts  # noqa: PLC0415
    from shared.speech.models import piper_voice_path  # noqa: PLC0415
    from shared.speech.piper_tts import PiperTts  # noqa: PLC0415

    for family, path in (piper_voices or {}).items():
        _check_piper_voice(family, path)
    piper = PiperTts({"en": piper_voice_path(), **(piper_voices or {})}, steady=True)
    espeak = EspeakTts(word_gap_ms=50)
    return lambda lang: piper if piper.supports(lang) else espeak


def parse_caller_voices(specs: Sequence[str]) -> dict[str, Path]:
    """`FAMILY=PATH` options (e.g. "fr=voices/fr_FR-x-medium.onnx") as {family: path}."""
    voices: dict[str, Path] = {}
    for spec in specs:
        family, sep, path = spec.partition("=")
        if not sep or not family.strip() or not path.strip():
            raise ValueError(
                f"--caller-voice wants LANGUAGE=PATH.onnx (e.g. fr=fr_FR-voice.onnx), got {spec!r}"
            )
        voices[language_family(family.strip())] = _check_piper_voice(family, Path(path.strip()).expanduser())
    return voices


def _check_piper_voice(family: str, path: Path) -> Path:
    config = path.with_name(path.name + ".json")
    if not path.is_file() or not config.is_file():
        raise ValueError(f"caller voice {family}={path}: no such .onnx file, or no {config.name} beside it")
    return path


def load_scenarios(paths: Sequence[Path]) -> list[Scenario]:
    files: list[Path] = []
    for path in paths:
        files += sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    if not files:
        raise ValueError("no scenario file given (or the folder has no .yaml)")
    return [Scenario.load(file) for file in files]


async def run_scenarios(
    scenarios: Sequence[Scenario],
    *,
    speed: float,
    echo: Printer,
    data_dir: Path,
    overrides: dict[str, Any] | None = None,
    jobs: int = 1,
    caller_piper_voices: Mapping[str, Path] | None = None,
) -> tuple[list[ScenarioResult], LocalStack]:
    stack = LocalStack(
        api_port=free_port(),
        media_port=free_port(),
        data_dir=data_dir,
        speed=speed,
        overrides=overrides or {},
    )
    echo("starting the ACS simulator, the function app and the media host...")
    started = time.monotonic()
    await asyncio.to_thread(stack.start)
    echo(f"started in {time.monotonic() - started:.1f} s (the speech models load in the background)")
    assert stack.settings is not None
    services = build_services(stack.settings)
    try:
        runner = ScenarioRunner(stack, services, caller_voices(caller_piper_voices), echo=echo)
        results = await run_pool(runner, scenarios, jobs=jobs, echo=echo)
    finally:
        await services.aclose()
        await asyncio.to_thread(stack.stop)
    return results, stack


def simulate(
    paths: Sequence[Path],
    *,
    speed: float,
    json_path: Path | None,
    echo: Printer,
    with_llm: bool,
    keep: Path | None = None,
    modes: Sequence[str] = ("audio", "text"),
    jobs: int = 1,
    caller_piper_voices: Mapping[str, Path] | None = None,
    strict: bool = False,
) -> int:
    """Run the scenarios as phone calls (audio) and through `callcenter chat` (text); print the pass
    count and one figure per mode. ``keep``: a folder that keeps the call documents (else a temporary
    one). ``jobs``: phone calls at a time, each in real time (`local.scenario_pool`).
    ``caller_piper_voices``: piper voices for the callers, per language family (`caller_voices`).
    Exit status 1 when the run falls short of its targets (`shortfalls`), or with ``strict`` when
    any scenario failed."""
    scenarios = [s for s in load_scenarios(paths) if with_llm or not s.llm]
    results: list[ScenarioResult] = []
    text_results: list[ScenarioResult] = []
    with tempfile.TemporaryDirectory(prefix="callcenter-sim-") as data:
        folder = keep or Path(data)
        if "audio" in modes:
            audio = [s for s in scenarios if "audio" in s.modes]
            results, _stack = asyncio.run(
                run_scenarios(
                    audio,
                    speed=speed,
                    echo=echo,
                    data_dir=folder,
                    jobs=jobs,
                    caller_piper_voices=caller_piper_voices,
                )
            )
        if "text" in modes:
            text_results = asyncio.run(run_text_scenarios(scenarios, echo=echo, data_dir=folder / "text"))
    everything = results + text_results
    summary = {
        "passed": sum(r.passed for r in everything),
        "total": len(everything),
        "figures": {"audio": figures(results), "text": figures(text_results)},
        "scenarios": [r.summary() for r in everything],
    }
    text = json.dumps(summary, indent=2)
    if json_path is not None:
        json_path.write_text(text, encoding="utf-8")
    echo(text if json_path is None else f"JSON summary: {json_path}")
    if keep is not None:
        echo(f"call documents kept in {keep}")
    echo(f"{summary['passed']}/{summary['total']} scenarios passed")
    for mode, mode_results in (("audio", results), ("text", text_results)):
        if mode in modes:
            echo(figures_line(f"over {mode}", mode_results))
    reasons = shortfalls(results, text_results)
    for reason in reasons:
        echo(f"short of the targets: {reason}")
    failed = summary["passed"] != summary["total"]
    if failed and not reasons and not strict:
        echo("every figure meets its target (--strict: fail on any failed scenario)")
    return 1 if reasons or (strict and failed) else 0


async def _after_the_call(stack: LocalStack, call_id: str, echo: Printer) -> Call | None:
    """Wait for the post-call job (synthesis, SMS) and print what the company and the caller got."""
    assert stack.settings is not None
    services = build_services(stack.settings)
    try:
        deadline = time.monotonic() + POST_CALL_WAIT_SEC
        call = await services.store.get(UUID(call_id))
        while call is not None and call.synthesis is None and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            call = await services.store.get(UUID(call_id))
        return call
    finally:
        await services.aclose()


def demo(*, echo: Printer, data_dir: Path) -> int:
    scenario = Scenario.load(DEMO_SCENARIO)
    # a new caller each run: the same number would resume the previous demo's conversation
    scenario.call.caller = f"+336{secrets.randbelow(10**8):08d}"
    echo("Call Center AI demo: a caller rings the company's number; everything runs on this machine.")

    async def run() -> tuple[ScenarioResult, Call | None, LocalStack]:
        results, stack = await run_scenarios([scenario], speed=1.0, echo=echo, data_dir=data_dir)
        call = await _after_the_call(stack, results[0].call_id, echo) if results[0].call_id else None
        return results[0], call, stack

    result, call, stack = asyncio.run(run())
    if call is not None:
        _print_call(call, stack, echo, data_dir)
    echo("demo " + ("passed" if result.passed else "FAILED"))
    return 0 if result.passed else 1


def _print_call(call: Call, stack: LocalStack, echo: Printer, data_dir: Path) -> None:
    echo("\nclaim:")
    for name, value in call.claim.items():
        echo(f"  {name}: {value}")
    echo("reminders:" + ("" if call.reminders else " none"))
    for reminder in call.reminders:
        echo(f"  {reminder.title} ({reminder.owner}) due {reminder.due_date_time:%Y-%m-%d %H:%M}")
    if call.synthesis is not None:
        echo(f"synthesis: {call.synthesis.short}")
        echo(f"  satisfaction: {call.synthesis.satisfaction}")
    else:
        echo("synthesis: not ready (the post-call job did not finish in time)")
    if call.next is not None:
        echo(f"next action: {call.next.action} ({call.next.justification})")
    simulator = stack.simulator
    outbox = simulator.outbox if simulator is not None else []
    echo("SMS outbox:" + ("" if outbox else " empty"))
    for sms in outbox:
        echo(f"  to {sms.to_number}: {sms.message}")
    assert stack.settings is not None
    # the demo's servers have stopped: `callcenter dev` on the demo's data folder serves the report,
    # and signs with the same key (kept in that folder), so the link opens there
    link = DEV_API_URL + relative_report_link(stack.settings, call)
    echo(f"\nreport of this call: run   .venv/bin/callcenter dev --data {data_dir}")
    echo(f"  then open   {link}")
