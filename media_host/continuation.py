"""A caller who goes on right after their turn ended: the continuation joins the same utterance.

When the caller starts speaking again within `vad_continuation_window_ms` of the end of their turn,
they were not done: the answer under way is stopped at once, everything the turn wrote into the
call is taken back (the caller's message, the premature answer, whatever its tools changed in the
claim, the reminders, the voice or the language, and the form dialog's place), and the transcripts
of the first part are carried into the utterance that continues, so both parts make one turn.

The history keeps what the caller heard of the premature answer: nothing when none of it reached
the phone, else its words as far as they played (`media_host.heard.heard_of`), without its tool
calls. They are stored once the whole utterance's turn is answered, right after the caller's
message, before the answer that is kept (which answers the whole utterance).

Tools whose effect cannot be taken back (hang up, transfer, texts) wait for the window to close
(`settled`, through `CallContext.heard`), so a continuation cancels them before they act.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from media_host.heard import Cut, heard_of
from shared.conversation.context import CallContext, FormState
from shared.models import Call, Message, MessageAction, Persona, Reminder


@dataclass(frozen=True)
class TurnSnapshot:
    """What a caller's turn may change in the call, as it was before the turn."""

    messages: int
    claim: dict[str, str | None]
    reminders: list[Reminder]
    voice_speed: float
    lang_short_code: str | None
    form: FormState

    @classmethod
    def take(cls, ctx: CallContext) -> TurnSnapshot:
        call = ctx.call
        return cls(
            messages=len(call.messages),
            claim=dict(call.claim),
            reminders=[reminder.model_copy(deep=True) for reminder in call.reminders],
            voice_speed=call.voice_speed,
            lang_short_code=call.lang_short_code,
            form=dataclasses.replace(ctx.form),
        )

    async def restore(self, ctx: CallContext) -> None:
        """Put the call back as it was (messages that arrived meanwhile from elsewhere, such as an
        inbound text, are kept)."""

        def _restore(call: Call) -> None:
            added = call.messages[self.messages :]
            call.messages = call.messages[: self.messages] + [
                message
                for message in added
                if message.persona is Persona.HUMAN and message.action is MessageAction.SMS
            ]
            call.claim = dict(self.claim)
            call.reminders = [reminder.model_copy(deep=True) for reminder in self.reminders]
            call.voice_speed = self.voice_speed
            call.lang_short_code = self.lang_short_code

        await ctx.save(_restore)
        ctx.form = dataclasses.replace(self.form)


class Continuation:
    """The last turn of one call, while a continuation may still join it."""

    def __init__(self, window_ms: float, clock: Callable[[], float]) -> None:
        self.window_sec = window_ms / 1000
        self._clock = clock
        self._ended_at: float | None = None
        self._segments: list[asyncio.Task[str]] = []
        self._snapshot: TurnSnapshot | None = None
        self._heard: list[str] = []  # what the caller heard of the answers taken back, not stored yet

    def turn_ended(self, at: float, segments: list[asyncio.Task[str]]) -> None:
        self._ended_at, self._segments, self._snapshot = at, list(segments), None

    def answering(self, ctx: CallContext) -> None:
        """The turn is about to be answered: remember what to take back."""
        self._snapshot = TurnSnapshot.take(ctx)

    def open(self, now: float) -> bool:
        """Speech starting now would continue the last turn."""
        return (
            bool(self.window_sec) and self._ended_at is not None and now - self._ended_at <= self.window_sec
        )

    async def take_back(self, ctx: CallContext, cuts: list[Cut]) -> list[asyncio.Task[str]]:
        """Undo the last turn (its answer must be stopped first; `cuts`: what the stop cut of it) and
        keep what the caller heard of its answer for the turn that follows; returns the transcripts
        of the caller's first part, for the utterance that goes on."""
        snapshot, segments = self._snapshot, self._segments
        self._ended_at, self._segments, self._snapshot = None, [], None
        if snapshot is not None:
            if heard := heard_of(ctx.call.messages[snapshot.messages :], cuts):
                self._heard.append(heard)
            await snapshot.restore(ctx)
        return segments

    async def keep_heard(self, ctx: CallContext, caller_words: str) -> None:
        """The turn of the whole utterance (`caller_words`) was answered: store what the caller heard
        of the answers taken back, right after the caller's message (at the end when it is not there)."""
        if not self._heard:
            return
        said = Message(persona=Persona.ASSISTANT, content=" ".join(self._heard))
        self._heard = []

        def _insert(call: Call) -> None:
            if any(m.created_at == said.created_at and m.content == said.content for m in call.messages):
                return  # already written (a save may apply a change twice when saves overlap)
            at = next(
                (
                    index + 1
                    for index in range(len(call.messages) - 1, -1, -1)
                    if call.messages[index].persona is Persona.HUMAN
                    and call.messages[index].action is MessageAction.TALK
                    and call.messages[index].content == caller_words
                ),
                len(call.messages),
            )
            call.messages.insert(at, said.model_copy(deep=True))

        await ctx.save(_insert)

    async def settled(self) -> None:
        """Return once no continuation can take the last turn back any more."""
        if self._ended_at is not None and (left := self._ended_at + self.window_sec - self._clock()) > 0:
            await asyncio.sleep(left)
