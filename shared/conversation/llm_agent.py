"""The LLM agent: one caller turn = stream a completion with tools, speak each sentence as soon as it is
complete, run the tool calls, feed their results back, and stream again (bounded rounds).

Timeouts and fallbacks come from the flags: past `answer_soft_timeout_sec` with nothing said, a
"still working" phrase; past `answer_hard_timeout_sec` without a new token, or on any model failure
(a broken stream included), the next model is tried (`FallbackChatModel`, which also skips a model
that failed recently); when every model failed, `AllModelsFailed` lets the conversation hand the
call to the form-filling agent. A flag set to 0 disables that timeout.

Cancellation (barge-in) is safe at any await: the assistant message stored for the turn holds only
the sentences whose `speak` completed, that is, what the caller heard.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field

from shared.conversation.context import CallContext
from shared.conversation.retrieval import turn_documents
from shared.conversation.speculation import Speculation
from shared.conversation.timing import TurnTiming
from shared.conversation.tools import Speak, run_tool, tool_definitions
from shared.llm.client import (
    ChatEvent,
    ChatModel,
    ContentFiltered,
    Finished,
    ModelFailure,
    TextDelta,
    ToolCallDelta,
)
from shared.llm.fallback import FallbackChatModel, NoModelAvailable, Served
from shared.llm.history import DEFAULT_HISTORY_BUDGET_TOKENS, build_chat
from shared.llm.sentences import FIRST_CLAUSE_WORDS, SentenceSplitter, clean_for_speech
from shared.models import Call, Message, Persona, ToolCall
from shared.telemetry import names, record

log = logging.getLogger(__name__)

MAX_TOOL_ROUNDS = 4


class AllModelsFailed(RuntimeError):
    """No model could answer this turn."""


@dataclass
class _Round:
    """What one streamed completion produced."""

    spoken: list[str] = field(default_factory=list)
    calls: dict[int, dict[str, str]] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return " ".join(self.spoken)


_END = object()


class LlmAgent:
    """Stateless across calls: everything per call lives in the CallContext it is given."""

    def __init__(
        self,
        models: Sequence[ChatModel] | FallbackChatModel,
        *,
        history_budget_tokens: int = DEFAULT_HISTORY_BUDGET_TOKENS,
        max_rounds: int = MAX_TOOL_ROUNDS,
    ) -> None:
        """`models`: the process's FallbackChatModel (shared memory of failed models), or a list."""
        if not isinstance(models, FallbackChatModel) and not models:
            raise ValueError("the LLM agent needs at least one model")
        self._chat = models if isinstance(models, FallbackChatModel) else FallbackChatModel(models)
        self._budget = history_budget_tokens
        self._max_rounds = max_rounds

    def _model_order(self, ctx: CallContext) -> FallbackChatModel:
        return self._chat.reordered(reverse=ctx.flags.slow_llm_for_chat)

    async def speculate(self, ctx: CallContext, text: str) -> Speculation:
        """Open the first round of the answer to `text` as if the caller had said it (not stored): its
        events are held until a turn takes it over (see shared/conversation/speculation.py)."""
        said = ctx.call.model_copy(update={"messages": [*ctx.call.messages, caller_message(ctx, text)]})
        view = dataclasses.replace(ctx, call=said)  # read only: nothing is stored nor applied
        documents = await turn_documents(view)
        chat = self._request(view, documents)
        served = Served()
        hard = ctx.flags.answer_hard_timeout_sec or None
        events = self._model_order(ctx).open(chat, tool_definitions(), idle_timeout_sec=hard, served=served)
        return Speculation(text, chat, events, documents=documents, served=served)

    def _request(self, ctx: CallContext, documents: str) -> list[dict[str, object]]:
        return build_chat(
            ctx.ports.prompts.system_prompt(ctx.placeholders()) + documents,
            ctx.call.messages,
            budget_tokens=self._budget,
        )

    async def respond(
        self,
        ctx: CallContext,
        speak: Speak,
        timing: TurnTiming | None = None,
        speculation: Speculation | None = None,
    ) -> None:
        """Answer the caller's last message (already in `ctx.call.messages`). A speculation on the
        same words and the same request is taken over as the first round; any other is discarded."""
        try:
            await self._respond(ctx, speak, timing, speculation)
        finally:
            if speculation is not None:
                await speculation.discard()

    async def _respond(
        self, ctx: CallContext, speak: Speak, timing: TurnTiming | None, speculation: Speculation | None
    ) -> None:
        timing = timing or TurnTiming()
        heard: list[str] = []
        filler = _Filler(ctx, speak, timing)

        async def speak_and_track(sentence: str) -> None:
            if timing.first_sentence is None:
                timing.first_sentence = time.monotonic()
            await speak(sentence)
            heard.append(sentence)

        models = self._model_order(ctx)
        skip: set[str] = set()  # models that gave an unusable answer this turn
        if speculation is not None and speculation.text != _last_caller_words(ctx):
            await speculation.discard()
            speculation = None
        # what the company's documents say about the caller's words
        documents = speculation.documents if speculation is not None else await turn_documents(ctx)
        try:
            for _ in range(self._max_rounds):
                result = await self._round_with_fallback(
                    ctx,
                    models,
                    skip,
                    speak=speak_and_track,
                    filler=filler,
                    timing=timing,
                    documents=documents,
                    speculation=speculation,
                )
                speculation = None  # the first round only
                if not result.calls:
                    await self._store_text(ctx, heard)
                    return
                await self._run_tools(ctx, result, heard, speak_and_track)
                heard.clear()
                if ctx.outcome.hang_up or ctx.outcome.transferred:
                    return
            await self._store_text(ctx, heard)
        except ContentFiltered as exc:
            log.info("content filtered for call %s: %s", ctx.call.call_id, exc)
            await self._drop_last_utterance(ctx)
            heard.clear()
            await speak_and_track(ctx.phrase("content_filter"))
            await self._store_text(ctx, heard)
        except asyncio.CancelledError:
            await self._store_text(ctx, heard)  # barge-in: keep what the caller heard
            raise

    async def _round_with_fallback(
        self,
        ctx: CallContext,
        models: FallbackChatModel,
        skip: set[str],
        *,
        speak: Speak,
        filler: _Filler,
        timing: TurnTiming,
        documents: str = "",
        speculation: Speculation | None = None,
    ) -> _Round:
        for attempt, _ in enumerate(models.models):
            chat = self._request(ctx, documents)
            taken = None
            if speculation is not None:  # taken over when it asked the model the same, else dropped
                words = _last_caller_words(ctx) or ""
                taken = speculation if speculation.matches(words, chat) else None
                if taken is None:
                    await speculation.discard()
                speculation = None
            result, served = _Round(), (taken.served if taken is not None else Served())
            try:
                with record.llm_round(attempt) as span:
                    await self._stream(
                        ctx,
                        models,
                        chat,
                        result=result,
                        speak=speak,
                        filler=filler,
                        timing=timing,
                        served=served,
                        skip=skip,
                        speculation=taken,
                    )
                    span.set_attribute(names.ATTR_MODEL, served.model or "")
                if not result.calls and not result.spoken:
                    raise ModelFailure(f"{served.model}: nothing to say")
                return result
            except NoModelAvailable as exc:
                raise AllModelsFailed(str(exc)) from exc
            except ModelFailure as exc:
                if result.spoken:  # the caller already heard part of it: keep it, don't repeat
                    log.warning("model %s failed mid-answer: %s", served.model, exc)
                    result.calls.clear()
                    return result
                log.warning("model %s failed, trying the next one: %s", served.model, exc)
                skip.add(served.model or "")
        raise AllModelsFailed("every configured model failed this turn")

    async def _stream(
        self,
        ctx: CallContext,
        models: FallbackChatModel,
        chat: list[dict[str, object]],
        *,
        result: _Round,
        speak: Speak,
        filler: _Filler,
        timing: TurnTiming,
        served: Served,
        skip: set[str],
        speculation: Speculation | None = None,
    ) -> None:
        # the turn's first audio may be the first clause of a long first sentence
        splitter = SentenceSplitter(
            first_clause_words=FIRST_CLAUSE_WORDS if timing.first_sentence is None else 0
        )
        hard = ctx.flags.answer_hard_timeout_sec or None
        stream = (
            speculation.take()
            if speculation is not None
            else models.open(chat, tool_definitions(), idle_timeout_sec=hard, skip=skip, served=served)
        )
        async with aclosing(_with_deadlines(stream, filler)) as events:
            async for event in events:
                if timing.first_token is None:
                    timing.first_token = time.monotonic()
                if isinstance(event, TextDelta):
                    for sentence in splitter.feed(event.text):
                        await _say(sentence, speak, result)
                elif isinstance(event, ToolCallDelta):
                    slot = result.calls.setdefault(event.index, {"id": "", "name": "", "arguments": ""})
                    slot["id"] = slot["id"] or (event.id or "")
                    slot["name"] = slot["name"] or (event.name or "")
                    slot["arguments"] += event.arguments
                elif isinstance(event, Finished):
                    break
        for sentence in splitter.flush():
            await _say(sentence, speak, result)
        for index, call in result.calls.items():
            if not call["name"]:
                raise ModelFailure(f"{served.model}: tool call {index} without a name")
            try:
                json.loads(call["arguments"] or "{}")
            except ValueError as exc:
                raise ModelFailure(f"{served.model}: malformed arguments for {call['name']}: {exc}") from exc
            call["id"] = call["id"] or f"call_{uuid.uuid4().hex[:12]}"

    async def _run_tools(self, ctx: CallContext, result: _Round, heard: list[str], speak: Speak) -> None:
        tool_calls: list[ToolCall] = []
        try:
            for index in sorted(result.calls):
                call = result.calls[index]
                outcome = await run_tool(ctx, call["name"], call["arguments"], speak)
                tool_calls.append(
                    ToolCall(
                        id=call["id"], name=call["name"], arguments=call["arguments"], result=outcome.content
                    )
                )
                if ctx.outcome.hang_up or ctx.outcome.transferred:
                    break
        finally:
            if tool_calls or heard:
                await ctx.add_message(
                    Message(persona=Persona.ASSISTANT, content=" ".join(heard), tool_calls=tool_calls)
                )

    async def _store_text(self, ctx: CallContext, heard: list[str]) -> None:
        if heard:
            await ctx.add_message(Message(persona=Persona.ASSISTANT, content=" ".join(heard)))
            heard.clear()

    async def _drop_last_utterance(self, ctx: CallContext) -> None:
        def _drop(call: Call) -> None:
            for index in range(len(call.messages) - 1, -1, -1):
                if call.messages[index].persona is Persona.HUMAN:
                    del call.messages[index]
                    return

        await ctx.save(_drop)


