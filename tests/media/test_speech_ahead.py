"""The first words of an answer opened at the caller's pause are synthesised ahead, while the turn
has not ended yet, and the turn that keeps the answer plays that audio instead of synthesising it
again (stub speech engines, the LLM agent through the real openai SDK against the scripted server)."""

from __future__ import annotations

from pathlib import Path

from local.llm_server import ScriptedLlmServer
from local.speech_stubs import MS_PER_CHARACTER, silence, tone
from shared.llm.client import OpenAiChatModel
from tests.conversation.support import make_harness
from tests.media.support import start_session, stub_engines, wait_for
from tests.scripted_model import llm_conversation

REPLY = "Thank you for telling me about the accident, I have noted everything. Was anyone hurt?"
OPENING = "Thank you for telling me about the accident,"


async def test_the_opening_is_synthesised_during_the_pause_and_played_once(
    tmp_path: Path, llm_server: ScriptedLlmServer, llm_model: OpenAiChatModel
) -> None:
    harness = await make_harness(tmp_path)
    conversation = llm_conversation(harness, llm_model)
    llm_server.script.add_text(REPLY, match="accident")
    engines, _stt, tts = stub_engines(["I had an accident this morning."])
    session, phone, task = start_session(conversation, engines)
    await wait_for(lambda: tts.sentences and session.idle)  # the greeting was said
    said_before = len(tts.sentences)
    greeting_frames = len(phone.bot_audio_frames())

    # speech, then a pause long enough for the speculative transcript (64 ms) but not for the turn's
    # end (300 ms): the session counts silence in frames, so the turn cannot end before more arrive
    await phone.stream(tone(600) + silence(200), realtime=True)
    await wait_for(lambda: OPENING in tts.sentences[said_before:])
    assert session.stats.turns == 0  # synthesised while the caller's turn was still open
    assert len(phone.bot_audio_frames()) == greeting_frames  # and not played

    await phone.stream(silence(600), realtime=True)  # the turn ends with the same words
    await wait_for(lambda: session.stats.turns == 1 and session.idle)
    phone.hang_up()
    await task

    assert tts.sentences[said_before:] == [OPENING, "I have noted everything.", "Was anyone hurt?"]
    call = await harness.reload()
    assert [m.content for m in call.messages[-2:]] == ["I had an accident this morning.", REPLY]


async def test_a_caller_who_goes_on_never_hears_the_opening_made_ahead(
    tmp_path: Path, llm_server: ScriptedLlmServer, llm_model: OpenAiChatModel
) -> None:
    harness = await make_harness(tmp_path)
    conversation = llm_conversation(harness, llm_model)
    llm_server.script.add_text(REPLY, match=r"accident\.$")
    llm_server.script.add_text("Where did it happen?", match="Lyon")
    engines, _stt, tts = stub_engines(["I had an accident.", "On the highway near Lyon."])
    session, phone, task = start_session(conversation, engines)
    await wait_for(lambda: tts.sentences and session.idle)
    said_before = len(tts.sentences)
    greeting_frames = len(phone.bot_audio_frames())

    await phone.stream(tone(600) + silence(200), realtime=True)
    await wait_for(lambda: OPENING in tts.sentences[said_before:])
    await phone.stream(tone(600) + silence(700), realtime=True)  # the caller went on
    await wait_for(lambda: session.stats.turns == 1 and session.idle)
    phone.hang_up()
    await task

    assert tts.sentences[said_before:] == [OPENING, "Where did it happen?"]  # made ahead, never used
    answer_frames = len(phone.bot_audio_frames()) - greeting_frames
    expected = len("Where did it happen?") * MS_PER_CHARACTER / 20
    assert answer_frames <= expected + 2  # only the kept answer's audio reached the phone
    call = await harness.reload()
    assert [m.content for m in call.messages[-2:]] == [
        "I had an accident. On the highway near Lyon.",
        "Where did it happen?",
    ]
