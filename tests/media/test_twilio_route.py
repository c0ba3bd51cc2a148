"""The media host's Twilio Media Streams route over a real websocket: a client speaking Twilio's JSON
(`connected`, `start` with the call in its custom parameters, 20 ms mu-law `media`, `mark` answers,
`stop`) drives a call; refusals get a close code and a reason."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from local.speech_stubs import silence, tone
from media_host import app as media_app
from media_host.admission import CLOSE_FINISHED, CLOSE_TOO_BIG, CLOSE_UNAUTHORIZED
from media_host.twilio_codec import pcm_to_ulaw, ulaw_to_pcm
from shared.calls.routing import TWILIO_PATH, twilio_stream_parameters
from shared.models import Call, CallState, Persona
from shared.speech.audio import StreamResampler
from shared.store.sqlite import SqliteCallStore
from tests.media import test_media_app
from tests.media.test_media_app import Stack, new_call

stack = test_media_app.stack  # the media app on loopback with stub engines, and its call store
store = test_media_app.store
SID = "MZ18ad3ab5a668481ce02b83e7395059f0"
CONNECTED = {"event": "connected", "protocol": "Call", "version": "1.0.0"}


def start_event(parameters: dict[str, str], media_format: dict[str, Any] | None = None) -> str:
    start = {
        "accountSid": "AC00000000000000000000000000000000",
        "streamSid": SID,
        "callSid": "CA00000000000000000000000000000000",
        "tracks": ["inbound"],
        "mediaFormat": media_format or {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        "customParameters": parameters,
    }
    return json.dumps({"event": "start", "sequenceNumber": "1", "start": start, "streamSid": SID})


class TwilioPhone:
    """Twilio's side of a bidirectional stream: sends the caller's audio, collects what the bot sends
    and answers each mark once the audio before it was received."""

    def __init__(self, socket: websockets.ClientConnection) -> None:
        self.socket = socket
        self.received: list[dict[str, Any]] = []
        self.sequence = 1
        self.chunk = 0

    async def open(self, call: Call) -> None:
        await self.socket.send(json.dumps(CONNECTED))
        await self.socket.send(start_event(twilio_stream_parameters(call)))

    async def send(self, event: dict[str, Any]) -> None:
        self.sequence += 1
        await self.socket.send(json.dumps({**event, "sequenceNumber": str(self.sequence), "streamSid": SID}))

    async def speak(self, pcm16k: bytes, *, realtime: bool) -> None:
        ulaw = pcm_to_ulaw(StreamResampler(16_000, 8_000).process(pcm16k))
        for offset in range(0, len(ulaw), 160):
            self.chunk += 1
            payload = base64.b64encode(ulaw[offset : offset + 160]).decode()
            media = {"track": "inbound", "chunk": str(self.chunk), "timestamp": str(20 * self.chunk)}
            await self.send({"event": "media", "media": {**media, "payload": payload}})
            await asyncio.sleep(0.02 if realtime else 0)

    async def listen(self) -> None:
        """Read until the socket closes, answering marks as Twilio does."""
        try:
            async for text in self.socket:
                message = json.loads(text)
                self.received.append(message)
                if message["event"] == "mark":
                    await self.send({"event": "mark", "mark": {"name": message["mark"]["name"]}})
        except ConnectionClosed:
            return

    def events(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.received if m["event"] == kind]


def url(stack: Stack) -> str:
    return f"ws://127.0.0.1:{stack.port}{TWILIO_PATH}"


async def until(predicate: object, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition never met")


@contextlib.asynccontextmanager
async def twilio_call(stack: Stack, call: Call) -> AsyncIterator[TwilioPhone]:
    """Twilio's stream for `call` on the media host: connected, started, listening; closed at the end."""
    async with websockets.connect(url(stack), close_timeout=1) as socket:
        phone = TwilioPhone(socket)
        listening = asyncio.create_task(phone.listen())
        await phone.open(call)
        yield phone
        await socket.close()
        await listening


