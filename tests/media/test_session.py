"""The media loop of one call over audio frames, with instant stub engines (timing is the loop's own)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from local.speech_stubs import silence, tone
from media_host.session import CallSession
from shared.conversation.engine import Conversation
from shared.flags.base import FeatureFlags
from shared.models import Persona
from tests.conversation.support import make_harness
from tests.media.support import Phone, start_session, stub_engines, wait_for

UTTERANCE = tone(600) + silence(700)


async def _conversation(tmp_path: Path, **flags: object) -> Conversation:
    harness = await make_harness(tmp_path, flags=FeatureFlags(**flags))  # type: ignore[arg-type]
    conversation = Conversation(harness.ctx, llm=None)
    return conversation


async def test_a_caller_turn_is_transcribed_answered_and_measured(tmp_path: Path) -> None:
    conversation = await _conversation(tmp_path)
    engines, _stt, tts = stub_engines(["I had an accident", "My name is John Smith"])
    session, phone, task = start_session(conversation, engines)
    await wait_for(lambda: tts.sentences and session.idle)  # the greeting was said
    greeting_frames = len(phone.bot_audio_frames())
    await phone.stream(UTTERANCE, realtime=False)
    await wait_for(lambda: session.stats.turns == 1 and session.idle)
    await phone.stream(UTTERANCE, realtime=False)
    await wait_for(lambda: conversation.ctx.call.claim.get("caller_name") == "John Smith")
    await wait_for(lambda: len(conversation.ctx.call.turns) == 2)
    phone.hang_up()
    await task
    assert session.stats.barge_ins == 0

    assert len(phone.bot_audio_frames()) > greeting_frames
    turn = conversation.ctx.call.turns[0]
    assert turn.stt_final_ms is not None and turn.tts_first_audio_ms is not None
    assert turn.first_frame_out_ms is not None and turn.first_frame_out_ms >= turn.tts_first_audio_ms
    personas = [m.persona for m in conversation.ctx.call.messages]
    assert personas[:3] == [Persona.ASSISTANT, Persona.HUMAN, Persona.ASSISTANT]
    assert session.stats.dropped == 0


async def test_barge_in_stops_the_bot_and_keeps_what_was_heard(tmp_path: Path) -> None:
    conversation = await _conversation(tmp_path, vad_cutoff_timeout_ms=250)
    engines, _stt, _tts = stub_engines(["I had an accident"])
    session, phone, task = start_session(conversation, engines)
    await wait_for(lambda: session.playback.playing)  # the greeting is playing (about 2 s of tone)
    await asyncio.sleep(0.3)
    onset = asyncio.get_running_loop().time()
    await phone.stream(tone(400), realtime=True)
    await wait_for(phone.stops)
    stop_delay_ms = (phone.stops()[0] - onset) * 1000
    assert session.stats.barge_ins == 1
    assert 200 <= stop_delay_ms <= 250 + 150, stop_delay_ms  # the cutoff, plus scheduling slack on CI
    assert not session.playback.playing
    phone.hang_up()
    await task


async def test_echo_of_the_bot_does_not_interrupt_it(tmp_path: Path) -> None:
    conversation = await _conversation(tmp_path)
    engines, _stt, _tts = stub_engines([])
    session, phone, task = start_session(conversation, engines)
    await wait_for(lambda: session.playback.playing)
    echo = tone(800, frequency=300.0, amplitude=0.03)  # the bot's tone, 20 dB down: a speakerphone echo
    await phone.stream(echo, realtime=True)
    assert session.stats.barge_ins == 0 and not phone.stops()
    phone.hang_up()
    await task


async def test_silence_prompts_then_goodbye_and_hang_up(tmp_path: Path) -> None:
    conversation = await _conversation(tmp_path, phone_silence_timeout_sec=1, recognition_retry_max=1)
    engines, _stt, tts = stub_engines([])
    _session, phone, task = start_session(conversation, engines)
    await wait_for(lambda: conversation.ended, within=15)
    phone.hang_up()
    await task
    prompts = conversation.ctx.ports.prompts
    are_you_there = set(prompts.phrase_choices("are_you_there", "en-US"))
    assert sum(1 for s in tts.sentences if s in are_you_there) == 1
    telephony = conversation.ctx.ports.telephony
    assert [a.kind for a in telephony.actions] == ["hang_up"]  # type: ignore[attr-defined]


async def test_malformed_frames_are_counted_and_dropped(tmp_path: Path) -> None:
    conversation = await _conversation(tmp_path)
    engines, _stt, _tts = stub_engines(["I had an accident"])
    session, phone, task = start_session(conversation, engines)
    for bad in ["not json", "{}", '{"kind":"AudioData","audioData":{"data":"%%%"}}', '{"kind":"Nope"}']:
        phone.inbox.put_nowait(bad)
    await phone.stream(UTTERANCE, realtime=False)
    await wait_for(lambda: session.stats.turns == 1)
    phone.hang_up()
    await task
    assert session.stats.dropped == 4


async def _turns_after_a_short_pause(tmp_path: Path, heard: str) -> int:
    """Turns taken once the caller said `heard` and then kept silent for 400 ms (a frame count:
    the silence is streamed at real time so the transcription finishes within it)."""
    conversation = await _conversation(
        tmp_path, vad_silence_timeout_ms=500, vad_sentence_end_timeout_ms=300, vad_unfinished_timeout_ms=0
    )
    engines, _stt, tts = stub_engines([heard])
    session, phone, task = start_session(conversation, engines)
    await wait_for(lambda: tts.sentences and session.idle)  # the greeting was said
    await phone.stream(tone(600), realtime=False)
    await phone.stream(silence(400), realtime=True)
    await asyncio.sleep(0.05)
    turns = session.stats.turns
    await phone.stream(silence(300), realtime=True)  # past vad_silence_timeout_ms: the turn ends anyway
    await wait_for(lambda: session.stats.turns == 1)
    phone.hang_up()
    await task
    return turns


async def test_a_complete_sentence_ends_the_turn_after_the_shorter_pause(tmp_path: Path) -> None:
    assert await _turns_after_a_short_pause(tmp_path, "I had an accident.") == 1


async def test_an_unfinished_sentence_waits_for_the_full_silence(tmp_path: Path) -> None:
    assert await _turns_after_a_short_pause(tmp_path, "I had an accident and") == 0


async def test_unfinished_words_wait_for_the_longer_pause_then_end(tmp_path: Path) -> None:
    conversation = await _conversation(tmp_path, vad_silence_timeout_ms=500, vad_unfinished_timeout_ms=1500)
    engines, _stt, tts = stub_engines(["My account number is."])  # Whisper's period on half a sentence
    session, phone, task = start_session(conversation, engines)
    await wait_for(lambda: tts.sentences and session.idle)  # the greeting was said
    await phone.stream(tone(600), realtime=False)
    await phone.stream(silence(1100), realtime=True)
    await asyncio.sleep(0.05)
    assert session.stats.turns == 0  # a caller pausing 1.1 s after "is" is not answered
    await phone.stream(silence(500), realtime=True)  # the long pause: the turn ends anyway
    await wait_for(lambda: session.stats.turns == 1)
    phone.hang_up()
    await task


async def _answered_then_continued(
    tmp_path: Path, first: str, then: str
) -> tuple[Conversation, CallSession, Phone, asyncio.Task[None]]:
    """The caller says `first` (a finished sentence: answered after the short pause), then goes on
    with `then` while the answer plays; returns the conversation once the continuation took the
    answer back, and the session."""
    conversation = await _conversation(tmp_path, vad_continuation_window_ms=1500, phone_silence_timeout_sec=0)
    engines, _stt, tts = stub_engines([first, then])
    session, phone, task = start_session(conversation, engines)
    await wait_for(lambda: tts.sentences and session.idle)  # the greeting was said
    greeting = len(tts.sentences)
    await phone.stream(tone(600), realtime=False)
    streaming = asyncio.create_task(phone.stream(silence(800), realtime=True))
    await wait_for(lambda: len(tts.sentences) > greeting and session.playback.playing)  # answered
    await streaming
    await phone.stream(tone(400), realtime=True)  # the caller goes on over the answer
    await wait_for(lambda: session.stats.continuations == 1)
    return conversation, session, phone, task


async def test_a_continuation_stops_the_answer_takes_it_back_and_makes_one_turn(tmp_path: Path) -> None:
    conversation, session, phone, task = await _answered_then_continued(
        tmp_path, "My name is John Smith.", "and my email is john at example dot com."
    )
    assert phone.stops(), "the answer under way was stopped"
    assert conversation.ctx.call.claim.get("caller_name") is None  # its tool call was taken back
    assert [m.persona for m in conversation.ctx.call.messages] == [Persona.ASSISTANT]  # only the greeting
    stored = await conversation.ctx.ports.store.get(conversation.ctx.call.call_id)
    assert stored is not None and stored.claim.get("caller_name") is None
    await phone.stream(silence(700), realtime=True)
    await wait_for(lambda: any(m.persona is Persona.HUMAN for m in conversation.ctx.call.messages))
    await wait_for(lambda: session.idle)
    phone.hang_up()
    await task
    human = [m.content for m in conversation.ctx.call.messages if m.persona is Persona.HUMAN]
    assert human == ["My name is John Smith. and my email is john at example dot com."]  # one turn


async def test_a_continuation_cancels_a_hang_up_before_it_happens(tmp_path: Path) -> None:
    conversation, _session, phone, task = await _answered_then_continued(
        tmp_path, "Goodbye.", "Wait, I have one more question."
    )
    telephony = conversation.ctx.ports.telephony
    assert [a.kind for a in telephony.actions] == []  # type: ignore[attr-defined]
    assert not conversation.ended
    phone.hang_up()
    await task
