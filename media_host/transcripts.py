"""The caller's words in the turn in progress: one transcription per segment the turn detector cut, and
the speculative one started at the last pause, reused for the segment cut at that same pause when
nothing was said since. Every transcription is a task of the call's task owner; a failed one is an
empty transcript (logged), so a turn never fails on it."""

from __future__ import annotations

import asyncio
import logging

from media_host.tasks import TaskOwner
from shared.conversation.context import CallContext
from shared.speech.base import SpeechError, SpeechToText

log = logging.getLogger(__name__)


class TurnTranscripts:
    def __init__(self, ctx: CallContext, stt: SpeechToText, tasks: TaskOwner) -> None:
        self._ctx = ctx
        self._stt = stt
        self._tasks = tasks
        self.segments: list[asyncio.Task[str]] = []  # the turn's cut segments, in order
        self._pause: tuple[int, asyncio.Task[str]] | None = None  # the last pause's speculative one

    def paused(self, number: int, pcm: bytes) -> list[asyncio.Task[str]]:
        """The caller paused (pause `number`, the audio since the last cut): its transcription starts.
        Returns the transcripts of the turn so far, this one last."""
        if self._pause is not None:
            self._pause[1].cancel()  # the caller went on: that transcript is stale
        self._pause = (number, self._tasks.start(self._transcribe(pcm), "pause-stt"))
        return [*self.segments, self._pause[1]]

    def cut(self, pcm: bytes, pause: int | None) -> None:
        """A segment was cut (at `pause`, when that pause was offered): the pause's transcript when it was
        the same speech, a new transcription otherwise."""
        if self._pause is not None and self._pause[0] == pause:
            task, self._pause = self._pause[1], None
        else:
            task = self._tasks.start(self._transcribe(pcm), "stt")
        self.segments.append(task)

    def take(self) -> list[asyncio.Task[str]]:
        """The turn ended: its segments' transcripts (the next turn starts with none)."""
        segments, self.segments = self.segments, []
        return segments

    def carry(self, segments: list[asyncio.Task[str]]) -> None:
        """A continuation: the previous turn's transcripts open this one."""
        self.segments = segments

    def clear(self) -> None:
        self.segments.clear()

    def interim(self) -> str:
        """What the caller said so far in the turn in progress, as transcribed yet (the cut segments and
        the last pause's speculative transcript), for a live display such as the local softphone."""
        tasks = [*self.segments, *([self._pause[1]] if self._pause is not None else [])]
        texts = [t.result() for t in tasks if t.done() and not t.cancelled() and t.exception() is None]
        return " ".join(text.strip() for text in texts if text.strip())

    async def _transcribe(self, pcm: bytes) -> str:
        try:
            return (await self._stt.transcribe(pcm, lang=self._ctx.lang)).text
        except SpeechError as exc:
            log.warning("call %s: transcription failed: %s", self._ctx.call.call_id, exc)
            return ""
