"""Synthesis and next action written by a chat model, as JSON validated by pydantic.

The slow model is asked first, then the fast one, through the process's `FallbackChatModel` (a model
that failed recently, in a call or here, is skipped). An answer that is not a JSON object matching
`Synthesis` / `NextAction`, or any model failure, moves to the next model; when none answers usefully
the caller falls back to the deterministic versions (`synthesis.py`).
"""

from __future__ import annotations

import json
import logging
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from shared.llm.client import ContentFiltered, ModelFailure, TextDelta
from shared.llm.fallback import FallbackChatModel, NoModelAvailable, Served
from shared.models import Call, MessageAction, NextAction, NextActionKind, Persona, Satisfaction, Synthesis

log = logging.getLogger(__name__)

TRANSCRIPT_CHARS = 12_000
ModelT = TypeVar("ModelT", bound=BaseModel)

SYNTHESIS_INSTRUCTIONS = f"""You review a finished phone call between a company's assistant and a caller.
Answer with one JSON object only, no prose, with these keys:
- "short": one sentence summing up the call (at most 200 characters), for a text message to the caller;
- "long": a few sentences: what the caller needed, what was collected, what remains;
- "satisfaction": one of {", ".join(s.value for s in Satisfaction)}; "unknown" unless the caller's words
  make it clear;
- "improvement_suggestions": what the assistant could do better, or "".
Write in the language of the conversation ({{lang}})."""

NEXT_ACTION_INSTRUCTIONS = f"""You review a finished phone call between a company's assistant and a caller.
Decide what the company should do next. Answer with one JSON object only, no prose, with these keys:
- "action": one of {", ".join(a.value for a in NextActionKind)};
- "justification": one or two sentences explaining why, naming what is missing if anything.
Write in the language of the conversation ({{lang}})."""


def call_digest(call: Call) -> str:
    """The call as the model reads it: task, claim, reminders and the spoken/texted transcript."""
    lines = [f"Company: {call.initiate.bot_company}. Assistant's task: {call.initiate.task}"]
    lines.append("Claim: " + json.dumps(call.claim, ensure_ascii=False))
    for reminder in call.reminders:
        lines.append(
            f"Reminder ({reminder.owner.value}, due {reminder.due_date_time.isoformat()}): "
            f"{reminder.title}. {reminder.description}"
        )
    transcript: list[str] = []
    for message in call.messages:
        if message.persona is Persona.TOOL or not message.content.strip():
            continue
        who = "Caller" if message.persona is Persona.HUMAN else "Assistant"
        how = {MessageAction.SMS: " (text message)", MessageAction.TRANSFER: " (transfer)"}.get(
            message.action, ""
        )
        transcript.append(f"{who}{how}: {message.content.strip()}")
    text = "\n".join(transcript)
    if len(text) > TRANSCRIPT_CHARS:  # keep the end: it holds the outcome
        text = "…" + text[-TRANSCRIPT_CHARS:]
    lines.append("Transcript:\n" + (text or "(empty)"))
    return "\n".join(lines)


def json_object(text: str) -> dict[str, Any]:
    """The first JSON object in a model's answer (code fences and prose around it tolerated)."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise ValueError("no JSON object in the answer")
    value = json.loads(text[start : end + 1])
    if not isinstance(value, dict):
        raise ValueError("the answer is not a JSON object")
    return value


async def _complete(
    chat: FallbackChatModel, messages: list[dict[str, Any]], skip: set[str], served: Served
) -> str:
    parts: list[str] = []
    async for event in chat.open(messages, [], skip=skip, served=served):
        if isinstance(event, TextDelta):
            parts.append(event.text)
    return "".join(parts)


async def ask_json(
    chat: FallbackChatModel | None, instructions: str, call: Call, schema: type[ModelT]
) -> ModelT | None:
    """The first valid answer of the slow then the fast model, or None when none gave one."""
    if chat is None:
        return None
    messages = [
        {"role": "system", "content": instructions.replace("{lang}", call.current_lang)},
        {"role": "user", "content": call_digest(call)},
    ]
    ordered = chat.reordered(reverse=True)  # the slow model first: nobody waits on the line
    skip: set[str] = set()  # models whose answer was unusable for this request
    for _ in ordered.models:
        served = Served()
        try:
            return schema.model_validate(json_object(await _complete(ordered, messages, skip, served)))
        except NoModelAvailable as exc:
            log.warning("call %s: no model for %s: %s", call.call_id, schema.__name__, exc)
            return None
        except (ModelFailure, ContentFiltered) as exc:
            log.warning("call %s: %s failed for %s: %s", call.call_id, served.model, schema.__name__, exc)
        except (ValueError, ValidationError) as exc:
            log.warning("call %s: %s gave no valid %s: %s", call.call_id, served.model, schema.__name__, exc)
        skip.add(served.model or "")
    return None


async def llm_synthesis(chat: FallbackChatModel | None, call: Call) -> Synthesis | None:
    return await ask_json(chat, SYNTHESIS_INSTRUCTIONS, call, Synthesis)


async def llm_next_action(chat: FallbackChatModel | None, call: Call) -> NextAction | None:
    return await ask_json(chat, NEXT_ACTION_INSTRUCTIONS, call, NextAction)
