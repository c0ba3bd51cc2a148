"""Speculative answers: the first round opened on the speculative transcript, held, then taken over
when the turn ends with the same words, or dropped without a trace (through the real openai SDK
against the scripted server)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from local.llm_server import ScriptedLlmServer
from shared.conversation.engine import Conversation
from shared.llm.client import OpenAiChatModel
from shared.models import Persona
from tests.conversation.support import Harness, make_harness
from tests.scripted_model import llm_conversation, name_update

CLAIM = name_update("John Smith")


async def started(tmp_path: Path, model: OpenAiChatModel) -> tuple[Conversation, Harness]:
    harness = await make_harness(tmp_path)
    conv = llm_conversation(harness, model)
    await conv.start(harness.speak)
    harness.spoken.clear()
    return conv, harness


async def test_the_same_words_take_the_held_answer_over_with_its_tools(
    tmp_path: Path, llm_server: ScriptedLlmServer, llm_model: OpenAiChatModel
) -> None:
    conv, harness = await started(tmp_path, llm_model)
    llm_server.script.add_tool_calls([CLAIM], text="Thank you John.", ttft_ms=300)
    llm_server.script.add_text("Your claim is noted.")
    speculation = await conv.speculate("My name is John Smith.")
    assert speculation is not None
    await asyncio.sleep(0.5)  # the caller's pause: the model answers meanwhile
    assert harness.spoken == []  # held: nothing said
    assert (await harness.reload()).claim.get("caller_name") is None  # nor applied
    assert [m.content for m in (await harness.reload()).messages if m.persona is Persona.HUMAN] == []

    started_at = time.monotonic()
    await conv.respond("My name is John Smith.", harness.speak, speculation=speculation)
    assert time.monotonic() - started_at < 0.3  # the model's 300 ms were paid during the pause
    assert harness.spoken == ["Thank you John.", "Your claim is noted."]
    call = await harness.reload()
    assert call.claim["caller_name"] == "John Smith"
    assert len(llm_server.requests) == 2  # the held round and the round after the tool, no second first round
    assert [m.content for m in call.messages if m.persona is Persona.HUMAN] == ["My name is John Smith."]


async def test_other_words_drop_the_held_answer_and_its_tools_never_apply(
    tmp_path: Path, llm_server: ScriptedLlmServer, llm_model: OpenAiChatModel
) -> None:
    conv, harness = await started(tmp_path, llm_model)
    llm_server.script.add_tool_calls([CLAIM], text="Thank you John.", match="John Smith\\.$")
    llm_server.script.add_text("Sorry, could you spell it?", match="Smithson")
    speculation = await conv.speculate("My name is John Smith.")
    assert speculation is not None
    await asyncio.sleep(0.3)
    await conv.respond("My name is John Smithson and I live in Lyon.", harness.speak, speculation=speculation)
    assert harness.spoken == ["Sorry, could you spell it?"]
    call = await harness.reload()
    assert call.claim.get("caller_name") is None  # the dropped answer's tool never ran
    assert all(not m.tool_calls for m in call.messages)
    assert "Thank you John." not in " ".join(m.content for m in call.messages)
    assert len(llm_server.requests) == 2


async def test_a_caller_who_goes_on_drops_it_without_a_trace(
    tmp_path: Path, llm_server: ScriptedLlmServer, llm_model: OpenAiChatModel
) -> None:
    conv, harness = await started(tmp_path, llm_model)
    before = (await harness.reload()).model_dump(exclude={"updated_at", "etag"})
    llm_server.script.add_tool_calls([{"name": "end_call", "arguments": {}}], text="Goodbye.", ttft_ms=100)
    speculation = await conv.speculate("That is all.")
    assert speculation is not None
    await asyncio.sleep(0.3)
    assert speculation.held > 0
    await speculation.discard()  # the caller went on
    assert harness.spoken == []
    assert not conv.ctx.outcome.hang_up and harness.telephony.actions == []
    assert (await harness.reload()).model_dump(exclude={"updated_at", "etag"}) == before


async def test_a_speculation_still_waiting_for_the_model_is_taken_over_as_it_streams(
    tmp_path: Path, llm_server: ScriptedLlmServer, llm_model: OpenAiChatModel
) -> None:
    conv, harness = await started(tmp_path, llm_model)
    llm_server.script.add_text("Of course, I can help you with that. What happened?", ttft_ms=200)
    speculation = await conv.speculate("I had an accident.")
    assert speculation is not None and speculation.held == 0
    await conv.respond("I had an accident.", harness.speak, speculation=speculation)
    assert harness.spoken == ["Of course, I can help you with that.", "What happened?"]
    assert len(llm_server.requests) == 1


async def test_the_first_audio_is_the_first_clause_of_a_long_first_sentence_and_all_is_stored(
    tmp_path: Path, llm_server: ScriptedLlmServer, llm_model: OpenAiChatModel
) -> None:
    conv, harness = await started(tmp_path, llm_model)
    reply = (
        "Thank you for telling me about the accident, I have noted everything you said. "
        "Was anyone else in the car with you?"
    )
    llm_server.script.add_text(reply)
    await conv.respond("I had an accident on the highway.", harness.speak)
    assert harness.spoken == [
        "Thank you for telling me about the accident,",
        "I have noted everything you said.",
        "Was anyone else in the car with you?",
    ]
    assert (await harness.reload()).messages[-1].content == reply
