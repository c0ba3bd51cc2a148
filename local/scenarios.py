"""Scenario files: a scripted phone call run over the local stack, with expectations.

A scenario is YAML (format documented in docs/scenarios.md):

    name: insurance-claim-en
    lang: en-US                       # the caller's language (voice); also the call's, unless call.lang
    modes: [audio, text]              # over a phone call, over `callcenter chat` (default: both)
    bot: {company: Contoso, name: Amélie, task: "..."}   # the bot's identity (default: the settings')
    claim:                            # this call's claim schema (default: the settings' / the request's)
      - {name: caller_name, type: text, description: the caller's full name}
    call:
      direction: inbound              # the caller rings; or `outbound` with `request:` (POST /api/call)
      caller: "+33611112222"
      lang: fr-FR                     # the call's language when it differs from the caller's voice
    steps:
      - say: "Hello, my car was damaged this morning."
      - say: "My name is John Smith."
      - dtmf: "2"
      - pause: 3                      # seconds of silence from the caller
      - barge_in: "Excuse me, one more thing."   # spoken while the bot is talking...
        at: 1.5                                   # ...this long after it started (default 0.5 s)
      - wav: path/to/audio.wav        # a 16-bit mono WAV
      - hang_up: true                 # the caller hangs up now
      - ring_back: true               # the caller hangs up and rings again (the call resumes)
    expect:
      claim: {caller_name: "John Smith"}
      reminders: 1                    # how many reminders
      transfer: false                 # was the caller transferred to a human
      ended_by: bot-after-goodbye     # caller | bot (either of:) bot-after-goodbye | bot-alone
      sms_sent: false                 # did the caller get a text message during the call

The runner speaks each caller line with a local TTS (piper for English, espeak-ng otherwise) through
the ACS simulator, waits for the bot to answer, then checks the call document. `local.text_scenarios`
plays the same files over text (`callcenter chat --scenarios`). Each result counts the claim fields
filled exactly and whether the call ended as intended; `figures()` sums them over a run.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from uuid import UUID

import httpx

from local.acs_simulator import TimelineKind
from local.dev import LocalStack
from local.scenario_files import (
    BARGE_IN_AT_SEC,
    Check,
    Scenario,
    ScenarioResult,
    Step,
    claim_value_matches,
    ended_by,
    evaluate,
    figures,
    figures_line,
    parts,
)
from shared.composition import Services
from shared.models import Call, CallState, Persona
from shared.speech.audio import read_wav, resample
from shared.speech.base import SAMPLE_RATE, TextToSpeech

__all__ = [
    "Check",
    "Scenario",
    "ScenarioResult",
    "ScenarioRunner",
    "claim_value_matches",
    "evaluate",
    "figures",
    "figures_line",
]

QUIET_SEC = 0.9
TURN_TIMEOUT_SEC = 60.0
ANSWER_TIMEOUT_SEC = 15.0  # a turn the bot does not answer (the caller hangs up, the bot just listens)
END_TIMEOUT_SEC = 150.0  # silence prompts take phone_silence_timeout_sec x (recognition_retry_max + 1)


Printer = Callable[[str], None]


class ScenarioRunner:
    """Runs scenarios on a started LocalStack, with a caller voice per language."""

    def __init__(
        self,
        stack: LocalStack,
        services: Services,
        voices: Callable[[str], TextToSpeech],
        *,
        echo: Printer | None = None,
    ) -> None:
        self.stack = stack
        self._store = services.store
        self._voices = voices
        self._echo = echo or (lambda _line: None)
        # one call set up at a time: an inbound scenario lends its bot, claim and language to the
        # shared settings until its call is connected (several scenarios may run at once)
        self._starting = asyncio.Lock()

    async def _audio(self, step: Step, lang: str) -> bytes:
        if step.wav is not None:
            pcm, rate = read_wav(step.wav)
            return resample(pcm, rate, SAMPLE_RATE) if rate != SAMPLE_RATE else pcm
        text = step.say or step.barge_in or ""
        return b"".join([chunk async for chunk in self._voices(lang).synthesize(text, lang=lang)])

    async def run(self, scenario: Scenario, *, echo: Printer | None = None) -> ScenarioResult:
        """One scenario as a phone call; its transcript lines go to ``echo`` (default: the runner's)."""
        result = ScenarioResult(scenario.name)
        out = echo or self._echo
        started = time.monotonic()
        try:
            call, connection = await self._start(scenario)
            result.call_id = str(call.call_id)
            follower = asyncio.create_task(self._follow(call, result, out))
            try:
                for index, part in enumerate(parts(scenario.steps)):
                    if index:  # a ring back: the same caller, a new call that resumes the conversation
                        self._hang_up(connection)
                        await self._finish_call(call)
                        follower.cancel()
                        call, connection = await self._start(scenario)
                        result.call_id = str(call.call_id)  # its messages start with the first call's
                        follower = asyncio.create_task(self._follow(call, result, out))
                    await self._play(scenario.lang, part, connection, str(call.call_id))
                final = await self._finish(scenario, call, connection)
            finally:
                follower.cancel()
                await asyncio.gather(follower, return_exceptions=True)
            await self._print_new(final, result, out)
            result.checks = evaluate(
                scenario.expect, final, ended_by(final, self._caller_hung_up(connection))
            )
            result.turns = [t.model_dump(exclude={"started_at"}) for t in final.turns]
        except (TimeoutError, AssertionError, ValueError, httpx.HTTPError) as exc:
            result.error = f"{type(exc).__name__}: {exc}"
        result.seconds = time.monotonic() - started
        return result

    # call set-up

    async def _start(self, scenario: Scenario) -> tuple[Call, str]:
        async with self._starting:
            return await self._place(scenario)

    async def _place(self, scenario: Scenario) -> tuple[Call, str]:
        simulator, settings = self.stack.simulator, self.stack.settings
        assert simulator is not None and settings is not None
        if scenario.call.direction == "inbound":
            inbound = settings.inbound  # the function app runs in this process, on these settings
            settings.inbound = scenario.initiate(inbound)  # this scenario's bot, claim and language
            try:
                connection = simulator.call_id_for(
                    simulator.ring(scenario.call.caller, settings.acs.phone_number)
                )
                await asyncio.to_thread(
                    simulator.wait_for_timeline, connection, TimelineKind.MEDIA_CONNECTED, timeout=30
                )
            finally:
                settings.inbound = inbound
            call = await self._call_of(connection)
        else:
            body = {
                **scenario.request_fields(),
                **(scenario.call.request or {}),
                "phone_number": scenario.call.caller,
            }
            async with httpx.AsyncClient(base_url=self.stack.api_url, timeout=30) as client:
                response = await client.post(
                    "/api/call", json=body, headers={"x-functions-key": self.stack.api_key}
                )
            if response.status_code != 201:
                raise ValueError(f"POST /api/call answered {response.status_code}: {response.text}")
            placed = response.json()
            connection = placed["connection"]["call_connection_id"]
            await asyncio.to_thread(
                simulator.wait_for_timeline, connection, TimelineKind.MEDIA_CONNECTED, timeout=30
            )
            call = await self._load(placed["call_id"])
        return call, connection

    async def _call_of(self, connection: str) -> Call:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            page = await self._store.list_by_date(limit=20)
            for call in page.items:
                if call.connection.call_connection_id == connection:
                    return call
            await asyncio.sleep(0.1)
        raise TimeoutError(f"no call document for connection {connection}")

    async def _load(self, call_id: str) -> Call:
        call = await self._store.get(UUID(call_id))
        if call is None:
            raise ValueError(f"call {call_id} not found")
        return call

    # the conversation

    def _hang_up(self, connection: str) -> None:
        simulator = self.stack.simulator
        assert simulator is not None
        if not self._ended(connection):
            simulator.hang_up_as_caller(connection)

    async def _finish_call(self, call: Call) -> None:
        deadline = time.monotonic() + TURN_TIMEOUT_SEC
        while time.monotonic() < deadline:
            if (await self._load(str(call.call_id))).connection.state is CallState.DISCONNECTED:
                return
            await asyncio.sleep(0.2)
        raise TimeoutError("the call did not end")

    async def _play(self, lang: str, steps: list[Step], connection: str, call_id: str) -> None:
        simulator = self.stack.simulator
        assert simulator is not None
        await self._bot_answered(connection, 0)  # the greeting started (its synthesis can take a while)
        for step in steps:
            if self._ended(connection):
                return
            if step.barge_in is not None:
                heard = await self._caller_turns(call_id)
                await self._bot_speaking(connection, BARGE_IN_AT_SEC if step.at is None else step.at)
                simulator.say(connection, await self._audio(step, lang))
                with contextlib.suppress(TimeoutError):  # none when the bot finished before the cut-off
                    await asyncio.to_thread(
                        simulator.wait_for_timeline, connection, TimelineKind.STOP_AUDIO, timeout=10
                    )
                spoken = len(simulator.bot_audio(connection))
                await self._turn_stored(call_id, heard, connection)
                await self._bot_answered(connection, spoken)
                continue
            await self._bot_quiet(connection)
            if step.say is not None or step.wav is not None:
                heard = await self._caller_turns(call_id)
                audio = await self._audio(step, lang)
                spoken = len(simulator.bot_audio(connection))
                simulator.say(connection, audio)
                await self._turn_stored(call_id, heard, connection)
                await self._bot_answered(connection, spoken)
            elif step.dtmf is not None:
                simulator.send_dtmf(connection, step.dtmf)
            elif step.pause is not None:
                await asyncio.sleep(step.pause)
            elif step.hang_up:
                simulator.hang_up_as_caller(connection)
                return

    def _ended(self, connection: str) -> bool:
        simulator = self.stack.simulator
        assert simulator is not None
        return any(e.kind is TimelineKind.DISCONNECTED for e in simulator.timeline(connection))

    def _caller_hung_up(self, connection: str) -> bool:
        simulator = self.stack.simulator
        assert simulator is not None
        return "caller" in (simulator.call(connection).ended_reason or "")

    async def _bot_quiet(self, connection: str) -> None:
        simulator = self.stack.simulator
        assert simulator is not None
        deadline = time.monotonic() + TURN_TIMEOUT_SEC
        last, since = -1, time.monotonic()
        while time.monotonic() < deadline and not self._ended(connection):
            size = len(simulator.bot_audio(connection))
            if size != last:
                last, since = size, time.monotonic()
            elif time.monotonic() - since >= QUIET_SEC:
                return
            await asyncio.sleep(0.05)

    async def _bot_answered(self, connection: str, spoken: int) -> None:
        """Wait until the bot starts answering (on a busy machine it may think longer than the 0.9 s
        of quiet the next line waits for, and a line said then would continue the last turn)."""
        simulator = self.stack.simulator
        assert simulator is not None
        deadline = time.monotonic() + ANSWER_TIMEOUT_SEC
        while time.monotonic() < deadline and not self._ended(connection):
            if len(simulator.bot_audio(connection)) > spoken:
                return
            await asyncio.sleep(0.05)

    async def _caller_turns(self, call_id: str) -> tuple[int, str]:
        """How many caller turns are stored, and the last one's words."""
        said = [m.content for m in (await self._load(call_id)).messages if m.persona is Persona.HUMAN]
        return len(said), said[-1] if said else ""

    async def _turn_stored(self, call_id: str, before: tuple[int, str], connection: str) -> None:
        """Wait until the bot stored the caller's utterance (it heard the turn end), or the call ended.
        An utterance that continues the last turn rewrites it instead of adding one."""
        deadline = time.monotonic() + TURN_TIMEOUT_SEC
        while time.monotonic() < deadline and not self._ended(connection):
            turns, last = await self._caller_turns(call_id)
            if turns > before[0] or (turns == before[0] and last != before[1]):
                return
            await asyncio.sleep(0.1)

    async def _bot_speaking(self, connection: str, seconds: float) -> None:
        """Wait until the bot has spoken ``seconds`` of its next answer (16-bit PCM at 16 kHz)."""
        simulator = self.stack.simulator
        assert simulator is not None
        before = len(simulator.bot_audio(connection))
        deadline = time.monotonic() + TURN_TIMEOUT_SEC
        wanted = max(1, int(seconds * SAMPLE_RATE * 2))
        while time.monotonic() < deadline:  # polls the simulator's thread
            if len(simulator.bot_audio(connection)) >= before + wanted:
                return
            await asyncio.sleep(0.02)

    async def _finish(self, scenario: Scenario, call: Call, connection: str) -> Call:
        simulator = self.stack.simulator
        assert simulator is not None
        bot_ends = (scenario.expect.ended_by or "").startswith("bot")
        if not bot_ends and not self._ended(connection):  # else wait for the bot to hang up
            await self._bot_quiet(connection)
            simulator.hang_up_as_caller(connection)
        deadline = time.monotonic() + END_TIMEOUT_SEC
        while time.monotonic() < deadline:
            final = await self._load(str(call.call_id))
            if final.connection.state is CallState.DISCONNECTED:
                return final
            await asyncio.sleep(0.2)
        raise TimeoutError("the call did not end")

    async def _follow(self, call: Call, result: ScenarioResult, echo: Printer) -> None:
        while True:
            await self._print_new(await self._load(str(call.call_id)), result, echo)
            await asyncio.sleep(0.3)

    async def _print_new(self, call: Call, result: ScenarioResult, echo: Printer) -> None:
        for message in call.messages:
            key = (message.created_at, message.persona.value, message.content)
            if key in result.printed:  # printed already (or carried over from the first call)
                continue
            result.printed.add(key)
            who = "caller" if message.persona is Persona.HUMAN else "bot"
            tools = ", ".join(t.name for t in message.tool_calls)
            line = f"{who:>6}> {message.content}" + (f"   [{tools}]" if tools else "")
            result.transcript.append(line)
            echo(line)
