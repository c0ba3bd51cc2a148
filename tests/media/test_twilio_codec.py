"""A second wire protocol behind the media seam: Twilio Media Streams (mu-law at 8 kHz), on golden
messages, against the reference G.711 encoder, and serving a whole call session."""

from __future__ import annotations

import asyncio
import base64
import json
import math
import struct
import warnings
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np

from local.speech_stubs import silence, tone
from media_host.codec import CallerAudio, KeyPressed
from media_host.session import CallSession
from media_host.twilio_codec import TwilioCodec, pcm_to_ulaw, ulaw_to_pcm
from shared.conversation.engine import Conversation
from shared.speech.audio import StreamResampler
from tests.conversation.support import make_harness
from tests.media.support import stub_engines, wait_for

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # the reference G.711 codec (removed in Python 3.13)

SID = "MZ18ad3ab5a668481ce02b83e7395059f0"
CONNECTED = '{"event":"connected","protocol":"Call","version":"1.0.0"}'
START = (
    '{"event":"start","sequenceNumber":"1","start":{"accountSid":"AC00000000000000000000000000000000",'
    f'"streamSid":"{SID}","callSid":"CA00000000000000000000000000000000","tracks":["inbound"],'
    '"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},"customParameters":{}},'
    f'"streamSid":"{SID}"}}'
)
DTMF = (
    f'{{"event":"dtmf","streamSid":"{SID}","sequenceNumber":"5",'
    '"dtmf":{"track":"inbound_track","digit":"2"}}'
)
MARK = f'{{"event":"mark","sequenceNumber":"4","streamSid":"{SID}","mark":{{"name":"greeting"}}}}'
STOP = f'{{"event":"stop","sequenceNumber":"9","streamSid":"{SID}","stop":{{"callSid":"CA0"}}}}'


def media(ulaw: bytes, chunk: int = 1) -> str:
    payload = base64.b64encode(ulaw).decode()
    body = {"track": "inbound", "chunk": str(chunk), "timestamp": str(20 * chunk), "payload": payload}
    return json.dumps({"event": "media", "sequenceNumber": str(chunk + 2), "media": body, "streamSid": SID})


def sine(rate: int, seconds: float, hz: float) -> bytes:
    count = int(rate * seconds)
    samples = (int(8000 * math.sin(2 * math.pi * hz * i / rate)) for i in range(count))
    return struct.pack(f"<{count}h", *samples)


def peak_hz(pcm: bytes, rate: int) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    return float(np.argmax(np.abs(np.fft.rfft(samples * np.hanning(len(samples))))) * rate / len(samples))


def test_mu_law_is_the_reference_g711() -> None:
    every_sample = np.arange(-32_768, 32_768, dtype="<i2").tobytes()
    assert pcm_to_ulaw(every_sample) == audioop.lin2ulaw(every_sample, 2)
    every_code = bytes(range(256))
    assert ulaw_to_pcm(every_code) == audioop.ulaw2lin(every_code, 2)


def test_the_golden_messages() -> None:
    codec = TwilioCodec()
    assert codec.decode(CONNECTED) is None
    assert codec.decode(START) is None and codec.stream_sid == SID
    assert codec.decode(DTMF) == KeyPressed("2")
    assert codec.decode(MARK) is None and codec.decode(STOP) is None
    assert codec.counts.marks == 1  # the phone answered a mark: its audio was played
    silent = codec.decode(media(b"\xff" * 160))  # 20 ms of mu-law silence
    assert isinstance(silent, CallerAudio) and not any(silent.pcm)
    frame = struct.pack("<160h", *range(-80 * 50, 80 * 50, 50))  # 20 ms of 8 kHz PCM16
    assert codec.frame_bytes == len(frame) == 320
    assert json.loads(codec.audio_message(frame)) == {
        "event": "media",
        "streamSid": SID,
        "media": {"payload": base64.b64encode(audioop.lin2ulaw(frame, 2)).decode()},
    }
    assert codec.stop_message() == f'{{"event":"clear","streamSid":"{SID}"}}'
    assert (
        codec.mark_message("audio-1") == f'{{"event":"mark","streamSid":"{SID}","mark":{{"name":"audio-1"}}}}'
    )
    assert (codec.counts.frames_in, codec.counts.dropped) == (1, 0)


