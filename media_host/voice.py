"""The bot's voice on one call: each sentence synthesised, converted to the wire's format, queued on the
paced playback and remembered as said (trimmed to what was heard on a barge-in), with the turn's
first-audio marks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from media_host.codec import Codec
from media_host.heard import Cut, HeardLog, trim_unheard
from media_host.playback import Playback
from media_host.turn_timing import TurnMarks
from shared.conversation.context import CallContext
from shared.speech.base import TextToSpeech


class BotVoice:
    def __init__(
        self,
        ctx: CallContext,
        tts: TextToSpeech,
        codec: Codec,
        send: Callable[[str], Awaitable[None]],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ctx = ctx
        self._tts = tts
        self._codec = codec
        self._clock = clock
        self.playback = Playback(send, codec)
        self._heard = HeardLog()  # the current answer's sentences, trimmed to what was heard on a barge-in
        self._previous_sentence: asyncio.Event | None = None

    async def say(self, sentence: str, marks: TurnMarks | None = None) -> None:
        """Synthesize and queue one sentence; returns once the previous sentence has been played."""
        ctx = self._ctx
        voice = next(
            (lang.voice for lang in ctx.call.initiate.lang.availables if lang.short_code == ctx.lang), None
        )
        chunks: list[bytes] = []
        speech = self._tts.synthesize(sentence, lang=ctx.lang, voice=voice, speed=ctx.call.voice_speed)
        async for chunk in speech:
            if marks is not None and marks.tts is None:
                marks.tts = self._clock()
            chunks.append(self._codec.to_wire(chunk))
        on_start = None
        if marks is not None and not marks.queued:
            marks.queued, on_start = True, marks.first_frame
        done = self.playback.enqueue(b"".join(chunks), on_start=on_start)
        self._heard.said(done, sentence)
        previous, self._previous_sentence = self._previous_sentence, done
        if previous is not None:
            await previous.wait()

    def new_answer(self) -> None:
        """What follows is another answer: the sentences said so far are no longer trimmed."""
        self._heard.clear()

    def cuts(self) -> list[Cut]:
        """After a stop: what of the current answer was not heard."""
        return self._heard.cuts(self.playback)

    async def keep_only_heard(self) -> None:
        """After a stop: the stored answer is trimmed to what the caller heard of it."""
        cuts = self.cuts()
        if cuts:
            await self._ctx.save(lambda call: trim_unheard(call, cuts))

    async def heard(self) -> None:
        """Once every sentence queued was sent and had time to play."""
        if self._previous_sentence is not None:
            await self._previous_sentence.wait()
        await self.playback.wait_heard()
