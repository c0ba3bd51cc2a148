"""The form-filling agent: the offline default and the LLM-outage fallback.

A directed dialog over the call's claim schema: ask for each missing field, extract and validate the
value from what the caller said, say it back, and move on. It understands repeat, human, goodbye,
call-me-back, a language switch and "no, that's wrong". It acts only through the same tools as the LLM
agent (`run_tool`), and stores its turns the same way, so the rest of the system can't tell them apart.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

from shared.claim.schema import ClaimField
from shared.conversation.context import CallContext
from shared.conversation.speakable import say_value
from shared.conversation.tools import Speak, ToolResult, run_tool
from shared.conversation.understanding import Intent, detect_intents, extract_value, requested_language
from shared.models import Call, Message, Persona, ReminderOwner, ToolCall

CALLBACK = "__callback__"
MAX_ATTEMPTS = 3
NAME_HINTS = ("name", "nom")
DESCRIPTION_HINTS = ("description", "issue", "problem", "info", "details", "incident", "reason", "subject")


def _is_name_field(claim_field: ClaimField) -> bool:
    text = f"{claim_field.name} {claim_field.description or ''}".lower()
    return any(hint in text for hint in NAME_HINTS) and claim_field.type == "text"


def _label(claim_field: ClaimField) -> str:
    return claim_field.description or claim_field.name.replace("_", " ")


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
        if Intent.GOODBYE in intents or (state.done and Intent.NO in intents):
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
        elif (
            Intent.NO in intents and state.last_noted and self._value_in(ctx, text, state.last_noted) is None
        ):
            await self._correct(ctx, turn)
        elif state.done:
            await turn.say(ctx.phrase("form_done"))
        else:
            await self._capture(ctx, turn, text)

    def _fields(self, ctx: CallContext) -> list[ClaimField]:
        return list(ctx.call.initiate.claim)

    def _field(self, ctx: CallContext, name: str) -> ClaimField | None:
        return next((f for f in self._fields(ctx) if f.name == name), None)

    def _missing(self, ctx: CallContext, skipped: set[str] | None = None) -> list[ClaimField]:
        return [
            f
            for f in self._fields(ctx)
            if not ctx.call.claim.get(f.name) and f.name not in (skipped or set())
        ]

    def _value_in(self, ctx: CallContext, text: str, field_name: str) -> str | None:
        claim_field = self._field(ctx, field_name)
        if claim_field is None:
            return None
        hint = claim_field.name if not _is_name_field(claim_field) else f"{claim_field.name} name"
        return extract_value(str(claim_field.type), text, ctx.parse_context(), name_hint=hint)

    async def _capture(self, ctx: CallContext, turn: _Turn, text: str) -> None:
        state = ctx.form
        target = self._field(ctx, state.asking) if state.asking else self._opening_field(ctx)
        if (
            target is not None
            and state.asking is not None
            and _is_name_field(target)
            and await self._capture_elsewhere(ctx, turn, text, target.name)
        ):  # "it happened yesterday at 3 pm" is not a name: keep it where it belongs, ask again
            await self._ask(ctx, turn, target)
            return
        if target is not None and text.strip():
            value = text.strip() if state.asking is None else self._value_in(ctx, text, target.name)
            if value is not None and await self._save(
                ctx, turn, target, value, say_back=state.asking is not None
            ):
                state.last_noted, state.attempts = target.name, 0
            elif state.asking is not None and await self._capture_elsewhere(ctx, turn, text, target.name):
                await self._ask(ctx, turn, target)  # noted another field; ask this one again
                return
            elif state.asking is not None:
                state.attempts += 1
                if state.attempts < MAX_ATTEMPTS:
                    await turn.say(self._retry_prompt(ctx, target))
                    return
                await turn.say(ctx.phrase("form_skip"))
                state.attempts = 0
                await self._ask_next(ctx, turn, skip=target.name)
                return
        await self._ask_next(ctx, turn)

    async def _capture_elsewhere(self, ctx: CallContext, turn: _Turn, text: str, asked: str) -> bool:
        """The caller answered another field than the one asked (a phone number when asked for the
        e-mail): keep it. Only typed fields are tried (free text would match anything)."""
        for claim_field in self._missing(ctx, {asked}):
            if claim_field.type == "text":
                continue
            value = self._value_in(ctx, text, claim_field.name)
            if value is not None and await self._save(ctx, turn, claim_field, value, say_back=True):
                return True
        return False

    async def _save(
        self, ctx: CallContext, turn: _Turn, claim_field: ClaimField, value: str, *, say_back: bool
    ) -> bool:
        """Save one value through `updated_claim` (which validates it); say it back when asked to."""
        update: dict[str, object] = {"updates": [{"field": claim_field.name, "value": value}]}
        if not (await turn.tool("updated_claim", update)).ok:
            return False
        if say_back:
            spoken = say_value(claim_field.type, ctx.call.claim.get(claim_field.name) or value, ctx.lang)
            await turn.say(
                ctx.ports.prompts.phrase("form_noted", ctx.lang, {**ctx.placeholders(), "value": spoken})
            )
        return True

    async def _ask(self, ctx: CallContext, turn: _Turn, claim_field: ClaimField) -> None:
        """Ask for a field, remembering the exact words for "can you repeat?"."""
        ctx.form.last_prompt = self._question(ctx, claim_field)
        await turn.say(ctx.form.last_prompt)

    def _opening_field(self, ctx: CallContext) -> ClaimField | None:
        """The caller's first words describe their need: they fill an empty description-like text field."""
        for claim_field in self._missing(ctx):
            words = f"{claim_field.name} {claim_field.description or ''}".lower()
            if (
                claim_field.type == "text"
                and not _is_name_field(claim_field)
                and any(hint in words for hint in DESCRIPTION_HINTS)
            ):
                return claim_field
        return None

    def _question(self, ctx: CallContext, claim_field: ClaimField) -> str:
        kind = "name" if _is_name_field(claim_field) else str(claim_field.type)
        return ctx.ports.prompts.phrase(
            f"form_ask_{kind}", ctx.lang, {**ctx.placeholders(), "label": _label(claim_field)}
        )

    def _retry_prompt(self, ctx: CallContext, claim_field: ClaimField) -> str:
        if claim_field.type == "email":
            return ctx.phrase("form_retry_email")
        question = self._question(ctx, claim_field)
        return ctx.ports.prompts.phrase("form_retry", ctx.lang, {**ctx.placeholders(), "question": question})

    async def _ask_next(self, ctx: CallContext, turn: _Turn, *, skip: str | None = None) -> None:
        state = ctx.form
        missing = self._missing(ctx, {skip} if skip else None)  # a skipped field is not asked again now
        if missing:
            state.asking = missing[0].name
        else:
            state.asking, state.done = None, True
            state.last_prompt = ctx.phrase("form_done")
            await turn.say(state.last_prompt)
            return
        state.done = False
        await self._ask(ctx, turn, missing[0])

    async def _correct(self, ctx: CallContext, turn: _Turn) -> None:
        state = ctx.form
        target = self._field(ctx, state.last_noted or "")
        if target is None:
            await self._ask_next(ctx, turn)
            return

        def _clear(call: Call) -> None:
            call.claim.pop(target.name, None)

        await ctx.save(_clear)
        state.asking, state.last_noted, state.done, state.attempts = target.name, None, False, 0
        question = self._question(ctx, target)
        state.last_prompt = question
        await turn.say(
            ctx.ports.prompts.phrase("form_corrected", ctx.lang, {**ctx.placeholders(), "question": question})
        )

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
            await turn.say(
                ctx.ports.prompts.phrase(
                    "form_callback_noted",
                    ctx.lang,
                    {**ctx.placeholders(), "when": say_value("datetime", when, ctx.lang)},
                )
            )
        await self._ask_next(ctx, turn)

    async def _transfer(self, ctx: CallContext, turn: _Turn) -> None:
        if not ctx.call.initiate.agent_phone_number:
            ctx.form.asking = CALLBACK
            ctx.form.last_prompt = ctx.phrase("form_no_agent")
            await turn.say(ctx.form.last_prompt)
            return
        await turn.tool("talk_to_human", {})
