"""One conversation per call: greets, takes each caller utterance, and routes it to the agent in charge.

The LLM agent leads when a model is configured; the form-filling agent leads otherwise, and takes over
for the rest of the call when every model fails (the call records it).
"""

from __future__ import annotations

import logging

from shared.composition import Services
from shared.conversation.context import CallContext, ConversationPorts
from shared.conversation.form_agent import FormAgent
from shared.conversation.llm_agent import AllModelsFailed, LlmAgent, caller_message
from shared.conversation.retrieval import retrieval_policy
from shared.conversation.speculation import Speculation
from shared.conversation.timing import TurnTiming
from shared.conversation.tools import Speak, run_tool
from shared.conversation.wording import field_label, spoken_purpose
from shared.llm.client import ModelFailure
from shared.models import AgentKind, Call, CallDirection, Message, Persona
from shared.telemetry import record
from shared.telephony.base import TelephonyError

log = logging.getLogger(__name__)


class Conversation:
    def __init__(self, ctx: CallContext, *, llm: LlmAgent | None, form: FormAgent | None = None) -> None:
        self.ctx = ctx
        self._llm = llm
        self._form = form or FormAgent()

    @property
    def ended(self) -> bool:
        return self.ctx.outcome.hang_up or self.ctx.outcome.transferred

    async def start(self, speak: Speak) -> None:
        """Greet the caller (or welcome them back) and decide which agent leads."""
        resumed = any(m.persona is Persona.HUMAN for m in self.ctx.call.messages)
        agent = self.ctx.call.agent or (AgentKind.LLM if self._llm else AgentKind.FORM)
        if agent is AgentKind.LLM and self._llm is None:
            agent = AgentKind.FORM

        def _set_agent(call: Call) -> None:
            call.agent = agent

        await self.ctx.save(_set_agent)
        await self._greet(self._greeting(resumed), speak)
        if resumed and agent is AgentKind.FORM:
            await self._form.resume(self.ctx, speak)
        elif agent is AgentKind.FORM and self.ctx.call.direction is CallDirection.OUTBOUND:
            await self._form.open(self.ctx, speak)  # the person called hears the first question at once

    def _greeting(self, resumed: bool) -> str:
        """Hello (or welcome back); an outbound call says who calls and why, from the call's task."""
        if resumed:
            return self.ctx.phrase("welcome_back")
        if self.ctx.call.direction is CallDirection.OUTBOUND:
            purpose = spoken_purpose(self.ctx.call.initiate.task, self.ctx.lang)
            if purpose is None:
                return self.ctx.phrase("hello_outbound_plain")
            return self.ctx.phrase("hello_outbound", purpose=purpose)
        return self.ctx.phrase("hello")

    async def _greet(self, greeting: str, speak: Speak) -> None:
        """Say the greeting and store it. A caller who cuts in heard only part of it: the media host
        trims the stored greeting to what was played (`media_host.heard`)."""
        await speak(greeting)
        await self.ctx.add_message(Message(persona=Persona.ASSISTANT, content=greeting))

    @property
    def speculates(self) -> bool:
        """Answers may be started before the turn ends (the LLM agent leads the call)."""
        return not self.ended and self.ctx.call.agent is AgentKind.LLM and self._llm is not None

    async def speculate(self, text: str) -> Speculation | None:
        """Start answering `text` before the caller's turn surely ended (the LLM agent only): nothing
        is said, stored or applied unless `respond` gets the same words and takes it over."""
        text = text.strip()
        if not text or not self.speculates or self._llm is None:
            return None
        return await self._llm.speculate(self.ctx, text)

    async def respond(
        self,
        text: str,
        speak: Speak,
        timing: TurnTiming | None = None,
        speculation: Speculation | None = None,
    ) -> None:
        """Store what the caller said, then let the agent in charge answer (taking over a speculation
        started on the same words; any other is dropped)."""
        try:
            await self._respond(text.strip(), speak, timing, speculation)
        finally:
            if speculation is not None:
                await speculation.discard()

    async def _respond(
        self, text: str, speak: Speak, timing: TurnTiming | None, speculation: Speculation | None
    ) -> None:
        if not text or self.ended:
            return
        await self.ctx.add_message(caller_message(self.ctx, text))
        if self.ctx.call.agent is AgentKind.LLM and self._llm is not None:
            try:
                await self._llm.respond(self.ctx, speak, timing, speculation)
                return
            except (AllModelsFailed, ModelFailure) as exc:
                log.warning(
                    "call %s: every LLM failed, the form agent takes over: %s", self.ctx.call.call_id, exc
                )
                await self._hand_over(str(exc))
        await self._form.respond(self.ctx, speak)

    async def are_you_there(self, speak: Speak) -> None:
        """The caller has been silent for a while: ask whether they are still there (kept as said)."""
        await self._say_kept(self.ctx.phrase("are_you_there"), speak)

    async def give_up(self, speak: Speak) -> None:
        """No answer after the silence prompts: say goodbye (kept as it is said) and hang up."""

        async def say_kept(text: str) -> None:
            await self._say_kept(text, speak)

        await run_tool(self.ctx, "end_call", "{}", say_kept)

    async def _say_kept(self, text: str, speak: Speak) -> None:
        await speak(text)
        await self.ctx.add_message(Message(persona=Persona.ASSISTANT, content=text))

    async def say_farewell(self, text: str, speak: Speak) -> None:
        """Say the words the function app left for this live call (a failed transfer's apology), keep
        them as heard, and hang up."""
        await speak(text)
        await self.ctx.heard()

        def _said(call: Call) -> None:
            call.messages.append(Message(persona=Persona.ASSISTANT, content=text))
            call.connection.farewell = None

        await self.ctx.save(_said)
        self.ctx.outcome.hang_up = True
        try:
            await self.ctx.ports.telephony.hang_up(self.ctx.call)
        except TelephonyError as exc:
            log.warning("call %s: hang up after the farewell: %s", self.ctx.call.call_id, exc)

    async def _hand_over(self, reason: str) -> None:
        record.fell_back("every model", "form")

        def _to_form(call: Call) -> None:
            call.agent = AgentKind.FORM
            call.agent_fallback_reason = reason

        await self.ctx.save(_to_form)


async def open_conversation(services: Services, call: Call) -> Conversation:
    """A conversation for one call, with this process's ports and the current flags."""
    ports = ConversationPorts(
        store=services.store,
        telephony=services.telephony,
        sms=services.sms,
        search=services.search,
        prompts=services.prompts,
        retrieval=retrieval_policy(services.settings.search),
        phrases=services.phrases,
    )
    ctx = CallContext(
        call=call, ports=ports, flags=await services.flags.get(), settings=services.settings.conversation
    )
    # the call's languages without a phrase list get theirs translated, and the claim's questions,
    # before the first line (waiting at most the translator's timeout; English meanwhile)
    languages = (lang.short_code for lang in call.initiate.lang.availables)
    labels = [label for f in call.initiate.claim if (label := field_label(f, "en-US"))]
    await services.phrases.prepare(call.current_lang, *languages, texts=labels)
    return Conversation(ctx, llm=LlmAgent(services.chat) if services.chat is not None else None)
