"""The LLM agent through the real openai SDK (OpenAI and Azure clients) against the scripted server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import openai
import pytest

from local.llm_server import ScriptedLlmServer
from shared.conversation.engine import Conversation
from shared.conversation.llm_agent import AllModelsFailed, LlmAgent
from shared.flags.base import FeatureFlags
from shared.llm.client import OpenAiChatModel
from shared.models import AgentKind, Message, Persona
from tests.conversation.support import Harness, make_harness

FAST = "fast-model"
SLOW = "slow-deployment"


@pytest.fixture(scope="module")
def server() -> Iterator[ScriptedLlmServer]:
    with ScriptedLlmServer() as running:
        yield running


_open_models: list[OpenAiChatModel] = []


@pytest.fixture(autouse=True)
async def fresh_script(server: ScriptedLlmServer) -> AsyncIterator[None]:
    server.script.clear()
    server.requests.clear()
    yield
    while _open_models:
        await _open_models.pop().close()


def fast_model(server: ScriptedLlmServer) -> OpenAiChatModel:
    client = openai.AsyncOpenAI(base_url=server.base_url, api_key="test", max_retries=0)
    _open_models.append(OpenAiChatModel(client, FAST))
    return _open_models[-1]


def slow_model(server: ScriptedLlmServer) -> OpenAiChatModel:
    client = openai.AsyncAzureOpenAI(
        azure_endpoint=server.azure_endpoint, api_version="2024-10-21", api_key="test", max_retries=0
    )
    _open_models.append(OpenAiChatModel(client, SLOW))
    return _open_models[-1]


async def conversation(
    tmp_path: Path, server: ScriptedLlmServer, *, flags: FeatureFlags | None = None
) -> tuple[Conversation, Harness]:
    harness = await make_harness(tmp_path, flags=flags)
    conv = Conversation(harness.ctx, llm=LlmAgent([fast_model(server), slow_model(server)]))
    await conv.start(harness.speak)
    harness.spoken.clear()
    return conv, harness


@pytest.mark.parametrize("client", ["openai", "azure"])
async def test_text_answer_is_spoken_sentence_by_sentence(
    tmp_path: Path, server: ScriptedLlmServer, client: str
) -> None:
    harness = await make_harness(tmp_path)
    model = fast_model(server) if client == "openai" else slow_model(server)
    server.script.add_text("Hello Mr. Smith! Your excess is 3.5 percent. Write to claims@contoso.com today.")
    conv = Conversation(harness.ctx, llm=LlmAgent([model]))
    await conv.start(harness.speak)
    greeting = len(harness.spoken)  # the greeting's sentences
    await conv.respond("What is my excess?", harness.speak)
    assert harness.spoken[greeting:] == [
        "Hello Mr. Smith!",
        "Your excess is 3.5 percent.",
        "Write to claims@contoso.com today.",
    ]
    call = await harness.reload()
    assert call.messages[-1].persona is Persona.ASSISTANT
    assert call.messages[-1].content == " ".join(harness.spoken[greeting:])
    assert server.requests[-1].body["stream"] is True
    assert {t["function"]["name"] for t in server.requests[-1].body["tools"]} >= {"updated_claim", "end_call"}


async def test_multi_tool_turn_runs_every_call_and_feeds_results_back(
    tmp_path: Path, server: ScriptedLlmServer
) -> None:
    conv, harness = await conversation(tmp_path, server)
    server.script.add_tool_calls(
        [
            {
                "name": "updated_claim",
                "arguments": {"updates": [{"field": "caller_name", "value": "John Smith"}]},
            },
            {
                "name": "new_or_updated_reminder",
                "arguments": {"title": "Call back", "due_date_time": "2030-01-02T15:00:00+01:00"},
            },
            {"name": "search_document", "arguments": {"queries": ["windscreen"]}},
        ]
    )
    server.script.add_text("Thank you John. Your windscreen is covered.")
    await conv.respond("I'm John Smith, is my windscreen covered? Call me back in 2030.", harness.speak)

    call = await harness.reload()
    assert call.claim["caller_name"] == "John Smith"
    assert [r.title for r in call.reminders] == ["Call back"]
    tool_message = call.messages[-2]
    assert [t.name for t in tool_message.tool_calls] == [
        "updated_claim",
        "new_or_updated_reminder",
        "search_document",
    ]
    assert "Windscreen cover" in (tool_message.tool_calls[2].result or "")
    second_request = server.requests[-1].body["messages"]
    tool_results = [m for m in second_request if m["role"] == "tool"]
    assert len(tool_results) == 3
    assert harness.spoken == ["Thank you John.", "Your windscreen is covered."]


async def test_claim_validation_error_goes_back_to_the_model_which_corrects_it(
    tmp_path: Path, server: ScriptedLlmServer
) -> None:
    conv, harness = await conversation(tmp_path, server)
    update = "updated_claim"
    server.script.add_tool_calls(
        [{"name": update, "arguments": {"updates": [{"field": "caller_email", "value": "john at"}]}}]
    )
    server.script.add_tool_calls(
        [{"name": update, "arguments": {"updates": [{"field": "caller_email", "value": "john@example.com"}]}}]
    )
    server.script.add_text("Thanks, I saved your e-mail.")
    await conv.respond("my email is john at", harness.speak)

    call = await harness.reload()
    assert call.claim.get("caller_email") == "john@example.com"
    second = server.requests[1].body["messages"]
    error_result = next(m for m in second if m["role"] == "tool")
    assert "caller_email" in error_result["content"] and "expects an email" in error_result["content"]
    assert harness.spoken == ["Thanks, I saved your e-mail."]


async def test_soft_timeout_says_a_still_working_phrase(tmp_path: Path, server: ScriptedLlmServer) -> None:
    conv, harness = await conversation(tmp_path, server, flags=FeatureFlags(answer_soft_timeout_sec=1))
    server.script.add_text("Here is your answer.", ttft_ms=1600)
    await conv.respond("What's the status?", harness.speak)
    still_working = harness.ctx.ports.prompts.phrase_choices("still_working", "en-US")
    assert len(harness.spoken) == 2
    assert harness.spoken[0] in still_working
    assert harness.spoken[1] == "Here is your answer."


async def test_soft_timeout_zero_is_honoured_as_disabled(tmp_path: Path, server: ScriptedLlmServer) -> None:
    conv, harness = await conversation(tmp_path, server, flags=FeatureFlags(answer_soft_timeout_sec=0))
    server.script.add_text("Here is your answer.", ttft_ms=300)
    await conv.respond("What's the status?", harness.speak)
    assert harness.spoken == ["Here is your answer."]


async def test_hard_timeout_retries_on_the_slow_model(tmp_path: Path, server: ScriptedLlmServer) -> None:
    flags = FeatureFlags(answer_soft_timeout_sec=0, answer_hard_timeout_sec=1)
    conv, harness = await conversation(tmp_path, server, flags=flags)
    server.script.add_hang(model=FAST)
    server.script.add_text("The slow model answers.", model=SLOW)
    await conv.respond("Hello?", harness.speak)
    assert harness.spoken == ["The slow model answers."]
    assert [r.model for r in server.requests] == [FAST, SLOW]


@pytest.mark.parametrize(
    "failure",
    ["rate_limit", "server_error", "malformed_arguments", "empty_answer"],
)
async def test_fast_model_failures_retry_on_the_slow_model(
    tmp_path: Path, server: ScriptedLlmServer, failure: str
) -> None:
    conv, harness = await conversation(tmp_path, server)
    if failure == "rate_limit":
        server.script.add_error(429, model=FAST, retry_after=1)
    elif failure == "server_error":
        server.script.add_error(500, model=FAST)
    elif failure == "malformed_arguments":
        server.script.add_tool_calls([{"name": "updated_claim", "arguments": '{"updates": [{'}], model=FAST)
    else:
        server.script.add_text("", model=FAST)
    server.script.add_text("Slow and steady.", model=SLOW)
    await conv.respond("Hello?", harness.speak)
    assert harness.spoken == ["Slow and steady."]
    assert [r.model for r in server.requests] == [FAST, SLOW]


async def test_every_llm_failing_hands_the_call_to_the_form_agent(
    tmp_path: Path, server: ScriptedLlmServer
) -> None:
    conv, harness = await conversation(tmp_path, server)
    server.script.add_error(500, model=FAST)
    server.script.add_error(503, model=SLOW)
    await conv.respond("My car was stolen", harness.speak)

    call = await harness.reload()
    assert call.agent is AgentKind.FORM
    assert call.agent_fallback_reason
    assert harness.spoken and "name" in harness.spoken[-1].lower()  # the form agent asks the first field

    requests_before = len(server.requests)
    await conv.respond("My name is John Smith", harness.speak)
    assert len(server.requests) == requests_before  # the rest of the call stays with the form agent
    assert (await harness.reload()).claim["caller_name"] == "John Smith"


async def test_agent_alone_raises_when_every_model_fails(tmp_path: Path, server: ScriptedLlmServer) -> None:
    harness = await make_harness(tmp_path)
    server.script.add_error(500)
    agent = LlmAgent([fast_model(server)])
    await harness.ctx.add_message(harness.ctx.call.messages[0] if harness.ctx.call.messages else _human("hi"))
    with pytest.raises(AllModelsFailed):
        await agent.respond(harness.ctx, harness.speak)


def _human(text: str) -> Message:
    return Message(persona=Persona.HUMAN, content=text)


async def test_cancellation_mid_stream_keeps_only_what_was_spoken(
    tmp_path: Path, server: ScriptedLlmServer
) -> None:
    conv, harness = await conversation(tmp_path, server)
    server.script.add_text(
        "First sentence is heard. Second sentence is cut off. Third never comes.", inter_token_ms=40
    )
    first_spoken = asyncio.Event()

    async def speak(sentence: str) -> None:
        harness.spoken.append(sentence)
        first_spoken.set()

    task = asyncio.create_task(conv.respond("Tell me everything", speak))
    await asyncio.wait_for(first_spoken.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    call = await harness.reload()
    assert harness.spoken == ["First sentence is heard."]
    assert call.messages[-1].persona is Persona.ASSISTANT
    assert call.messages[-1].content == "First sentence is heard."


async def test_content_filter_drops_the_utterance_and_answers_politely(
    tmp_path: Path, server: ScriptedLlmServer
) -> None:
    conv, harness = await conversation(tmp_path, server)
    server.script.add_content_filter()
    await conv.respond("something offensive", harness.speak)
    call = await harness.reload()
    assert all(m.content != "something offensive" for m in call.messages)
    assert harness.spoken[0] in harness.ctx.ports.prompts.phrase_choices("content_filter", "en-US")
    assert call.messages[-1].content == harness.spoken[0]


async def test_end_call_tool_says_goodbye_and_hangs_up(tmp_path: Path, server: ScriptedLlmServer) -> None:
    conv, harness = await conversation(tmp_path, server)
    server.script.add_tool_calls([{"name": "end_call", "arguments": {}}])
    await conv.respond("That's all, bye", harness.speak)
    assert conv.ended
    assert [a.kind for a in harness.telephony.actions] == ["hang_up"]
    assert harness.spoken[-1] in [
        p.replace("{bot_company}", "Contoso")
        for p in harness.ctx.ports.prompts.phrase_choices("goodbye", "en-US")
    ]
    call = await harness.reload()
    assert json.loads(call.messages[-1].tool_calls[0].arguments) == {}
