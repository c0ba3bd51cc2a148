"""The media host over real websockets: authentication and close codes, a fuzzed session next to a
healthy one, and a reconnect that resumes the call."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from uuid import uuid4

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from local.speech_stubs import EnergyVad, ScriptedStt, ToneTts, silence, tone
from local.threaded_server import ThreadedServer
from media_host.admission import CLOSE_FINISHED, CLOSE_UNAUTHORIZED
from media_host.app import create_media_app
from media_host.protocol import encode_audio_data, encode_audio_metadata
from shared.calls.routing import with_new_secrets
from shared.composition import Services, ServicesHolder
from shared.models import Call, CallState
from shared.settings import Settings, load_settings
from shared.speech.base import SpeechEngines
from shared.store.sqlite import SqliteCallStore

FRAME = 640


class Stack:
    def __init__(self, tmp: Path) -> None:
        self.settings: Settings = load_settings(store={"sqlite": {"path": tmp / "calls.sqlite3"}})
        self.stt = ScriptedStt()
        self.tts = ToneTts()
        engines = SpeechEngines(vad=EnergyVad(), stt=self.stt, tts=self.tts)

        def factory(_services: Services) -> SpeechEngines:
            return engines

        self.app = create_media_app(engines=factory, holder=ServicesHolder(self.settings))
        self.server = ThreadedServer(self.app, name="media host", lifespan="on")
        self.port = self.server.bind()

    def __enter__(self) -> Stack:
        self.server.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.stop(timeout=10)

    def url(self, call: Call, token: str | None = None) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/{call.call_id}?token={token or call.secrets.media}"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with Stack(tmp_path) as running:
        yield running


@pytest.fixture
async def store(stack: Stack) -> AsyncIterator[SqliteCallStore]:
    opened = SqliteCallStore(stack.settings.store.sqlite.path)
    yield opened
    await opened.close()


async def new_call(
    store: SqliteCallStore, phone: str = "+33612345678", state: CallState = CallState.CONNECTED
) -> Call:
    call = with_new_secrets(Call(caller_phone=phone))
    call.connection.state = state
    return await store.create(call)


def frames(pcm: bytes) -> list[str]:
    return [
        encode_audio_data(pcm[i : i + FRAME].ljust(FRAME, b"\x00"), "2026-11-24T10:00:00Z", "4:+33612345678")
        for i in range(0, len(pcm), FRAME)
    ]


async def close_code(url: str) -> int | None:
    async with websockets.connect(url, close_timeout=1) as socket:
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(socket.recv(), 5)
        return socket.close_code


async def test_refusals_have_close_codes(stack: Stack, store: SqliteCallStore) -> None:
    live = await new_call(store)
    finished = await new_call(store, state=CallState.DISCONNECTED)
    unknown = Call(caller_phone="+33612345678")
    unknown.secrets.media = "whatever"
    assert await close_code(stack.url(unknown)) == CLOSE_UNAUTHORIZED  # 4404 only for the service's JWT
    assert await close_code(stack.url(live, token="wrong-token")) == CLOSE_UNAUTHORIZED
    assert await close_code(f"ws://127.0.0.1:{stack.port}/ws/{live.call_id}") == CLOSE_UNAUTHORIZED
    assert await close_code(stack.url(finished)) == CLOSE_FINISHED
    assert await close_code(f"ws://127.0.0.1:{stack.port}/ws/{uuid4()}x?token=a") == 4400


def garbage(rng: random.Random, number: int) -> str | bytes:
    """Eight kinds of bad frames, in turn: random bytes and text, bad base64, odd PCM, unknown kinds,
    oversized frames, wrong JSON shapes, bad DTMF."""
    makers: list[Callable[[], str | bytes]] = [
        lambda: rng.randbytes(rng.randint(1, 2000)),
        lambda: "".join(chr(rng.randint(32, 0x2FFF)) for _ in range(rng.randint(1, 300))),
        lambda: json.dumps({"kind": "AudioData", "audioData": {"data": "!!not base64!!"}}),
        lambda: json.dumps(
            {"kind": "AudioData", "audioData": {"data": base64.b64encode(rng.randbytes(641)).decode()}}
        ),
        lambda: json.dumps({"kind": rng.choice(["Audio", "", None, 3]), "audioData": {}}),
        lambda: json.dumps(
            {"kind": "AudioData", "audioData": {"data": base64.b64encode(bytes(70_000)).decode()}}
        ),
        lambda: json.dumps([1, 2, 3]),
        lambda: json.dumps({"kind": "DtmfData", "dtmfData": {"data": "xyz"}}),
    ]
    made: str | bytes = makers[number % len(makers)]()
    return made


async def claim_of(store: SqliteCallStore, call: Call, field: str, expected: str, within: float = 15) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        loaded = await store.get(call.call_id)
        if loaded is not None and loaded.claim.get(field) == expected:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{field} never became {expected!r}")


async def say(socket: websockets.ClientConnection, store: SqliteCallStore, call: Call, turns: int) -> None:
    """One caller utterance, then wait until the bot's answer was stored (its turn is over)."""
    for message in frames(tone(600) + silence(700)):
        await socket.send(message)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        loaded = await store.get(call.call_id)
        if loaded is not None and len(loaded.turns) >= turns:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"turn {turns} never completed")


