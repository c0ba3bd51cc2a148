"""An answer started before the caller's turn has surely ended.

At the short pause where the media host takes a speculative transcript, the conversation opens the
model's first round on it (`LlmAgent.speculate`): the model's events are held here, nothing is said
and no tool runs. When the turn then ends with the same transcript and the same request, the turn
takes this round over (`take`): the held events are played and applied at once, and the model's time
to first token was paid during the pause. Otherwise (the caller went on, said something else, the
request changed) the round is discarded: its stream is closed, and nothing of it was said, stored or
applied. The speculation owns its one task (the pump) and cancels it when discarded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator
from typing import Any

from shared.llm.client import ChatEvent, Finished, TextDelta
from shared.llm.fallback import Served
from shared.llm.sentences import FIRST_CLAUSE_WORDS, SentenceSplitter, clean_for_speech

log = logging.getLogger(__name__)


class Speculation:
    def __init__(
        self,
        text: str,
        chat: list[dict[str, Any]],
        events: AsyncGenerator[ChatEvent, None],
        *,
        documents: str = "",
        served: Served | None = None,
    ) -> None:
        self.text = text  # the speculative transcript
        self.chat = chat  # the request of the round
        self.documents = documents  # what the company's documents said about the transcript
        self.served = served if served is not None else Served()  # the model serving the events
        self._held: list[ChatEvent | Exception] = []
        self._more = asyncio.Event()
        self._ended = False
        self._taken = False
        self._dropped = False
        self._pump = asyncio.get_running_loop().create_task(self._hold(events), name="speculation")

    @property
    def held(self) -> int:
        """Events held so far."""
        return len(self._held)

    def matches(self, text: str, chat: list[dict[str, Any]]) -> bool:
        """The turn ended with this transcript and asks the model the same."""
        return not (self._taken or self._dropped) and text == self.text and chat == self.chat

    async def _hold(self, events: AsyncGenerator[ChatEvent, None]) -> None:
        try:
            async with contextlib.aclosing(events) as stream:
                async for event in stream:
                    self._held.append(event)
                    self._more.set()
        except Exception as exc:  # handed to the turn that takes this round over
            self._held.append(exc)
        finally:
            self._ended = True
            self._more.set()

    async def opening_words(self) -> str | None:
        """What the turn would say first if it took this round over (the first clause or sentence,
        cleaned for speech, as the agent splits it), once the held events give it; None when the round
        ends, fails or calls a tool before saying anything. Nothing is consumed: `take` still has it all."""
        splitter = SentenceSplitter(first_clause_words=FIRST_CLAUSE_WORDS)
        index = 0
        while True:
            while index < len(self._held):
                item = self._held[index]
                index += 1
                if isinstance(item, Finished):
                    return next((w for w in map(clean_for_speech, splitter.flush()) if w), None)
                if not isinstance(item, TextDelta):  # a tool call or a failure comes first
                    return None
                for piece in splitter.feed(item.text):
                    if words := clean_for_speech(piece):
                        return words
            if self._dropped:
                return None
            if self._ended:
                return next((w for w in map(clean_for_speech, splitter.flush()) if w), None)
            self._more.clear()
            await self._more.wait()

    async def take(self) -> AsyncGenerator[ChatEvent, None]:
        """The round's events, held ones first (once; the turn's first round)."""
        self._taken = True
        log.info("speculative answer taken over (%d events held)", len(self._held))
        index = 0
        try:
            while True:
                if index < len(self._held):
                    item = self._held[index]
                    index += 1
                    if isinstance(item, Exception):
                        raise item
                    yield item
                elif self._ended:
                    return
                else:
                    self._more.clear()
                    await self._more.wait()
        finally:
            await self.discard()  # taken over and done, or given up: the stream is closed either way

    def cancel(self) -> None:
        """Drop the round at once (its stream is closed as its task ends): nothing of it was said,
        stored or applied."""
        if not self._taken and not self._dropped:
            self._dropped = True
            log.info("speculative answer dropped")
        if not self._pump.done():
            self._pump.cancel()

    async def discard(self) -> None:
        """Drop the round and wait until its stream is closed."""
        self.cancel()
        await asyncio.gather(self._pump, return_exceptions=True)
