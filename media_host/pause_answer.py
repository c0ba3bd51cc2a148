"""The answer opened at the caller's last pause (one per call): started once the pause's speculative
transcript is in, dropped when the caller speaks again or pauses anew, taken by the turn when it ends.

The conversation decides whether the turn keeps it (the same words, the same request: see
shared/conversation/speculation.py); here it is only started, dropped or handed over, with its task
owned by the call's task owner. Once its first words are known (the first clause or sentence the turn
would say), the bot's voice synthesises them ahead, so a turn that keeps the answer plays at once.
"""

from __future__ import annotations

import asyncio
import logging

from media_host.tasks import TaskOwner
from media_host.voice import BotVoice
from shared.conversation.engine import Conversation
from shared.conversation.speculation import Speculation

log = logging.getLogger(__name__)


class PauseAnswer:
    def __init__(self, conversation: Conversation, tasks: TaskOwner, voice: BotVoice) -> None:
        self._conversation = conversation
        self._tasks = tasks
        self._voice = voice
        self._opening: asyncio.Task[Speculation | None] | None = None
        self._words: asyncio.Task[None] | None = None  # waits for the first words, to say them ahead

    def start(self, transcripts: list[asyncio.Task[str]]) -> None:
        """Answer what the caller said up to this pause (the transcripts of the turn so far)."""
        self.drop()
        if self._conversation.speculates:  # not with the form agent: nothing to start
            self._opening = self._tasks.start(self._open(transcripts), "speculation")

    async def _open(self, transcripts: list[asyncio.Task[str]]) -> Speculation | None:
        texts = await asyncio.gather(*map(asyncio.shield, transcripts))
        try:
            speculation = await self._conversation.speculate(" ".join(t.strip() for t in texts if t.strip()))
        except Exception as exc:  # the turn answers without it
            log.warning("call %s: no speculative answer: %r", self._conversation.ctx.call.call_id, exc)
            return None
        if speculation is not None:
            self._words = self._tasks.start(self._say_ahead(speculation), "speculation-words")
        return speculation

    async def _say_ahead(self, speculation: Speculation) -> None:
        words = await speculation.opening_words()
        if words:
            self._voice.prepare(words, self._tasks)

    def drop(self) -> None:
        """The caller went on: the answer is dropped, or never opens."""
        task, self._opening = self._opening, None
        if task is not None:
            task.cancel()
            task.add_done_callback(_cancel)
        words, self._words = self._words, None
        if words is not None:
            words.cancel()
            self._voice.unprepare()

    async def take(self) -> Speculation | None:
        """The answer opened at the last pause, once it is open (None when there is none)."""
        task, self._opening = self._opening, None
        if task is None:
            return None
        try:
            await asyncio.wait({task})
        except asyncio.CancelledError:  # the turn was cancelled meanwhile: so is its answer
            task.add_done_callback(_cancel)
            raise
        return None if task.cancelled() or task.exception() is not None else task.result()


def _cancel(task: asyncio.Task[Speculation | None]) -> None:
    if not task.cancelled() and task.exception() is None and (speculation := task.result()) is not None:
        speculation.cancel()