async def test_fuzzed_session_does_not_touch_another_call(stack: Stack, store: SqliteCallStore) -> None:
    fuzzed, healthy = await new_call(store), await new_call(store, phone="+33798765432")
    stack.stt.texts.extend(["I had an accident", "My name is John Smith"])
    rng = random.Random(7)
    async with (
        websockets.connect(stack.url(fuzzed), max_size=None, close_timeout=1) as bad,
        websockets.connect(stack.url(healthy), close_timeout=1) as good,
    ):
        await good.send(encode_audio_metadata("sub"))

        async def fuzz() -> None:
            for number in range(1200):
                await bad.send(garbage(rng, number))
                if number % 50 == 0:
                    await asyncio.sleep(0)

        async def talk() -> None:
            await asyncio.sleep(0.5)  # after the greeting
            await say(good, store, healthy, turns=1)
            await say(good, store, healthy, turns=2)

        await asyncio.gather(fuzz(), talk())
        host = stack.app.state.host
        await claim_of(store, healthy, "caller_name", "John Smith")
        assert host.sessions[fuzzed.call_id].stats.dropped >= 1000
        assert host.sessions[healthy.call_id].stats.dropped == 0
        await bad.send(encode_audio_metadata("sub"))  # the fuzzed call is still served
        assert bad.close_code is None


async def test_reconnect_resumes_the_call(stack: Stack, store: SqliteCallStore) -> None:
    call = await new_call(store)
    stack.stt.texts.extend(["I had an accident", "My name is Ana Lopez", "ana at example dot com"])
    async with websockets.connect(stack.url(call), close_timeout=1) as first:
        await first.send(encode_audio_metadata("sub"))
        await asyncio.sleep(0.5)
        await say(first, store, call, turns=1)
        await say(first, store, call, turns=2)
    await claim_of(store, call, "caller_name", "Ana Lopez")
    spoken_before = len(stack.tts.sentences)

    async with websockets.connect(
        stack.url(call), close_timeout=1
    ) as second:  # the socket dropped; ACS reconnects
        await second.send(encode_audio_metadata("sub"))
        await asyncio.sleep(1.0)
        resumed = stack.tts.sentences[spoken_before:]
        greeting = " ".join(resumed[:2]).lower()  # said sentence by sentence
        assert resumed and "welcome back" in greeting and "continue" in greeting  # not a fresh hello
        assert any("e-mail" in s for s in resumed)  # straight to the next missing field
        await say(second, store, call, turns=3)
    final = await store.get(call.call_id)
    assert final is not None
    assert final.claim == {
        "incident_description": "I had an accident",
        "caller_name": "Ana Lopez",
        "caller_email": "ana@example.com",
    }
