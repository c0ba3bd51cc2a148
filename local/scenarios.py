"""Scenario files: a scripted phone call run over the local stack, with expectations.

A scenario is YAML (format documented in docs/scenarios.md):

    name: insurance-claim-en
    lang: en-US                       # the caller's language (voice and expectations)
    call:
      direction: inbound              # the caller rings; or `outbound` with `request:` (POST /api/call)
      caller: "+33611112222"
    steps:
      - say: "Hello, my car was damaged this morning."
      - say: "My name is John Smith."
      - dtmf: "2"
      - pause: 3                      # seconds of silence from the caller
      - barge_in: "Excuse me, one more thing."   # spoken while the bot is talking
      - wav: path/to/audio.wav        # a 16-bit mono WAV
      - hang_up: true                 # the caller hangs up now
      - ring_back: true               # the caller hangs up and rings again (the call resumes)
    expect:
      claim: {caller_name: "John Smith"}
      reminders: 1                    # how many reminders
      transfer: false                 # was the caller transferred to a human
      ended_by: bot                   # bot | caller
      sms_sent: false                 # did the caller get a text message during the call

The runner speaks each caller line with a local TTS (piper for English, espeak-ng otherwise) through
the ACS simulator, waits for the bot to answer, then checks the call document.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

import httpx
import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from local.acs_simulator import TimelineKind
from local.dev import LocalStack
from shared.composition import Services
from shared.models import Call, CallState, MessageAction, Persona
from shared.speech.audio import read_wav, resample
from shared.speech.base import SAMPLE_RATE, TextToSpeech

QUIET_SEC = 0.9
TURN_TIMEOUT_SEC = 60.0
END_TIMEOUT_SEC = 150.0  # silence prompts take phone_silence_timeout_sec x (recognition_retry_max + 1)


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")
    say: str | None = None
    wav: Path | None = None
    dtmf: str | None = Field(default=None, pattern=r"^[0-9*#]+$")
    pause: float | None = Field(default=None, ge=0, le=120)
    barge_in: str | None = None
    hang_up: bool = False
    ring_back: bool = False  # the caller hangs up and rings again from the same number

    @model_validator(mode="after")
    def _one_action(self) -> Step:
        actions = [
            self.say,
            self.wav,
            self.dtmf,
            self.pause,
            self.barge_in,
            self.hang_up or None,
            self.ring_back or None,
        ]
        if sum(a is not None for a in actions) != 1:
            raise ValueError(
                "each step does exactly one of: say, wav, dtmf, pause, barge_in, hang_up, ring_back"
            )
        return self


class CallSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    direction: Literal["inbound", "outbound"] = "inbound"
    caller: str = "+33611112222"
    request: dict[str, Any] | None = None  # the POST /api/call body for outbound calls (phone_number added)


class Expectations(BaseModel):
    model_config = ConfigDict(extra="forbid")
    claim: dict[str, str] = Field(default_factory=dict)
    reminders: int | None = None
    transfer: bool | None = None
    ended_by: Literal["bot", "caller"] | None = None
    sms_sent: bool | None = None
    lang: str | None = None  # the language the call ended in (e.g. after a key press)


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    lang: str = "en-US"
    description: str = ""
    llm: bool = False  # needs an LLM (the scripted one in tests); skipped by the form-agent run
    call: CallSpec = Field(default_factory=CallSpec)
    steps: list[Step] = Field(min_length=1)
    expect: Expectations = Field(default_factory=Expectations)

    @classmethod
    def load(cls, path: Path) -> Scenario:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"{path}: cannot read the scenario: {exc}") from exc
        try:
            scenario = cls.model_validate(data)
        except ValueError as exc:
            raise ValueError(f"{path}: invalid scenario: {exc}") from exc
        for step in scenario.steps:
            if step.wav is not None and not step.wav.is_absolute():
                step.wav = path.parent / step.wav
        return scenario


@dataclass
class Check:
    name: str
    passed: bool
    detail: str


@dataclass
class ScenarioResult:
    name: str
    call_id: str | None = None
    checks: list[Check] = field(default_factory=list)
    turns: list[dict[str, float | None]] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)
    printed: set[tuple[datetime, str, str]] = field(default_factory=set, repr=False)
    error: str | None = None
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.error is None and all(check.passed for check in self.checks)

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "passed": self.passed,
            "call_id": self.call_id,
            "seconds": round(self.seconds, 1),
            "error": self.error,
            "checks": [{"name": c.name, "passed": c.passed, "detail": c.detail} for c in self.checks],
            "turns": self.turns,
        }


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

    async def _audio(self, step: Step, lang: str) -> bytes:
        if step.wav is not None:
            pcm, rate = read_wav(step.wav)
            return resample(pcm, rate, SAMPLE_RATE) if rate != SAMPLE_RATE else pcm
        text = step.say or step.barge_in or ""
        return b"".join([chunk async for chunk in self._voices(lang).synthesize(text, lang=lang)])

    async def run(self, scenario: Scenario) -> ScenarioResult:
        result = ScenarioResult(scenario.name)
        started = time.monotonic()
        try:
            call, connection = await self._start(scenario)
            result.call_id = str(call.call_id)
            follower = asyncio.create_task(self._follow(call, result))
            try:
                for index, part in enumerate(_parts(scenario.steps)):
                    if index:  # a ring back: the same caller, a new call that resumes the conversation
                        self._hang_up(connection)
                        await self._finish_call(call)
                        follower.cancel()
                        call, connection = await self._start(scenario)
                        result.call_id = str(call.call_id)  # its messages start with the first call's
                        follower = asyncio.create_task(self._follow(call, result))
                    await self._play(scenario.lang, part, connection, str(call.call_id))
                final = await self._finish(scenario, call, connection)
            finally:
                follower.cancel()
                await asyncio.gather(follower, return_exceptions=True)
            await self._print_new(final, result)
            result.checks = evaluate(scenario.expect, final, self._ended_by(connection))
            result.turns = [t.model_dump(exclude={"started_at"}) for t in final.turns]
        except (TimeoutError, AssertionError, ValueError, httpx.HTTPError) as exc:
            result.error = f"{type(exc).__name__}: {exc}"
        result.seconds = time.monotonic() - started
        return result

    # call set-up

    async def _start(self, scenario: Scenario) -> tuple[Call, str]:
        simulator, settings = self.stack.simulator, self.stack.settings
        assert simulator is not None and settings is not None
        if scenario.call.direction == "inbound":
            connection = simulator.call_id_for(
                simulator.ring(scenario.call.caller, settings.acs.phone_number)
            )
            await asyncio.to_thread(
                simulator.wait_for_timeline, connection, TimelineKind.MEDIA_CONNECTED, timeout=30
            )
            call = await self._call_of(connection)
        else:
            body = {**(scenario.call.request or {}), "phone_number": scenario.call.caller}
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
        for step in steps:
            if self._ended(connection):
                return
            if step.barge_in is not None:
                heard = await self._caller_turns(call_id)
                await self._bot_speaking(connection)
                simulator.say(connection, await self._audio(step, lang))
                await asyncio.to_thread(
                    simulator.wait_for_timeline, connection, TimelineKind.STOP_AUDIO, timeout=30
                )
                await self._turn_stored(call_id, heard + 1, connection)
                continue
            await self._bot_quiet(connection)
            if step.say is not None or step.wav is not None:
                heard = await self._caller_turns(call_id)
                simulator.say(connection, await self._audio(step, lang))
                await self._turn_stored(call_id, heard + 1, connection)
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

    def _ended_by(self, connection: str) -> str:
        simulator = self.stack.simulator
        assert simulator is not None
        call = simulator.call(connection)
        return "caller" if "caller" in (call.ended_reason or "") else "bot"

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

    async def _caller_turns(self, call_id: str) -> int:
        call = await self._load(call_id)
        return sum(1 for m in call.messages if m.persona is Persona.HUMAN)

    async def _turn_stored(self, call_id: str, turns: int, connection: str) -> None:
        """Wait until the bot stored the caller's utterance (it heard the turn end), or the call ended."""
        deadline = time.monotonic() + TURN_TIMEOUT_SEC
        while time.monotonic() < deadline and not self._ended(connection):
            if await self._caller_turns(call_id) >= turns:
                return
            await asyncio.sleep(0.1)

    async def _bot_speaking(self, connection: str) -> None:
        simulator = self.stack.simulator
        assert simulator is not None
        before = len(simulator.bot_audio(connection))
        deadline = time.monotonic() + TURN_TIMEOUT_SEC
        while time.monotonic() < deadline:  # polls the simulator's thread
            if len(simulator.bot_audio(connection)) >= before + 16000:
                return
            await asyncio.sleep(0.02)

    async def _finish(self, scenario: Scenario, call: Call, connection: str) -> Call:
        simulator = self.stack.simulator
        assert simulator is not None
        if scenario.expect.ended_by != "bot" and not self._ended(connection):
            await self._bot_quiet(connection)
            simulator.hang_up_as_caller(connection)
        deadline = time.monotonic() + END_TIMEOUT_SEC
        while time.monotonic() < deadline:
            final = await self._load(str(call.call_id))
            if final.connection.state is CallState.DISCONNECTED:
                return final
            await asyncio.sleep(0.2)
        raise TimeoutError("the call did not end")

    async def _follow(self, call: Call, result: ScenarioResult) -> None:
        while True:
            await self._print_new(await self._load(str(call.call_id)), result)
            await asyncio.sleep(0.3)

    async def _print_new(self, call: Call, result: ScenarioResult) -> None:
        for message in call.messages:
            key = (message.created_at, message.persona.value, message.content)
            if key in result.printed:  # printed already (or carried over from the first call)
                continue
            result.printed.add(key)
            who = "caller" if message.persona is Persona.HUMAN else "bot"
            tools = ", ".join(t.name for t in message.tool_calls)
            line = f"{who:>6}> {message.content}" + (f"   [{tools}]" if tools else "")
            result.transcript.append(line)
            self._echo(line)