async def _say(sentence: str, speak: Speak, result: _Round) -> None:
    text = clean_for_speech(sentence)
    if text:
        await speak(text)
        result.spoken.append(text)


class _Filler:
    """Says one "still working" phrase per turn when nothing was said within the soft timeout."""

    def __init__(self, ctx: CallContext, speak: Speak, timing: TurnTiming) -> None:
        self._ctx, self._speak, self._timing = ctx, speak, timing
        self.said = False

    def remaining(self) -> float | None:
        soft = self._ctx.flags.answer_soft_timeout_sec
        if self.said or not soft or self._timing.first_sentence is not None:
            return None
        return max(0.0, soft - (time.monotonic() - self._timing.started))

    async def say(self) -> None:
        self.said = True
        await self._speak(self._ctx.phrase("still_working"))


async def _with_deadlines(
    events: AsyncIterator[ChatEvent], filler: _Filler
) -> AsyncGenerator[ChatEvent, None]:
    """Relay the model's events from a pump task, saying the filler when the soft timeout passes (the
    hard timeout is the fallback model's idle timeout: a silent model is a failed one)."""
    queue: asyncio.Queue[object] = asyncio.Queue()

    async def pump() -> None:
        try:
            async for event in events:
                await queue.put(event)
        except Exception as exc:  # handed to the consumer, which raises it in the agent's task
            await queue.put(exc)
        finally:
            await queue.put(_END)

    task = asyncio.create_task(pump())
    try:
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), filler.remaining())
            except TimeoutError:
                await filler.say()
                continue
            if item is _END:
                return
            if isinstance(item, Exception):
                raise item
            yield item  # type: ignore[misc]  # the queue holds events, exceptions and the end mark
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def caller_message(ctx: CallContext, text: str) -> Message:
    """What the caller said, as the conversation stores it."""
    return Message(persona=Persona.HUMAN, content=text, lang_short_code=ctx.lang)


def _last_caller_words(ctx: CallContext) -> str | None:
    last = ctx.call.messages[-1] if ctx.call.messages else None
    return last.content if last is not None and last.persona is Persona.HUMAN else None
