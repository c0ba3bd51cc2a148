"""A model endpoint that answers 200 with a broken stream, or hangs: the caller always hears something,
the call never goes mute, and a model that failed is not asked again on the next turn."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import openai
import pytest

from local.llm_server import ScriptedLlmServer
from shared.conversation.engine import Conversation
from shared.conversation.llm_agent import LlmAgent
from shared.flags.base import FeatureFlags
from shared.llm.client import OpenAiChatModel
from shared.llm.fallback import FallbackChatModel
from shared.models import AgentKind, Persona
from tests.conversation.support import make_harness

PRIMARY, BACKUP = "primary-model", "backup-model"


@pytest.fixture(scope="module")
def server() -> Iterator[ScriptedLlmServer]:
    with ScriptedLlmServer() as running:
        yield running


@pytest.fixture
async def clients(server: ScriptedLlmServer) -> AsyncIterator[list[openai.AsyncOpenAI]]:
    server.script.clear()
    server.requests.clear()
    opened = [openai.AsyncOpenAI(base_url=server.base_url, api_key="t", max_retries=0) for _ in range(2)]
    yield opened
    for client in opened:
        await client.close()


@pytest.mark.parametrize("breakage", ["truncated", "shape", "noise"])
async def test_a_broken_stream_from_the_only_model_hands_the_turn_to_the_form_agent(
    tmp_path: Path, server: ScriptedLlmServer, clients: list[openai.AsyncOpenAI], breakage: str
) -> None:
    harness = await make_harness(tmp_path)
    conv = Conversation(harness.ctx, llm=LlmAgent([OpenAiChatModel(clients[0], PRIMARY)]))
    await conv.start(harness.speak)
    harness.spoken.clear()
    server.script.add_broken(breakage)  # type: ignore[arg-type]
    await conv.respond("My car was stolen yesterday", harness.speak)

    assert harness.spoken, "the caller heard nothing"
    call = await harness.reload()
    assert call.agent is AgentKind.FORM
    assert "broken stream" in (call.agent_fallback_reason or "")
    assert [m.content for m in call.messages if m.persona is Persona.HUMAN] == ["My car was stolen yesterday"]


async def test_a_broken_stream_moves_to_the_backup_model(
    tmp_path: Path, server: ScriptedLlmServer, clients: list[openai.AsyncOpenAI]
) -> None:
    harness = await make_harness(tmp_path)
    models = [OpenAiChatModel(clients[0], PRIMARY), OpenAiChatModel(clients[1], BACKUP)]
    conv = Conversation(harness.ctx, llm=LlmAgent(models))
    await conv.start(harness.speak)
    harness.spoken.clear()
    server.script.add_broken("truncated", model=PRIMARY)
    server.script.add_text("I am sorry to hear that.", model=BACKUP)
    await conv.respond("My car was stolen yesterday", harness.speak)
    assert harness.spoken == ["I am sorry to hear that."]
    assert (await harness.reload()).agent is AgentKind.LLM


async def test_a_hanging_primary_costs_the_hard_timeout_once_not_every_turn(
    tmp_path: Path, server: ScriptedLlmServer, clients: list[openai.AsyncOpenAI]
) -> None:
    """Two calls in a row share the process's fallback: the second never waits for the hung model."""
    flags = FeatureFlags(answer_soft_timeout_sec=1, answer_hard_timeout_sec=2)
    shared_chat = FallbackChatModel(
        [OpenAiChatModel(clients[0], PRIMARY), OpenAiChatModel(clients[1], BACKUP)]
    )
    server.script.add_hang(model=PRIMARY)
    server.script.add_text("Backup here.", model=BACKUP)
    server.script.add_text("Backup again.", model=BACKUP)
    still_working = None
    for number, expected in enumerate(("Backup here.", "Backup again.")):
        harness = await make_harness(tmp_path / str(number), flags=flags)
        conv = Conversation(harness.ctx, llm=LlmAgent(shared_chat))
        await conv.start(harness.speak)
        harness.spoken.clear()
        await conv.respond("Hello?", harness.speak)
        still_working = harness.ctx.ports.prompts.phrase_choices("still_working", "en-US")
        if number == 0:  # the soft timeout: the caller hears a filler before the hard timeout
            assert harness.spoken[0] in still_working
        assert harness.spoken[-1] == expected
    assert still_working is not None
    assert [r.model for r in server.requests] == [PRIMARY, BACKUP, BACKUP]
    await shared_chat.aclose()
