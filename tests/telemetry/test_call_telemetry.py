"""A whole simulated call (ACS simulator, function app, media host, scripted OpenAI-compatible models)
with in-memory exporters: every named span is there with the call's attributes, the right parent and
its link to the span that answered the call; every named metric has its data points; and no secret of
the call's URLs (callback secret, media token, API key, link signature, the caller's number as `pk`)
appears in any log record or span."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import SpanKind

from local.acs_simulator import TimelineKind
from local.dev import LocalStack, free_port
from local.llm_server import ScriptedLlmServer
from local.speech_stubs import EnergyVad, ToneTts, tone
from shared.composition import Services
from shared.models import Call, CallState
from shared.speech.base import SpeechEngines, Transcript
from shared.telemetry import names
from tests.stack import eventually
from tests.telemetry.conftest import Captured

CALLER = "+33612340001"
AGENT = "+33699990001"
FAST, SLOW = "fast-model", "slow-model"


class LineStt:
    """Hears whatever line the test gives the caller next (the stub tones carry no words)."""

    def __init__(self) -> None:
        self.line = ""

    async def transcribe(self, pcm: bytes, *, lang: str) -> Transcript:
        return Transcript(text=self.line, lang=lang)

    def supports(self, lang: str) -> bool:
        return True


STT = LineStt()


def _engines(_services: Services) -> SpeechEngines:
    return SpeechEngines(vad=EnergyVad(), stt=STT, tts=ToneTts())


@pytest.fixture(scope="module")
def llm() -> Iterator[ScriptedLlmServer]:
    with ScriptedLlmServer() as running:
        yield running


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, llm: ScriptedLlmServer) -> Iterator[LocalStack]:
    data = tmp_path_factory.mktemp("telemetry")
    model = {"base_url": llm.base_url, "api_key": "scripted"}
    overrides: dict[str, Any] = {
        "llm": {"fast": {**model, "model": FAST}, "slow": {**model, "model": SLOW}},
        "inbound": {"agent_phone_number": AGENT},
    }
    stack = LocalStack(
        api_port=free_port(),
        media_port=free_port(),
        data_dir=data,
        speed=1.0,
        overrides=overrides,
        speech=_engines,
    )
    with stack as running:
        yield running


async def _bot_quiet(stack: LocalStack, connection: str, quiet_sec: float = 0.8, within: float = 30) -> None:
    assert stack.simulator is not None
    deadline = time.monotonic() + within
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        size = len(stack.simulator.bot_audio(connection))
        if size != last:
            last, since = size, time.monotonic()
        elif size and time.monotonic() - since >= quiet_sec:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the bot never went quiet")


async def _said(services: Services, words: str) -> bool:
    page = await services.store.list_by_phone(CALLER, limit=1)
    return bool(page.items) and any(words in m.content for m in page.items[0].messages)


async def _finished_call(services: Services) -> Call:
    async def check() -> Call | None:
        page = await services.store.list_by_phone(CALLER, limit=1)
        call = page.items[0] if page.items else None
        return call if call and call.post_call_done_at is not None else None

    found: Call = await eventually(check, "the call finished with its post-call job", within=60)
    return found


def _one(spans: list[ReadableSpan], name: str, **attributes: object) -> ReadableSpan:
    matching = [s for s in spans if s.name == name and all(_a(s, k) == v for k, v in attributes.items())]
    assert matching, f"no span {name} with {attributes}: {sorted({s.name for s in spans})}"
    return matching[0]


def _a(span: ReadableSpan | Event, key: str) -> object:
    return (span.attributes or {}).get(key)


def _id(span: ReadableSpan) -> int:
    assert span.context is not None
    return int(span.context.span_id)


def _parent(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


@pytest.mark.usefixtures("entry_point_logging")
async def test_a_whole_call_is_traced_measured_and_logged_without_secrets(
    stack: LocalStack,
    services: Services,
    llm: ScriptedLlmServer,
    telemetry: Captured,
    caplog: pytest.LogCaptureFixture,
) -> None:
    simulator = stack.simulator
    assert simulator is not None and stack.settings is not None
    caplog.set_level(logging.INFO)
    telemetry.spans.clear()
    # turn 1: the fast model fails (500), the slow one texts the caller, then speaks
    llm.script.add_error(500, model=FAST)
    llm.script.add_tool_calls(
        [{"name": "send_sms", "arguments": {"message": "Your claim number is 1234."}}], model=SLOW
    )
    llm.script.add_text("I sent you a text with your claim number, what else can I do?", model=SLOW)
    # turn 2: the caller asks for a human
    llm.script.add_tool_calls([{"name": "talk_to_human", "arguments": {}}], model=SLOW)

    connection = simulator.call_id_for(simulator.ring(CALLER, stack.settings.acs.phone_number))
    await asyncio.to_thread(
        simulator.wait_for_timeline, connection, TimelineKind.BOT_AUDIO_FIRST_FRAME, timeout=30
    )
    await asyncio.sleep(0.5)  # the bot is saying its greeting: the caller cuts in
    STT.line = "My car was stolen yesterday, can you text me my claim number?"
    simulator.say(connection, tone(900))
    await asyncio.to_thread(simulator.wait_for_timeline, connection, TimelineKind.STOP_AUDIO, timeout=15)
    await eventually(lambda: _said(services, "what else can I do"), "the answer of turn 1", within=30)
    await _bot_quiet(stack, connection)
    STT.line = "Please put me through to a human agent."
    simulator.say(connection, tone(900))
    call = await _finished_call(services)
    assert call.connection.state is CallState.DISCONNECTED

    spans = telemetry.finished()
    call_id = str(call.call_id)
    mine = [s for s in spans if (s.attributes or {}).get(names.ATTR_CALL_ID) == call_id]
    answer = _one(mine, names.SPAN_ANSWER, **{names.ATTR_DIRECTION: "inbound"})
    assert _a(answer, names.ATTR_CORRELATION_ID) == call.connection.correlation_id
    assert answer.context is not None
    flags = f"{answer.context.trace_flags:02x}"
    assert call.connection.trace_parent == f"00-{answer.context.trace_id:032x}-{_id(answer):016x}-{flags}"
    media = _one(mine, names.SPAN_MEDIA)
    assert media.parent is None and media.kind is SpanKind.SERVER  # its own trace (a request), linked
    assert [link.context.span_id for link in media.links] == [_id(answer)]
    assert _a(media, names.ATTR_CORRELATION_ID) == call.connection.correlation_id
    assert _a(media, names.ATTR_TURNS) == 2 and _a(media, names.ATTR_BARGE_INS) == 1
    frames_in, frames_out = _a(media, names.ATTR_FRAMES_IN), _a(media, names.ATTR_FRAMES_OUT)
    assert isinstance(frames_in, int) and frames_in > 100 and isinstance(frames_out, int) and frames_out > 100

    turns = [s for s in spans if s.name == names.SPAN_TURN and _parent(s) == _id(media)]
    assert [_a(t, names.ATTR_TURN) for t in turns] == [1, 2]
    first, second = turns
    assert _a(first, names.ATTR_AGENT) == "llm"
    for step in (names.SPAN_END_OF_TURN, names.SPAN_STT, names.SPAN_TTS, names.SPAN_FIRST_FRAME):
        child = [s for s in spans if s.name == step and _parent(s) == _id(first)]
        assert len(child) == 1, step
        inner, outer = child[0], first
        assert outer.start_time and inner.start_time and inner.end_time and outer.end_time
        assert outer.start_time <= inner.start_time <= inner.end_time <= outer.end_time
    # the LLM rounds of the first answer: children of its turn, or of the session when the answer was
    # opened speculatively at a pause, before the turn ended
    rounds = [s for s in spans if s.name == names.SPAN_LLM_ROUND and _parent(s) in (_id(first), _id(media))]
    assert rounds and all(str(_a(r, names.ATTR_MODEL)).endswith(SLOW) for r in rounds if r.status.is_ok)
    failures = [e for r in [*rounds, first, media] for e in r.events if e.name == names.EVENT_MODEL_FAILED]
    assert f"fast:{FAST}" in [str(_a(e, names.ATTR_MODEL)) for e in failures]  # the 500, where it happened
    sms_tool = _one(spans, names.SPAN_TOOL, **{names.ATTR_TOOL: "send_sms"})
    assert _parent(sms_tool) == _id(first)
    assert _parent(_one(spans, names.SPAN_SMS, **{names.ATTR_SMS_KIND: "assistant"})) == _id(sms_tool)
    transfer_tool = _one(spans, names.SPAN_TOOL, **{names.ATTR_TOOL: "talk_to_human"})
    assert _parent(transfer_tool) == _id(second)
    assert _parent(_one(spans, names.SPAN_TRANSFER)) == _id(transfer_tool)
    barge_in = _one(spans, names.SPAN_BARGE_IN)
    assert _parent(barge_in) == _id(media)

    events = {_a(s, names.ATTR_EVENT): s for s in mine if s.name == names.SPAN_EVENT}
    assert {"CallConnected", "CallTransferAccepted", "CallDisconnected"} <= set(events)
    disconnected = events["CallDisconnected"]
    assert _a(disconnected, names.ATTR_OUTCOME) == "transferred"
    activities = [s for s in mine if s.name == names.SPAN_POST_CALL]
    assert {_a(a, names.ATTR_ACTIVITY) for a in activities} >= {
        "synthesis",
        "next_action",
        "sms_summary",
    }
    for part in [*events.values(), *activities]:
        assert [link.context.span_id for link in part.links] == [_id(answer)], part.name
    summary = [s for s in spans if s.name == names.SPAN_SMS and _a(s, names.ATTR_SMS_KIND) == "summary"]
    assert summary and {_parent(s) for s in summary} <= {_id(a) for a in activities}

    points = telemetry.points()
    for metric in (
        names.VOICE_TO_VOICE,
        names.END_OF_TURN,
        names.STT_FINAL,
        names.LLM_FIRST_TOKEN,
        names.TTS_FIRST_AUDIO,
    ):
        assert any(a.get(names.ATTR_AGENT) == "llm" and v for a, v in points.get(metric, [])), metric
    assert points.get(names.BARGE_IN_LATENCY), "barge-in latency"
    assert any(
        str(a[names.ATTR_MODEL]).endswith(FAST) and a[names.ATTR_FAILURE] == "error"
        for a, _ in points[names.MODEL_FAILURES]
    )
    assert any(
        str(a[names.ATTR_MODEL]).endswith(FAST) and a[names.ATTR_FALLBACK_TO] == "next"
        for a, _ in points[names.MODEL_FALLBACKS]
    )
    tokens = {(str(a[names.ATTR_MODEL]), a[names.ATTR_TOKEN_TYPE]) for a, v in points[names.LLM_TOKENS] if v}
    assert {(f"slow:{SLOW}", "prompt"), (f"slow:{SLOW}", "completion")} <= tokens
    assert any(a[names.ATTR_OUTCOME] == "transferred" and v for a, v in points[names.CALLS])

    # the developer's log lines: the call answered, each turn with its latency, the tool calls
    lines = [(r.getMessage(), getattr(r, "call_id", None)) for r in caplog.records]
    assert ("call answered (new conversation)", call_id) in lines
    turn_lines = [m for m, c in lines if m.startswith("turn ") and c == call_id]
    assert len(turn_lines) == 2 and all(re.search(r"voice-to-voice \d+ ms", m) for m in turn_lines)
    assert any(m.startswith("tool talk_to_human done") and c == call_id for m, c in lines)

    # no secret of the call's URLs in any log record or span
    sent = [m.message for m in simulator.outbox if m.to_number == CALLER]
    signatures = [s for text in sent for s in re.findall(r"[?&]sig=([^&\s]+)", text)]
    assert signatures, "the summary SMS carries a signed report link"
    secrets = [call.secrets.callback, call.secrets.media, stack.api_key, *signatures]
    assert all(secrets)
    texts = [r.getMessage() for r in caplog.records] + [caplog.text]
    for span in spans:
        texts += [span.name, *(str(v) for v in (span.attributes or {}).values())]
        texts += [str(v) for event in span.events for v in (event.attributes or {}).values()]
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"a secret in: {text[:200]}"
        assert not re.search(r"pk=(%2B|\+)?\d", text), f"the caller's number as pk in: {text[:200]}"
    span_text = " ".join(str(v) for s in spans for v in (s.attributes or {}).values())
    assert CALLER not in span_text and CALLER.removeprefix("+") not in span_text
    assert UUID(call_id)