def test_audio_round_trips_through_8_khz_mu_law() -> None:
    codec = TwilioCodec()
    codec.decode(START)
    caller = pcm_to_ulaw(sine(8_000, 1.0, 440.0))
    heard = b""
    for chunk, start in enumerate(range(0, len(caller), 160), 1):
        decoded = codec.decode(media(caller[start : start + 160], chunk))
        assert isinstance(decoded, CallerAudio)
        heard += decoded.pcm
    assert 0 <= 32_000 - len(heard) <= 3_200  # one second at 16 kHz, less what the filter holds
    assert abs(peak_hz(heard[3200:], 16_000) - 440) < 5

    bot = sine(16_000, 1.0, 1000.0)
    wire = b"".join(codec.to_wire(bot[start : start + 640]) for start in range(0, len(bot), 640))
    played = b"".join(
        ulaw_to_pcm(base64.b64decode(json.loads(codec.audio_message(wire[i : i + 320]))["media"]["payload"]))
        for i in range(0, len(wire) - len(wire) % 320, 320)
    )
    assert 0 <= 16_000 - len(played) <= 1_600  # one second at 8 kHz, less the filter and a partial frame
    assert abs(peak_hz(played[1600:], 8_000) - 1000) < 5


def test_bad_messages_are_dropped_and_counted() -> None:
    codec = TwilioCodec()
    alaw = START.replace("audio/x-mulaw", "audio/x-alaw")
    for message in (
        "not json",
        '{"event":"unknown"}',
        '{"event":"media","media":{"payload":"@@"}}',
        alaw,
        "[]",
    ):
        assert codec.decode(message) is None
    outbound = json.dumps({"event": "media", "media": {"track": "outbound", "payload": "/w=="}})
    assert codec.decode(outbound) is None  # the bot's own track: not the caller
    assert (codec.counts.frames_in, codec.counts.dropped) == (0, 5)


async def test_a_call_session_serves_a_twilio_stream(tmp_path: Path) -> None:
    harness = await make_harness(tmp_path)
    conversation = Conversation(harness.ctx, llm=None)
    engines, _stt, tts = stub_engines(["My name is John Smith"])
    received: list[str] = []

    async def send(text: str) -> None:
        received.append(text)

    inbox: asyncio.Queue[str | None] = asyncio.Queue()

    async def messages() -> AsyncIterator[str]:
        while (message := await inbox.get()) is not None:
            yield message

    session = CallSession(conversation, engines, send, codec=TwilioCodec(conversation.ctx.call.call_id))
    task = asyncio.create_task(session.run(messages()))
    inbox.put_nowait(CONNECTED)
    inbox.put_nowait(START)
    await wait_for(lambda: tts.sentences and session.idle)  # the greeting was said, as Twilio media
    sent = [json.loads(text) for text in received]
    greeting = [m for m in sent if m["event"] != "mark"]  # each sentence's audio is followed by a mark
    assert greeting and all(m == {"event": "media", "streamSid": SID, "media": m["media"]} for m in greeting)
    assert all(len(base64.b64decode(m["media"]["payload"])) == 160 for m in greeting)
    marks = [m for m in sent if m["event"] == "mark"]
    assert len(marks) == len(tts.sentences) and sent[-1] == marks[-1]
    assert all(m == {"event": "mark", "streamSid": SID, "mark": {"name": m["mark"]["name"]}} for m in marks)

    down = StreamResampler(16_000, 8_000)
    caller = pcm_to_ulaw(down.process(tone(600) + silence(700)))
    for chunk, start in enumerate(range(0, len(caller), 160), 1):
        inbox.put_nowait(media(caller[start : start + 160], chunk))
        if chunk % 25 == 0:
            await asyncio.sleep(0)
    await wait_for(lambda: session.stats.turns == 1 and session.idle)
    inbox.put_nowait(STOP)
    inbox.put_nowait(None)
    await task
    assert conversation.ctx.call.messages[1].content == "My name is John Smith"
    assert session.stats.dropped == 0 and session.stats.frames_in == -(-len(caller) // 160)
