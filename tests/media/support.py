"""Drive a CallSession over in-memory queues, as the phone would over the websocket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from local.speech_stubs import EnergyVad, ScriptedStt, ToneTts
from media_host.protocol import (
    OutboundAudio,
    StopAudio,
    encode_audio_data,
    encode_audio_metadata,
    parse_outbound,
)
from media_host.session import CallSession
from shared.conversation.engine import Conversation
from shared.speech.base import SpeechEngines

FRAME_MS = 20
FRAME_BYTES = 640


@dataclass
class Phone:
    """The caller's side of one session: what it sends, what it received (with arrival times)."""

    inbox: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    received: list[tuple[float, str]] = field(default_factory=list)

    async def send_from_bot(self, text: str) -> None:
        self.received.append((asyncio.get_running_loop().time(), text))

    async def messages(self) -> AsyncIterator[str]:
        while (message := await self.inbox.get()) is not None:
            yield message

    def metadata(self) -> None:
        self.inbox.put_nowait(encode_audio_metadata("sub-1"))

    async def stream(self, pcm: bytes, *, realtime: bool) -> None:
        """Send 20 ms frames (paced at real time when asked)."""
        for start in range(0, len(pcm), FRAME_BYTES):
            frame = pcm[start : start + FRAME_BYTES].ljust(FRAME_BYTES, b"\x00")
            self.inbox.put_nowait(encode_audio_data(frame, "2026-11-24T10:00:00Z", "4:+33612345678"))
            if realtime:
                await asyncio.sleep(FRAME_MS / 1000)
            elif start % (FRAME_BYTES * 25) == 0:
                await asyncio.sleep(0)

    def hang_up(self) -> None:
        self.inbox.put_nowait(None)

    def bot_audio_frames(self) -> list[float]:
        return [at for at, text in self.received if isinstance(parse_outbound(text), OutboundAudio)]

    def stops(self) -> list[float]:
        return [at for at, text in self.received if isinstance(parse_outbound(text), StopAudio)]

    def kinds(self) -> list[str]:
        return [json.loads(text)["Kind"] for _, text in self.received]


def stub_engines(texts: list[str]) -> tuple[SpeechEngines, ScriptedStt, ToneTts]:
    stt, tts = ScriptedStt(texts), ToneTts()
    return SpeechEngines(vad=EnergyVad(), stt=stt, tts=tts), stt, tts


async def wait_for(predicate: object, within: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():  # type: ignore[operator]
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def start_session(
    conversation: Conversation, engines: SpeechEngines
) -> tuple[CallSession, Phone, asyncio.Task[None]]:
    phone = Phone()
    session = CallSession(conversation, engines, phone.send_from_bot)
    phone.metadata()
    task = asyncio.create_task(session.run(phone.messages()))
    return session, phone, task
