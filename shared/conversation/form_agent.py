"""The form-filling agent: the offline default and the LLM-outage fallback.

A directed dialog over the call's claim schema that uses everything the caller says, whenever they
say it: the answer to the greeting, several fields in one sentence, a field given before it is asked.
It asks for each missing field in the caller's words (the field's description or a humanised,
localised name, never the identifier), reads back what matters ("is that right?" for e-mails and phone
numbers), understands corrections that carry the new value, and handles repeat, human, goodbye,
call-me-back and a language switch. It acts only through the same tools as the LLM agent (`run_tool`)
and stores its turns the same way, so the rest of the system can't tell them apart.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field

from shared.claim.schema import ClaimField
from shared.conversation.context import CallContext
from shared.conversation.reading import Found, field_hint, read_utterance
from shared.conversation.retrieval import answer_from_documents
from shared.conversation.speakable import say_value
from shared.conversation.tools import Speak, ToolResult, run_tool
from shared.conversation.understanding import (
    Intent,
    detect_intents,
    extract_value,
    is_intent_only,
    is_name_field,
    requested_language,
)
from shared.conversation.wording import field_label
from shared.models import Call, Message, Persona, ReminderOwner, ToolCall

CALLBACK = "__callback__"
MAX_ATTEMPTS = 3
CONFIRMED_TYPES = frozenset({"email", "phone_number"})  # read back with "is that right?"
READ_BACK_TYPES = frozenset({"email", "phone_number", "datetime"})
_LEADING_NO = re.compile(r"(?i)^\s*(?:no+|nope|non|not quite|pas tout à fait|wait|attendez)\b[\s,.!:;-]*")


_SAYS_WHEN = re.compile(r"(?i)\b(?:date|time|when|day|quand|heure|jour)\b")
_CALLERS = frozenset({"caller", "customer", "client", "user", "full", "first", "last", "your", "name", "nom"})


def _is_callers(claim_field: ClaimField) -> bool:
    """A name field for the caller's own name ("caller_name", "full_name"), not a pet's or a company's."""
    words = re.split(r"[\W_]+", re.sub(r"(?<=[a-z])(?=[A-Z])", " ", claim_field.name).lower())
    return all(word in _CALLERS for word in words if word)


def _is_name_field(claim_field: ClaimField) -> bool:
    return claim_field.type == "text" and is_name_field(f"{claim_field.name} {claim_field.description or ''}")


@dataclass
class _Turn:
    """What the agent said and did during one turn, stored as one assistant message."""

    ctx: CallContext
    speak: Speak
    heard: list[str] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)

    async def say(self, text: str) -> None:
        await self.speak(text)
        self.heard.append(text)

    async def tool(self, name: str, arguments: dict[str, object]) -> ToolResult:
        raw = json.dumps(arguments, ensure_ascii=False)
        result = await run_tool(self.ctx, name, raw, self.say)
        self.tool_calls.append(
            ToolCall(id=f"form_{uuid.uuid4().hex[:12]}", name=name, arguments=raw, result=result.content)
        )
        return result

    async def store(self) -> None:
        if self.heard or self.tool_calls:
            await self.ctx.add_message(
                Message(persona=Persona.ASSISTANT, content=" ".join(self.heard), tool_calls=self.tool_calls)
            )
            self.heard, self.tool_calls = [], []


