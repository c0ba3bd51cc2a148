"""A caller asks a question in the middle of the claim, over a phone call with real local speech, and
hears the answer from the company's documents (the demo set the local stack loads into its empty
index), then the bot's question again: the bot's audio is transcribed to check what was heard."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from local.dev import LocalStack
from shared.composition import Services
from shared.models import CallState
from shared.speech.models import piper_voice_path, tiny_en_dir
from shared.speech.piper_tts import PiperTts
from shared.speech.whisper_stt import WhisperStt
from tests.e2e.test_phone_call import bot_quiet, ring, stored, voice
from tests.stack import local_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with local_stack(tmp_path_factory.mktemp("e2e-docs"), speed=1.0, real_speech=True) as running:
        yield running


async def test_a_question_mid_claim_is_answered_from_the_documents_over_audio(
    stack: LocalStack, services: Services
) -> None:
    simulator = stack.simulator
    assert simulator is not None
    caller = PiperTts({"en": piper_voice_path()}, steady=True)
    connection, call = await ring(stack, services, "+33611110077")
    await bot_quiet(stack, connection)
    simulator.say(connection, await voice(caller, "Hello, my car was damaged in a parking lot this morning."))
    await stored(services, call, lambda c: c.claim.get("incident_description"))
    await bot_quiet(stack, connection)
    simulator.say(connection, await voice(caller, "My name is John Smith."))
    await stored(services, call, lambda c: c.claim.get("caller_name") == "John Smith")
    await bot_quiet(stack, connection)
    heard_before = len(simulator.bot_audio(connection))
    question = "Before we go on, will I get a courtesy car while my car is being repaired?"
    simulator.say(connection, await voice(caller, question))
    answered = await stored(
        services, call, lambda c: any(t.name == "search_document" for m in c.messages for t in m.tool_calls)
    )
    await asyncio.to_thread(simulator.wait_for_bot_audio, connection, heard_before + 5 * 32_000, 60)
    await bot_quiet(stack, connection, quiet_sec=1.5)

    (message,) = [m for m in answered.messages if any(t.name == "search_document" for t in m.tool_calls)]
    assert "source: knowledge/en/replacement-car.md" in (message.tool_calls[0].result or "")
    answer = simulator.bot_audio(connection)[heard_before:]
    transcript = (await WhisperStt({"en": tiny_en_dir()}).transcribe(answer, lang="en-US")).text.lower()
    assert "replacement" in transcript, transcript  # "...a replacement vehicle is provided while..."
    assert "mail" in transcript, transcript  # then the question it had asked: the e-mail address
    assert answered.claim.get("caller_email") is None
    simulator.hang_up_as_caller(connection)
    await stored(services, call, lambda c: c.connection.state is CallState.DISCONNECTED)
