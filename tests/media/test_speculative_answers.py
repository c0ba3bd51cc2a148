"""The session opens an answer at the speculative pause and lets the turn take it over only when the
caller said nothing more (stub speech engines, the LLM agent through the real openai SDK against the
scripted server)."""

from __future__ import annotations

from pathlib import Path

from local.llm_server import ScriptedLlmServer
from local.speech_stubs import silence, tone
from shared.llm.client import OpenAiChatModel
from tests.conversation.support import make_harness
from tests.media.support import start_session, stub_engines, wait_for
from tests.scripted_model import llm_conversation, name_update

CLAIM = name_update("John")


async def test_a_caller_who_goes_on_after_a_pause_never_gets_the_answer_to_the_first_part(
    tmp_path: Path, llm_server: ScriptedLlmServer, llm_model: OpenAiChatModel
) -> None:
    harness = await make_harness(tmp_path)
    conversation = llm_conversation(harness, llm_model)
    llm_server.script.add_tool_calls([CLAIM], text="Thank you John.", match=r"John\.$")
    llm_server.script.add_text("Sorry, could you spell it?", match="Smithson")
    engines, stt, tts = stub_engines(["My name is John.", "My name is John Smithson and I live in Lyon."])
    session, phone, task = start_session(conversation, engines)
    await wait_for(lambda: tts.sentences and session.idle)  # the greeting was said
    said_before = len(tts.sentences)

    await phone.stream(tone(600) + silence(150), realtime=True)  # a short pause: the answer is opened
    await wait_for(lambda: len(llm_server.requests) == 1)
    await phone.stream(tone(600) + silence(700), realtime=True)  # the caller went on
    await wait_for(lambda: session.stats.turns == 1 and session.idle)
    phone.hang_up()
    await task

    assert stt.calls == 2
    assert tts.sentences[said_before:] == ["Sorry, could you spell it?"]
    assert len(llm_server.requests) == 2  # the dropped answer's and the one the turn took over
    asked = [request.body["messages"][-1]["content"] for request in llm_server.requests]
    assert asked == ["My name is John.", "My name is John Smithson and I live in Lyon."]
    call = await harness.reload()
    assert call.claim.get("caller_name") is None  # the dropped answer's tool never ran
    assert all(not message.tool_calls for message in call.messages)
    assert [m.content for m in call.messages[-2:]] == [
        "My name is John Smithson and I live in Lyon.",
        "Sorry, could you spell it?",
    ]
