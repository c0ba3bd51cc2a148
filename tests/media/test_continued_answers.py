"""A caller who goes on right after their turn ended: the history keeps what they heard of the answer
that was taken back (nothing, or its words as far as they played), the whole utterance gets one
answer, and the taken-back answer's tool calls are never applied (stub speech engines, the LLM agent
through the real openai SDK against the scripted server)."""

from __future__ import annotations

from pathlib import Path

from local.llm_server import ScriptedLlmServer
from local.speech_stubs import silence, tone
from shared.flags.base import FeatureFlags
from shared.llm.client import OpenAiChatModel
from shared.models import Call, Persona
from tests.conversation.support import Harness, make_harness
from tests.media.support import start_session, stub_engines, wait_for
from tests.scripted_model import llm_conversation, name_update

CLAIM = name_update("John")
FIRST = "My name is John."  # a finished sentence: the turn ends after the short pause
THEN = "and I live in Lyon."
WHOLE = f"{FIRST} {THEN}"
PREMATURE = "Thank you John, I have written down your name and I am now opening your file."
KEPT = "Sorry, could you spell your name?"


async def _goes_on(harness: Harness, model: OpenAiChatModel, *, pause_ms: float) -> list[str]:
    """The caller says FIRST, is silent `pause_ms` (the turn ends and its answer starts), then goes
    on with THEN; returns the sentences the bot said after the greeting, once the call is over."""
    conversation = llm_conversation(harness, model)
    engines, stt, tts = stub_engines([FIRST, THEN])
    session, phone, task = start_session(conversation, engines)
    await wait_for(lambda: tts.sentences and session.idle)  # the greeting was said
    greeting = len(tts.sentences)
    await phone.stream(tone(600) + silence(pause_ms), realtime=True)
    await phone.stream(tone(600), realtime=True)  # the caller goes on
    await wait_for(lambda: session.stats.continuations == 1)
    await phone.stream(silence(700), realtime=True)
    await wait_for(lambda: any(m.content == KEPT for m in conversation.ctx.call.messages))
    await wait_for(lambda: session.idle)
    phone.hang_up()
    await task
    assert stt.calls == 2 and session.stats.turns == 2  # the first part's answer, then the whole's
    return tts.sentences[greeting:]


def _answered_whole(server: ScriptedLlmServer, call: Call) -> None:
    """The kept answer answers the whole utterance, as one caller turn, and no tool ran."""
    asked = server.requests[-1].body["messages"][-1]
    assert asked == {"role": "user", "content": WHOLE}
    assert [m.content for m in call.messages if m.persona is Persona.HUMAN] == [WHOLE]
    assert call.claim.get("caller_name") is None  # the taken-back answer's tool is not applied
    assert all(not message.tool_calls for message in call.messages)


async def test_an_answer_taken_back_before_any_of_it_played_leaves_the_history(
    tmp_path: Path, llm_server: ScriptedLlmServer, llm_model: OpenAiChatModel
) -> None:
    harness = await make_harness(tmp_path, flags=FeatureFlags(phone_silence_timeout_sec=0))
    llm_server.script.add_tool_calls(
        [CLAIM], text=PREMATURE, match=r"John\.$", ttft_ms=1500
    )  # still thinking
    llm_server.script.add_text(KEPT, match="Lyon")

    said = await _goes_on(harness, llm_model, pause_ms=800)

    assert said == [KEPT]  # nothing of the first answer reached the phone
    call = await harness.reload()
    _answered_whole(llm_server, call)
    assert [(m.persona, m.content) for m in call.messages[1:]] == [
        (Persona.HUMAN, WHOLE),
        (Persona.ASSISTANT, KEPT),
    ]


async def test_an_answer_taken_back_while_it_played_is_kept_as_far_as_it_was_heard(
    tmp_path: Path, llm_server: ScriptedLlmServer, llm_model: OpenAiChatModel
) -> None:
    harness = await make_harness(tmp_path, flags=FeatureFlags(phone_silence_timeout_sec=0))
    llm_server.script.add_tool_calls([CLAIM], text=PREMATURE, match=r"John\.$")
    llm_server.script.add_text(
        "Is there anything else?", match=r"John\.$"
    )  # its second round, after the tool
    llm_server.script.add_text(KEPT, match="Lyon")

    said = await _goes_on(harness, llm_model, pause_ms=1000)

    assert said[0] == PREMATURE and said[-1] == KEPT  # the first answer started playing
    call = await harness.reload()
    _answered_whole(llm_server, call)
    assert [m.persona for m in call.messages] == [
        Persona.ASSISTANT,  # the greeting
        Persona.HUMAN,
        Persona.ASSISTANT,  # what was heard of the answer taken back
        Persona.ASSISTANT,  # the answer to the whole utterance
    ]
    heard, kept = call.messages[2].content, call.messages[3].content
    assert kept == KEPT
    assert heard.endswith("…") and heard != "…", heard  # cut as it played: some words, not all
    words = heard.removesuffix("…").split()
    assert words == PREMATURE.split()[: len(words)] and len(words) < len(PREMATURE.split())
    assert "anything else" not in heard  # queued behind it, never played