async def test_a_call_over_twilio_media_streams(stack: Stack, store: SqliteCallStore) -> None:
    call = await new_call(store)
    stack.stt.texts.append("I had an accident")
    async with twilio_call(stack, call) as phone:
        host = stack.app.state.host
        await until(
            lambda: call.call_id in host.sessions and stack.tts.sentences and host.sessions[call.call_id].idle
        )
        session = host.sessions[call.call_id]
        greeting = phone.events("media")
        assert greeting and all(
            m == {"event": "media", "streamSid": SID, "media": m["media"]} for m in greeting
        )
        for message in greeting:  # 20 ms of 8 kHz mu-law each, the bot's tone and not silence
            ulaw = base64.b64decode(message["media"]["payload"], validate=True)
            assert len(ulaw) == 160
        assert any(any(ulaw_to_pcm(base64.b64decode(m["media"]["payload"]))) for m in greeting)
        marks = phone.events("mark")
        assert len(marks) == len(stack.tts.sentences)  # one per sentence, after its audio
        assert all(
            m == {"event": "mark", "streamSid": SID, "mark": {"name": m["mark"]["name"]}} for m in marks
        )
        assert len({m["mark"]["name"] for m in marks}) == len(marks)
        await until(lambda: session.stats.frames.marks == len(marks))  # each answer taken, none dropped

        await phone.speak(tone(600) + silence(700), realtime=False)
        await until(lambda: session.stats.turns == 1 and session.idle)
        await phone.send({"event": "stop", "stop": {"accountSid": "AC0", "callSid": "CA0"}})
        assert session.stats.dropped == 0 and session.stats.frames_in == phone.chunk
    stored = await store.get(call.call_id)
    assert stored is not None
    assert [m.content for m in stored.messages if m.persona is Persona.HUMAN] == ["I had an accident"]
    assert stored.claim.get("incident_description") == "I had an accident"
    assert stored.turns and stored.turns[0].first_frame_out_ms is not None


async def test_a_barge_in_clears_twilios_buffer(stack: Stack, store: SqliteCallStore) -> None:
    call = await new_call(store)
    async with twilio_call(stack, call) as phone:
        await until(lambda: len(phone.events("media")) > 10)  # the greeting is playing
        await phone.speak(tone(500), realtime=True)
        await until(lambda: bool(phone.events("clear")))
        assert phone.events("clear")[0] == {"event": "clear", "streamSid": SID}
        session = stack.app.state.host.sessions[call.call_id]
        assert session.stats.barge_ins == 1 and not session.playback.playing


async def close_of(stack: Stack, *messages: str | bytes) -> tuple[int | None, str]:
    async with websockets.connect(url(stack), close_timeout=1, max_size=None) as socket:
        for message in messages:
            await socket.send(message)
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(socket.recv(), 5)
        return socket.close_code, socket.close_reason or ""


async def test_refusals_have_close_codes_and_reasons(stack: Stack, store: SqliteCallStore) -> None:
    live = await new_call(store)
    finished = await new_call(store, state=CallState.DISCONNECTED)
    connected = json.dumps(CONNECTED)
    good = twilio_stream_parameters(live)
    assert await close_of(stack, connected, "not json") == (4400, "not a JSON message")
    assert await close_of(stack, connected, json.dumps(CONNECTED)) == (
        4400,
        "expected the stream's start event",
    )
    assert await close_of(stack, start_event({})) == (4400, "customParameters.callId is not a call id")
    assert await close_of(stack, start_event({**good, "token": "wrong"})) == (
        CLOSE_UNAUTHORIZED,
        "unauthorized",
    )
    no_token = {k: v for k, v in good.items() if k != "token"}
    assert await close_of(stack, start_event(no_token)) == (CLOSE_UNAUTHORIZED, "unauthorized")
    unknown = {**good, "callId": str(uuid4())}
    assert await close_of(stack, start_event(unknown)) == (CLOSE_UNAUTHORIZED, "unauthorized")
    assert (await close_of(stack, start_event(twilio_stream_parameters(finished))))[0] == CLOSE_FINISHED
    alaw = start_event(good, {"encoding": "audio/x-alaw", "sampleRate": 8000, "channels": 1})
    code, reason = await close_of(stack, alaw)
    assert code == 4400 and "audio/x-mulaw" in reason
    assert (await close_of(stack, "x" * (1024 * 1024 + 1)))[0] == CLOSE_TOO_BIG
    assert not stack.app.state.host.sessions  # no refused socket ever got a session


async def test_a_socket_without_a_start_event_is_closed(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(media_app, "TWILIO_START_WAIT_SEC", 0.3)
    assert await close_of(stack, json.dumps(CONNECTED)) == (4400, "no start event within 0.3 s")


async def test_bad_frames_in_a_call_are_dropped_and_the_call_goes_on(
    stack: Stack, store: SqliteCallStore
) -> None:
    call = await new_call(store)
    stack.stt.texts.append("I had an accident")
    async with twilio_call(stack, call) as phone:
        host = stack.app.state.host
        await until(lambda: call.call_id in host.sessions and host.sessions[call.call_id].idle)
        for bad in ("not json", "[]", '{"event":"media","media":{"payload":"@@"}}', '{"event":"mark"}'):
            await phone.socket.send(bad)
        await phone.send({"event": "dtmf", "dtmf": {"track": "inbound_track", "digit": "x"}})
        session = host.sessions[call.call_id]
        await until(lambda: session.stats.dropped == 5)
        await phone.speak(tone(600) + silence(700), realtime=False)
        await until(lambda: session.stats.turns == 1 and session.idle)
        assert phone.socket.close_code is None
    stored = await store.get(call.call_id)
    assert stored is not None and stored.claim.get("incident_description") == "I had an accident"
