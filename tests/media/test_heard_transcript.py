"""What the caller heard is what is stored: the last goodbye survives the hang-up that tears the call
down, and a greeting the caller cut off is not stored whole (their words are used, not dropped)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from local.speech_stubs import silence, tone
from shared.conversation.engine import Conversation
from shared.flags.base import FeatureFlags
from shared.models import Call, Persona
from shared.telephony.base import RecordingTelephony
from tests.conversation.support import make_harness
from tests.media.support import Phone, start_session, stub_engines, wait_for

UTTERANCE = tone(600) + silence(700)


class HangingUpLine(RecordingTelephony):
    """Hanging up closes the media stream at once, as ACS does: the session is torn down."""

    def __init__(self) -> None:
        super().__init__()
        self.phone: Phone | None = None

    async def hang_up(self, call: Call) -> None:
        await super().hang_up(call)
        assert self.phone is not None
        self.phone.hang_up()
        await asyncio.sleep(0.05)  # the socket closes while the request is still answering


async def test_the_last_goodbye_is_stored_although_the_hang_up_tears_the_call_down(tmp_path: Path) -> None:
    harness = await make_harness(tmp_path)
    line = HangingUpLine()
    harness.ctx.ports = type(harness.ctx.ports)(**{**harness.ctx.ports.__dict__, "telephony": line})
    conversation = Conversation(harness.ctx, llm=None)
    engines, _stt, _tts = stub_engines(["No thanks, goodbye."])
    session, phone, task = start_session(conversation, engines)
    line.phone = phone
    await wait_for(lambda: session.idle and conversation.ctx.call.messages)  # the greeting was heard
    await phone.stream(UTTERANCE, realtime=False)
    await asyncio.wait_for(task, timeout=15)
    assert [a.kind for a in line.actions] == ["hang_up"]
    stored = await harness.reload()
    last = stored.messages[-1]
    goodbyes = harness.ctx.ports.prompts.phrase_choices("goodbye", "en-US")
    assert last.persona is Persona.ASSISTANT
    assert [t.name for t in last.tool_calls] == ["end_call"]
    assert any(goodbye.replace("{bot_company}", "Contoso") in last.content for goodbye in goodbyes), last


async def test_words_said_over_the_greeting_are_used_and_the_greeting_is_stored_as_heard(
    tmp_path: Path,
) -> None:
    harness = await make_harness(tmp_path, flags=FeatureFlags(vad_cutoff_timeout_ms=250))
    conversation = Conversation(harness.ctx, llm=None)
    engines, _stt, _tts = stub_engines(["My name is Ana Lopez, my car was stolen last night."])
    session, phone, task = start_session(conversation, engines)
    await wait_for(lambda: session.playback.playing)  # the greeting's first sentence is playing
    await asyncio.sleep(0.3)
    await phone.stream(tone(900) + silence(900), realtime=True)  # the caller cuts in
    await wait_for(lambda: conversation.ctx.call.claim.get("caller_name") == "Ana Lopez")
    await wait_for(lambda: session.idle)
    phone.hang_up()
    await task
    stored = await harness.reload()
    greeting = (
        conversation.ctx.said["hello"].replace("{bot_name}", "Amélie").replace("{bot_company}", "Contoso")
    )
    said = [m.content for m in stored.messages if m.persona is Persona.ASSISTANT]
    assert greeting not in said  # cut off: not stored whole
    first_human = next(i for i, m in enumerate(stored.messages) if m.persona is Persona.HUMAN)
    assert all(greeting not in m.content for m in stored.messages[:first_human])
    assert stored.messages[first_human].content.startswith("My name is Ana Lopez")


async def test_an_answer_cut_by_a_barge_in_is_stored_as_far_as_it_was_heard(tmp_path: Path) -> None:
    flags = FeatureFlags(
        vad_cutoff_timeout_ms=250, vad_continuation_window_ms=0
    )  # a barge-in, not more words
    harness = await make_harness(tmp_path, flags=flags)
    conversation = Conversation(harness.ctx, llm=None)
    engines, _stt, tts = stub_engines(["My name is John Smith.", "Sorry, one thing first."])
    session, phone, task = start_session(conversation, engines)
    await wait_for(lambda: session.idle and conversation.ctx.call.messages)
    await phone.stream(UTTERANCE, realtime=False)
    await wait_for(lambda: conversation.ctx.call.claim.get("caller_name") == "John Smith")
    await wait_for(lambda: session.playback.playing)  # the read-back, then the next question
    spoken = list(tts.sentences[-2:])
    await asyncio.sleep(0.3)
    await phone.stream(tone(600) + silence(700), realtime=True)  # the caller cuts in
    await wait_for(lambda: session.stats.barge_ins == 1)
    await wait_for(lambda: session.idle)
    phone.hang_up()
    await task
    stored = await harness.reload()
    answer = next(
        m
        for m in stored.messages
        if m.persona is Persona.ASSISTANT and m.tool_calls and "updated_claim" in m.tool_calls[0].name
    )
    assert spoken[1] not in answer.content  # the question was dropped before it played
    assert spoken[0] not in answer.content and answer.content.endswith("…")  # the read-back was cut
