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
from media_host.tasks import TaskOwner
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
        self._prepared: tuple[str, tuple[str, str | None, float], asyncio.Task[bytes]] | None = None

    async def say(self, sentence: str, marks: TurnMarks | None = None) -> None:
        """Synthesize and queue one sentence; returns once the previous sentence has been played."""
        audio = await self._ahead(sentence)
        if audio is None:
            audio = await self._synthesis(sentence, marks)
        elif marks is not None and marks.tts is None:
            marks.tts = self._clock()
        on_start = None
        if marks is not None and not marks.queued:
            marks.queued, on_start = True, marks.first_frame
        done = self.playback.enqueue(audio, on_start=on_start)
        self._heard.said(done, sentence)
        previous, self._previous_sentence = self._previous_sentence, done
        if previous is not None:
            await previous.wait()

    def _speech_key(self) -> tuple[str, str | None, float]:
        ctx = self._ctx
        voice = next(
            (lang.voice for lang in ctx.call.initiate.lang.availables if lang.short_code == ctx.lang), None
        )
        return ctx.lang, voice, ctx.call.voice_speed

    async def _synthesis(self, sentence: str, marks: TurnMarks | None = None) -> bytes:
        """The sentence's audio in the wire's format (`marks.tts` set at its first chunk)."""
        lang, voice, speed = self._speech_key()
        chunks: list[bytes] = []
        async for chunk in self._tts.synthesize(sentence, lang=lang, voice=voice, speed=speed):
            if marks is not None and marks.tts is None:
                marks.tts = self._clock()
            chunks.append(self._codec.to_wire(chunk))
        return b"".join(chunks)

    def prepare(self, sentence: str, tasks: TaskOwner) -> None:
        """Synthesize `sentence` ahead of time (the first words of an answer held at a pause): `say`
        uses that audio when it is asked the same words in the same voice. Replaces any earlier one."""
        self.unprepare()
        self._prepared = (sentence, self._speech_key(), tasks.start(self._synthesis(sentence), "tts-ahead"))

    def unprepare(self) -> None:
        """Drop the audio made ahead (the answer it was for was dropped)."""
        prepared, self._prepared = self._prepared, None
        if prepared is not None:
            prepared[2].cancel()

    async def _ahead(self, sentence: str) -> bytes | None:
        """The audio made ahead for `sentence`, if it was for these words in this voice and did not
        fail (waiting for it when it is still being made); it is used once."""
        prepared, self._prepared = self._prepared, None
        if prepared is None:
            return None
        words, key, task = prepared
        if words != sentence or key != self._speech_key():
            task.cancel()
            return None
        try:
            await asyncio.wait({task})
        except asyncio.CancelledError:
            task.cancel()
            raise
        return None if task.cancelled() or task.exception() is not None else task.result()

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