class FormAgent:
    """Stateless across calls: the dialog position lives in `ctx.form`."""

    async def respond(self, ctx: CallContext, speak: Speak) -> None:
        turn = _Turn(ctx, speak)
        try:
            await self._respond(ctx, turn, self._last_caller_text(ctx))
        finally:
            await turn.store()

    async def resume(self, ctx: CallContext, speak: Speak) -> None:
        """Back on a resumed call: go straight to the next missing field."""
        await self.open(ctx, speak)

    async def open(self, ctx: CallContext, speak: Speak) -> None:
        """The first question right after the greeting (an outbound call, a resumed one)."""
        turn = _Turn(ctx, speak)
        try:
            await self._ask_next(ctx, turn)
        finally:
            await turn.store()

    @staticmethod
    def _last_caller_text(ctx: CallContext) -> str:
        for message in reversed(ctx.call.messages):
            if message.persona is Persona.HUMAN:
                return message.content
        return ""

    async def _respond(self, ctx: CallContext, turn: _Turn, text: str) -> None:
        state = ctx.form
        expecting = state.asking is not None and state.asking != CALLBACK
        intents = detect_intents(text, expecting_value=expecting)
        said = detect_intents(text)  # yes / no, however they were said
        checking, state.last_noted = self._field(ctx, state.confirming or state.last_noted), None
        if Intent.GOODBYE in intents or (state.done and not state.confirming and Intent.NO in said):
            await turn.tool("end_call", {})
        elif Intent.HUMAN in intents:
            await self._transfer(ctx, turn)
        elif Intent.REPEAT in intents and state.last_prompt:
            await turn.say(state.last_prompt)
        elif Intent.SWITCH_LANGUAGE in intents and (lang := requested_language(text)):
            await turn.tool("speech_lang", {"lang": lang})
            await turn.say(ctx.phrase("form_language_switched"))
            await self._ask_next(ctx, turn)
        elif state.asking == CALLBACK or Intent.CALLBACK in intents:
            await self._callback(ctx, turn, text)
        elif checking is not None and Intent.NO in said and self._corrects(ctx, text, checking):
            await self._correct(ctx, turn, text, checking)
        elif state.confirming and Intent.YES in said and is_intent_only(text):
            state.confirming = None
            await turn.say(ctx.phrase("form_confirmed"))
            await self._ask_next(ctx, turn)
        elif await answer_from_documents(ctx, text, turn.say, turn.tool):  # a question the documents answer
            await (turn.say(state.last_prompt) if state.last_prompt else self._ask_next(ctx, turn))
        elif state.done and is_intent_only(text):
            await turn.say(ctx.phrase("form_still_done"))
        else:
            await self._capture(ctx, turn, text)

    def _fields(self, ctx: CallContext) -> list[ClaimField]:
        return list(ctx.call.initiate.claim)

    def _field(self, ctx: CallContext, name: str | None) -> ClaimField | None:
        return next((f for f in self._fields(ctx) if f.name == name), None)

    def _missing(self, ctx: CallContext, skipped: set[str] | None = None) -> list[ClaimField]:
        return [
            f
            for f in self._fields(ctx)
            if not ctx.call.claim.get(f.name) and f.name not in (skipped or set())
        ]

    def _value_in(self, ctx: CallContext, text: str, claim_field: ClaimField) -> str | None:
        return extract_value(
            str(claim_field.type), text, ctx.parse_context(), name_hint=field_hint(claim_field)
        )

    def _corrects(self, ctx: CallContext, text: str, target: ClaimField) -> bool:
        """ "No" to a value just read back: a correction when it carries another value, or when it is
        a plain "no, that's wrong" (to an "is that right?", any "no")."""
        value = self._value_in(ctx, _LEADING_NO.sub("", text), target)
        if value is not None:
            return value != ctx.call.claim.get(target.name)
        return ctx.form.confirming == target.name or is_intent_only(text)

    async def _capture(self, ctx: CallContext, turn: _Turn, text: str) -> None:
        state = ctx.form
        asked = self._field(ctx, state.asking)
        said = [m for m in ctx.call.messages if m.persona is Persona.HUMAN]
        opening = asked is None and len(said) <= 1  # the answer to the greeting (a taken-back turn is gone)
        found = read_utterance(
            text, self._fields(ctx), ctx.call.claim, ctx.parse_context(), asked=asked, opening=opening
        )
        saved = [item for item in found if await self._save(ctx, turn, item.field, item.value)]
        if saved:
            state.attempts = 0
            state.confirming = None
            await self._read_back(ctx, turn, saved)
            if state.confirming:  # the caller answers "is that right?" first, or goes on to the next field
                missing = self._missing(ctx)
                state.asking = missing[0].name if missing else None
                return
        elif asked is not None and text.strip():
            state.attempts += 1
            if state.attempts < MAX_ATTEMPTS:
                await turn.say(self._retry_prompt(ctx, asked))
                return
            await turn.say(ctx.phrase("form_skip"))
            state.attempts = 0
            await self._ask_next(ctx, turn, skip=asked.name)
            return
        elif state.done:
            await turn.say(ctx.phrase("form_still_done"))
            return
        await self._ask_next(ctx, turn)

    async def _save(self, ctx: CallContext, turn: _Turn, claim_field: ClaimField, value: str) -> bool:
        """Save one value through `updated_claim` (which validates it)."""
        update: dict[str, object] = {"updates": [{"field": claim_field.name, "value": value}]}
        return (await turn.tool("updated_claim", update)).ok

    def _spoken(self, ctx: CallContext, claim_field: ClaimField) -> str:
        value = ctx.call.claim.get(claim_field.name) or ""
        return say_value(claim_field.type, value, ctx.lang)

    async def _read_back(self, ctx: CallContext, turn: _Turn, saved: list[Found]) -> None:
        """Say back what matters: names, dates, e-mails and phone numbers; free text gets a thank you.
        An e-mail or a phone number waits for "is that right?"."""
        state = ctx.form
        order = [f.name for f in self._fields(ctx)]
        saved = sorted(saved, key=lambda item: order.index(item.field.name))
        spoken = [
            self._spoken(ctx, item.field)
            for item in saved
            if str(item.field.type) in READ_BACK_TYPES or _is_name_field(item.field)
        ]
        to_confirm = [item.field for item in saved if str(item.field.type) in CONFIRMED_TYPES]
        read_back = [
            i.field for i in saved if str(i.field.type) in READ_BACK_TYPES or _is_name_field(i.field)
        ]
        state.last_noted = (read_back or [saved[-1].field])[-1].name  # what a "no, ..." corrects
        if not spoken:
            if self._missing(ctx):  # else "thank you, I have everything I need" follows
                await turn.say(ctx.phrase("form_thanks"))
            return
        values = ctx.phrase("form_and").join(spoken)
        if to_confirm:
            state.confirming = state.last_noted = to_confirm[-1].name
            await turn.say(ctx.phrase("form_confirm", value=values))
        else:
            await turn.say(ctx.phrase("form_noted", value=values))

    async def _ask(self, ctx: CallContext, turn: _Turn, claim_field: ClaimField) -> None:
        """Ask for a field, remembering the exact words for "can you repeat?"."""
        ctx.form.last_prompt = self._question(ctx, claim_field)
        await turn.say(ctx.form.last_prompt)

    def _question(self, ctx: CallContext, claim_field: ClaimField) -> str:
        kind = str(claim_field.type)
        if _is_name_field(claim_field) and _is_callers(claim_field):
            return ctx.phrase("form_ask_name")
        if kind in CONFIRMED_TYPES:
            return ctx.phrase(f"form_ask_{kind}")
        label = field_label(claim_field, ctx.lang)
        english = field_label(claim_field, "en-US")
        if label is None and english is not None:  # a language without a phrase list: translated
            label = ctx.translated(english)
        if label is None:
            return ctx.phrase(f"form_ask_any_{'datetime' if kind == 'datetime' else 'text'}")
        if kind == "datetime" and not _SAYS_WHEN.search(label):
            return ctx.phrase("form_ask_datetime", label=label)
        return ctx.phrase("form_ask_text", label=label)

    def _retry_prompt(self, ctx: CallContext, claim_field: ClaimField) -> str:
        if claim_field.type == "email":
            return ctx.phrase("form_retry_email")
        return ctx.phrase("form_retry", question=self._question(ctx, claim_field))

    async def _ask_next(self, ctx: CallContext, turn: _Turn, *, skip: str | None = None) -> None:
        state = ctx.form
        missing = self._missing(ctx, {skip} if skip else None)  # a skipped field is not asked again now
        if missing:
            state.asking, state.done = missing[0].name, False
            await self._ask(ctx, turn, missing[0])
            return
        state.asking, state.done = None, True
        state.last_prompt = ctx.phrase("form_done")
        await turn.say(state.last_prompt)

    async def _correct(self, ctx: CallContext, turn: _Turn, text: str, target: ClaimField) -> None:
        """ "No, it's m dot lopez at example dot net": the new value, read back; a plain "no": ask again."""
        state = ctx.form
        value = self._value_in(ctx, _LEADING_NO.sub("", text), target)
        if value is not None and await self._save(ctx, turn, target, value):
            state.last_noted, state.attempts = target.name, 0
            state.confirming = target.name
            await turn.say(ctx.phrase("form_corrected_value", value=self._spoken(ctx, target)))
            return

        def _clear(call: Call) -> None:
            call.claim.pop(target.name, None)

        await ctx.save(_clear)
        state.asking, state.last_noted, state.confirming, state.done, state.attempts = (
            target.name,
            None,
            None,
            False,
            0,
        )
        question = self._question(ctx, target)
        state.last_prompt = question
        await turn.say(ctx.phrase("form_corrected", question=question))

    async def _callback(self, ctx: CallContext, turn: _Turn, text: str) -> None:
        state = ctx.form
        when = extract_value("datetime", text, ctx.parse_context())
        if when is None:
            state.asking = CALLBACK
            state.last_prompt = ctx.phrase("form_ask_callback_time")
            await turn.say(state.last_prompt)
            return
        result = await turn.tool(
            "new_or_updated_reminder",
            {
                "title": "Call the customer back",
                "description": f"The customer asked to be called back: {text.strip()}"[:2000],
                "due_date_time": when,
                "owner": ReminderOwner.ASSISTANT.value,
            },
        )
        state.asking = None
        if result.ok:
            await turn.say(ctx.phrase("form_callback_noted", when=say_value("datetime", when, ctx.lang)))
        await self._ask_next(ctx, turn)

    async def _transfer(self, ctx: CallContext, turn: _Turn) -> None:
        if not ctx.call.initiate.agent_phone_number:
            ctx.form.asking = CALLBACK
            ctx.form.last_prompt = ctx.phrase("form_no_agent")
            await turn.say(ctx.form.last_prompt)
            return
        await turn.tool("talk_to_human", {})