def _parts(steps: list[Step]) -> list[list[Step]]:
    """The steps split at each ring back: one list per phone call."""
    parts: list[list[Step]] = [[]]
    for step in steps:
        if step.ring_back:
            parts.append([])
        else:
            parts[-1].append(step)
    return parts


def claim_value_matches(wanted: str, got: str) -> bool:
    """An expected claim value is the value itself or a regular expression (case-insensitive, whole
    value); one that is no valid regular expression (e.g. "+33612345678") is only compared as is."""
    if got == wanted:
        return True
    try:
        return re.fullmatch(wanted, got, re.IGNORECASE) is not None
    except re.error:
        return False


def evaluate(expect: Expectations, call: Call, ended_by: str) -> list[Check]:
    checks: list[Check] = []
    for name, wanted in expect.claim.items():
        got = call.claim.get(name)
        passed = got is not None and claim_value_matches(wanted, got)
        checks.append(Check(f"claim.{name}", passed, f"got {got!r}, expected {wanted!r}"))
    if expect.reminders is not None:
        checks.append(
            Check("reminders", len(call.reminders) == expect.reminders, f"got {len(call.reminders)}")
        )
    if expect.transfer is not None:
        transferred = any(m.action is MessageAction.TRANSFER for m in call.messages) or any(
            t.name == "talk_to_human" for m in call.messages for t in m.tool_calls
        )
        checks.append(Check("transfer", transferred == expect.transfer, f"transferred={transferred}"))
    if expect.ended_by is not None:
        checks.append(Check("ended_by", ended_by == expect.ended_by, f"ended by {ended_by}"))
    if expect.lang is not None:
        checks.append(Check("lang", call.current_lang == expect.lang, f"ended in {call.current_lang}"))
    if expect.sms_sent is not None:
        sent = any(m.action is MessageAction.SMS and m.persona is Persona.ASSISTANT for m in call.messages)
        checks.append(Check("sms_sent", sent == expect.sms_sent, f"sms sent={sent}"))
    return checks
