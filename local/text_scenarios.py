"""Scenario files played over text: `callcenter chat` driven by the same steps as the phone calls.

Each caller line (`say`, `barge_in`) is typed into the chat, a key press becomes `/key N`, a hang-up
ends the chat and a ring-back opens it again on the same number (the conversation resumes). Pauses
mean nothing over text, and a scenario made of audio files or silence only (`modes: [audio]`) is left
to the phone run. The call is judged with the same checks as over audio.
"""

from __future__ import annotations

import io
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from local.chat import KEY_COMMAND, run_chat
from local.indexing import seed_demo_knowledge
from local.scenario_files import Scenario, ScenarioResult, Step, ended_by, evaluate, parts
from shared.models import Call, CallDirection, CallInitiate, Persona
from shared.settings import Settings, load_settings

Printer = Callable[[str], None]
_ENDING_TOOLS = frozenset({"end_call", "talk_to_human"})


def _lines(steps: list[Step]) -> Iterator[str]:
    for step in steps:
        if step.say is not None or step.barge_in is not None:
            yield step.say or step.barge_in or ""
        elif step.dtmf is not None:
            yield from (f"{KEY_COMMAND} {key}" for key in step.dtmf)
        elif step.hang_up:
            return


def _bot_ended(call: Call) -> bool:
    assistant = [m for m in call.messages if m.persona is Persona.ASSISTANT]
    return bool(assistant) and any(t.name in _ENDING_TOOLS for t in assistant[-1].tool_calls)


async def run_text_scenario(settings: Settings, scenario: Scenario, *, echo: Printer) -> ScenarioResult:
    result = ScenarioResult(scenario.name, mode="text")
    started = time.monotonic()
    inbound = scenario.call.direction == "inbound"
    direction = CallDirection.INBOUND if inbound else CallDirection.OUTBOUND
    final: Call | None = None
    try:
        request = {**scenario.request_fields(), **({} if inbound else scenario.call.request or {})}
        base = (settings.inbound if inbound else CallInitiate()).model_dump(mode="json")
        initiate = CallInitiate.model_validate(
            {**base, **{key: value for key, value in request.items() if key in CallInitiate.model_fields}}
        )
        for part in parts(scenario.steps):
            lines = _lines(part)
            out = io.StringIO()

            def read_line(_prompt: str, lines: Iterator[str] = lines, out: io.StringIO = out) -> str:
                line = next(lines, None)
                if line is None:
                    raise EOFError
                print(f"you> {line}", file=out)
                return line

            final = await run_chat(
                settings,
                phone=scenario.call.caller,
                read_line=read_line,
                out=out,
                initiate=initiate,
                direction=direction,
            )
            for line in out.getvalue().splitlines():
                result.transcript.append(line)
                echo(f"  {line}")
        assert final is not None
        result.call_id = str(final.call_id)
        result.checks = evaluate(scenario.expect, final, ended_by(final, not _bot_ended(final)))
    except (ValueError, AssertionError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    result.seconds = time.monotonic() - started
    return result


async def run_text_scenarios(
    scenarios: Sequence[Scenario], *, echo: Printer, data_dir: Path | None = None
) -> list[ScenarioResult]:
    """Every scenario that runs over text, on a store of its own (a temporary folder by default)."""
    with tempfile.TemporaryDirectory(prefix="callcenter-chat-") as temporary:
        folder = data_dir or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        settings = load_settings(
            store={"sqlite": {"path": folder / "calls.sqlite3"}},
            search={"sqlite": {"path": folder / "search.sqlite3"}},
        )
        await seed_demo_knowledge(settings)  # the demo documents, as the local stack has them
        results: list[ScenarioResult] = []
        for scenario in scenarios:
            if "text" not in scenario.modes:
                continue
            echo(f"--- {scenario.name} (text): {scenario.description}".rstrip(": "))
            result = await run_text_scenario(settings, scenario, echo=echo)
            echo(f"{'PASS' if result.passed else 'FAIL'} {result.name} (text, {result.seconds:.1f} s)")
            for check in result.checks:
                if not check.passed:
                    echo(f"  [KO] {check.name}: {check.detail}")
            if result.error:
                echo(f"  error: {result.error}")
            results.append(result)
        return results
