"""Whole phone calls on loopback with real local speech: the caller's voice (piper) goes through the
ACS simulator to the media host, which transcribes it (faster-whisper), lets the form agent answer,
speaks (piper) and sends the audio back, which the simulator's phone records and we transcribe."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from local.acs_simulator import TimelineKind
from local.dev import LocalStack
from shared.composition import Services
from shared.models import Call, CallState
from shared.speech.models import piper_voice_path, tiny_en_dir
from shared.speech.piper_tts import PiperTts
from shared.speech.whisper_stt import WhisperStt
from tests.stack import local_stack

SILENCE_TIMEOUT_SEC = 6


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    data = tmp_path_factory.mktemp("e2e")
    flags = f"phone_silence_timeout_sec: {SILENCE_TIMEOUT_SEC}\nrecognition_retry_max: 1\n"
    with local_stack(data, flags=flags, speed=1.0, real_speech=True) as running:
        yield running


@pytest.fixture(scope="module")
def caller_voice() -> PiperTts:
    return PiperTts({"en": piper_voice_path()}, steady=True)


@pytest.fixture(scope="module")
def listener() -> WhisperStt:
    return WhisperStt({"en": tiny_en_dir()})


async def voice(tts: PiperTts, text: str) -> bytes:
    return b"".join([chunk async for chunk in tts.synthesize(text, lang="en-US")])


async def ring(stack: LocalStack, services: Services, caller: str) -> tuple[str, Call]:
    simulator = stack.simulator
    assert simulator is not None and stack.settings is not None
    connection = simulator.call_id_for(simulator.ring(caller, stack.settings.acs.phone_number))
    await asyncio.to_thread(simulator.wait_for_timeline, connection, TimelineKind.MEDIA_CONNECTED, timeout=30)
    page = await services.store.list_by_phone(caller, limit=1)
    return connection, page.items[0]


async def bot_quiet(stack: LocalStack, connection: str, quiet_sec: float = 0.8, within: float = 60) -> None:
    """Wait until the phone has heard no new bot audio for `quiet_sec`."""
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


async def stored(services: Services, call: Call, check: Any, within: float = 60) -> Call:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        loaded = await services.store.get(call.call_id)
        if loaded is not None and check(loaded):
            return loaded
        await asyncio.sleep(0.2)
    raise AssertionError("the call never reached the expected state")


async def test_the_caller_speaks_the_bot_understands_and_answers_in_audio(
    stack: LocalStack, services: Services, caller_voice: PiperTts, listener: WhisperStt
) -> None:
    simulator = stack.simulator
    assert simulator is not None
    connection, call = await ring(stack, services, "+33611110001")
    await bot_quiet(stack, connection)
    simulator.say(connection, await voice(caller_voice, "Hello, I had a car accident this morning."))
    await stored(services, call, lambda c: c.claim.get("incident_description"))
    await bot_quiet(stack, connection)
    heard_before = len(simulator.bot_audio(connection))
    simulator.say(connection, await voice(caller_voice, "My name is John Smith."))
    final = await stored(services, call, lambda c: c.claim.get("caller_name") == "John Smith")
    await asyncio.to_thread(
        simulator.wait_for_bot_audio, connection, heard_before + 32_000, 60
    )  # 1 s of answer
    await bot_quiet(stack, connection)

    answer = simulator.bot_audio(connection)[heard_before:]
    transcript = (await listener.transcribe(answer, lang="en-US")).text.lower()
    assert "john smith" in transcript, transcript  # "Thank you, I noted John Smith. What is your e-mail..."
    assert "mail" in transcript, transcript
    turns = (await stored(services, call, lambda c: len(c.turns) >= 2)).turns
    assert all(t.first_frame_out_ms is not None and t.stt_final_ms is not None for t in turns)
    assert final.agent == "form"
    simulator.hang_up_as_caller(connection)
    await stored(services, call, lambda c: c.connection.state is CallState.DISCONNECTED)


async def test_barge_in_stops_the_bot_within_the_cutoff(
    stack: LocalStack, services: Services, caller_voice: PiperTts
) -> None:
    simulator = stack.simulator
    assert simulator is not None
    connection, _call = await ring(stack, services, "+33611110002")
    await bot_quiet(stack, connection)
    simulator.say(connection, await voice(caller_voice, "I lost my phone yesterday."))
    await asyncio.to_thread(
        simulator.wait_for_timeline, connection, TimelineKind.BOT_AUDIO_FIRST_FRAME, count=2, timeout=30
    )
    await asyncio.sleep(0.3)  # the bot is speaking its question
    simulator.say(
        connection, await voice(caller_voice, "Excuse me, I have another question about my contract.")
    )
    stop = await asyncio.to_thread(
        simulator.wait_for_timeline, connection, TimelineKind.STOP_AUDIO, timeout=15
    )
    starts = [e for e in simulator.timeline(connection) if e.kind is TimelineKind.CALLER_SPEECH_START]
    onset = max(e.at for e in starts if e.at <= stop.at)
    delay_ms = (stop.at - onset) * 1000
    assert delay_ms <= 250 + 50 + 250, delay_ms  # cutoff + budget, + generous slack for a loaded CI box
    simulator.hang_up_as_caller(connection)


async def test_the_bot_does_not_interrupt_itself_on_speakerphone_echo(
    stack: LocalStack, services: Services
) -> None:
    simulator = stack.simulator
    assert simulator is not None
    connection, call = await ring(stack, services, "+33611110003")
    simulator.set_call_options(connection, echo_gain=0.1)  # the bot's voice comes back 20 dB down
    await bot_quiet(stack, connection, quiet_sec=1.0)
    assert not [e for e in simulator.timeline(connection) if e.kind is TimelineKind.STOP_AUDIO]
    loaded = await services.store.get(call.call_id)
    assert loaded is not None and not [m for m in loaded.messages if m.persona == "human"]
    simulator.hang_up_as_caller(connection)


async def test_silence_prompts_then_the_bot_hangs_up(stack: LocalStack, services: Services) -> None:
    simulator = stack.simulator
    assert simulator is not None
    _connection, call = await ring(stack, services, "+33611110004")
    ended = await stored(
        services,
        call,
        lambda c: c.connection.state is CallState.DISCONNECTED,
        within=3 * SILENCE_TIMEOUT_SEC + 20,
    )
    said = " ".join(m.content for m in ended.messages).lower()
    assert "still there" in said or "still on the line" in said
    assert "goodbye" in said
