"""The chat history sent to the model: the call's messages as OpenAI messages, within a token budget.

Token counts are estimated offline (no tokenizer download): about 4 characters per token for Latin
text plus a per-message overhead, which over-counts slightly and so stays inside the real budget.
"""

from __future__ import annotations

import json
from typing import Any

from shared.models import Message, MessageAction, Persona

CHARS_PER_TOKEN = 3.5
MESSAGE_OVERHEAD_TOKENS = 4
DEFAULT_HISTORY_BUDGET_TOKENS = 6_000

ChatMessage = dict[str, Any]


def estimate_tokens(text: str) -> int:
    return int(len(text) / CHARS_PER_TOKEN) + 1


def message_tokens(message: ChatMessage) -> int:
    content = message.get("content") or ""
    tool_calls = message.get("tool_calls") or []
    return MESSAGE_OVERHEAD_TOKENS + estimate_tokens(str(content)) + estimate_tokens(json.dumps(tool_calls))


def to_chat_groups(messages: list[Message]) -> list[list[ChatMessage]]:
    """Call messages as OpenAI messages, grouped so a tool call is never separated from its results."""
    groups: list[list[ChatMessage]] = []
    for message in messages:
        if message.persona is Persona.HUMAN:
            if message.content:
                groups.append([{"role": "user", "content": message.content}])
            continue
        if message.persona is not Persona.ASSISTANT:
            continue
        if message.tool_calls:
            group: list[ChatMessage] = [
                {
                    "role": "assistant",
                    "content": message.content or None,
                    "tool_calls": [
                        {
                            "id": c.id,
                            "type": "function",
                            "function": {"name": c.name, "arguments": c.arguments},
                        }
                        for c in message.tool_calls
                    ],
                }
            ]
            group += [
                {"role": "tool", "tool_call_id": c.id, "content": c.result or "no result"}
                for c in message.tool_calls
            ]
            groups.append(group)
        elif message.content:
            prefix = "(sent by SMS) " if message.action is MessageAction.SMS else ""
            groups.append([{"role": "assistant", "content": prefix + message.content}])
    return groups


def build_chat(system_prompt: str, messages: list[Message], *, budget_tokens: int) -> list[ChatMessage]:
    """System prompt + the most recent history groups that fit in the budget (oldest dropped first)."""
    system: ChatMessage = {"role": "system", "content": system_prompt}
    remaining = budget_tokens - message_tokens(system)
    kept: list[list[ChatMessage]] = []
    for group in reversed(to_chat_groups(messages)):
        cost = sum(message_tokens(m) for m in group)
        if cost > remaining and kept:
            break
        kept.append(group)
        remaining -= cost
    history = [message for group in reversed(kept) for message in group]
    while history and history[0]["role"] == "tool":  # never start on an orphan tool result
        history.pop(0)
    return [system, *history]
