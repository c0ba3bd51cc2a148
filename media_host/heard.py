"""What the caller heard of the bot's answer when they cut in: the stored turn is trimmed to it.

An agent stores a sentence once it is queued for playback (its `speak` returned), which is before the
caller hears it. When a barge-in stops the bot, the sentences dropped from the queue were never heard
and the one playing was heard in part: the stored answer keeps only what reached the phone (a cut
sentence ends with "…"), so the history the next turn reads is what the caller actually heard. An
answer a continuation takes back is measured the same way (`heard_of`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from media_host.playback import Playback
from shared.models import Call, Message, MessageAction, Persona

Cut = tuple[str, str]  # (the sentence as stored, what the caller heard of it)


@dataclass
class HeardLog:
    """The sentences of the bot's current answer, with their playback events. One per call."""

    sentences: list[tuple[asyncio.Event, str]] = field(default_factory=list)

    def said(self, done: asyncio.Event, sentence: str) -> None:
        self.sentences.append((done, sentence))

    def clear(self) -> None:
        self.sentences.clear()

    def cuts(self, playback: Playback) -> list[Cut]:
        """The sentences the last stop cut or dropped, with what was heard of each (then forgets all)."""
        cuts: list[Cut] = []
        for done, sentence in self.sentences:
            share = playback.heard_share(done)
            if share is None or share >= 1.0:
                continue
            words = sentence.split()
            kept = " ".join(words[: int(len(words) * share)])
            cuts.append((sentence, f"{kept}…" if kept else ""))
        self.sentences.clear()
        return cuts


def _trim(messages: Sequence[Message], cuts: list[Cut]) -> None:
    """Replace each cut sentence in the latest assistant message holding it by what was heard of it."""
    for sentence, kept in cuts:
        for message in reversed(messages):
            if message.persona is Persona.ASSISTANT and sentence in message.content:
                message.content = " ".join(message.content.replace(sentence, kept, 1).split())
                break


def trim_unheard(call: Call, cuts: list[Cut]) -> None:
    """Replace each cut sentence in the latest assistant message holding it by what was heard of it;
    an answer left with nothing heard (and no tool call) is dropped."""
    _trim(call.messages, cuts)
    call.messages = [
        m
        for m in call.messages
        if m.content
        or m.tool_calls
        or m.persona is not Persona.ASSISTANT
        or m.action is not MessageAction.TALK
    ]


def heard_of(answer: Sequence[Message], cuts: list[Cut]) -> str:
    """What the caller heard of an answer that is taken back (the messages it stored; `cuts`: what the
    stop cut or dropped of it): the words of its sentences that reached the phone, a cut one as far as
    it played (with "…"); its tool calls are no part of it. Empty when nothing of it was heard."""
    said = [
        message.model_copy()
        for message in answer
        if message.persona is Persona.ASSISTANT and message.action is MessageAction.TALK
    ]
    _trim(said, cuts)
    return " ".join(message.content for message in said if message.content)
