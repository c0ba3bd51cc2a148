"""A synthesis and a next action computed from the call document alone (no LLM).

Used when no chat model is configured, and when every model failed or answered invalid JSON.
Built from the claim (which fields were collected), the reminders and the transcript (what the
caller asked, transfers, texts). Satisfaction stays `unknown` unless the caller's words are clear.
"""

from __future__ import annotations

import re

from shared.models import (
    Call,
    CallDirection,
    CallState,
    MessageAction,
    NextAction,
    NextActionKind,
    Persona,
    ReminderOwner,
    Satisfaction,
    Synthesis,
)

QUOTE_CHARS = 160
_POSITIVE = re.compile(
    r"\b(thank you so much|thanks a lot|perfect|excellent|great help|very helpful|merci beaucoup|"
    r"parfait|génial|super)\b",
    re.IGNORECASE,
)
_NEGATIVE = re.compile(
    r"\b(terrible|useless|unacceptable|ridiculous|furious|angry|awful|worst|scandal\w*|"
    r"inadmissible|nul|inutile|honteux|en colère)\b",
    re.IGNORECASE,
)


def _label(name: str) -> str:
    return name.replace("_", " ")


def _claim_parts(call: Call) -> tuple[list[tuple[str, str]], list[str]]:
    """(collected (label, value) pairs, missing labels), in the schema's order."""
    collected: list[tuple[str, str]] = []
    missing: list[str] = []
    for field in call.initiate.claim:
        value = call.claim.get(field.name)
        if value:
            collected.append((_label(field.name), value))
        else:
            missing.append(_label(field.name))
    return collected, missing


def _caller_name(call: Call) -> str | None:
    for field in call.initiate.claim:
        value = call.claim.get(field.name)
        if value and field.type == "text" and "name" in field.name:
            return value
    return None


def _human_lines(call: Call) -> list[str]:
    return [m.content.strip() for m in call.messages if m.persona is Persona.HUMAN and m.content.strip()]


def was_transferred(call: Call) -> bool:
    return call.connection.state is CallState.TRANSFERRING or any(
        m.action is MessageAction.TRANSFER for m in call.messages
    )


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1].rstrip() + "…"


def satisfaction(call: Call) -> Satisfaction:
    """`high` or `low` only when the caller's words say so plainly (and not both); else `unknown`."""
    said = " ".join(_human_lines(call))
    positive, negative = bool(_POSITIVE.search(said)), bool(_NEGATIVE.search(said))
    if positive and not negative:
        return Satisfaction.HIGH
    if negative and not positive:
        return Satisfaction.LOW
    return Satisfaction.UNKNOWN


def _short(call: Call, collected: int, total: int) -> str:
    who = _caller_name(call) or "The caller"
    clauses = [f"{collected} of {total} claim details collected"] if total else []
    if call.reminders:
        count = len(call.reminders)
        clauses.append(f"{count} follow-up{'s' if count > 1 else ''} planned")
    if was_transferred(call):
        clauses.append("transferred to an agent")
    verb = "called" if call.direction is CallDirection.INBOUND else "was called by"
    return f"{who} {verb} {call.initiate.bot_company}" + (f": {', '.join(clauses)}." if clauses else ".")


def deterministic_synthesis(call: Call) -> Synthesis:
    collected, missing = _claim_parts(call)
    total = len(collected) + len(missing)
    lines = _human_lines(call)
    long: list[str] = []
    if lines:
        long.append(f'The caller said: "{_quote(lines[0])}".')
    if collected:
        long.append("Collected: " + "; ".join(f"{label}: {value}" for label, value in collected) + ".")
    if missing:
        long.append("Missing: " + ", ".join(missing) + ".")
    for reminder in call.reminders:
        due = reminder.due_date_time.isoformat(timespec="minutes")
        long.append(f"Follow-up ({reminder.owner.value}) on {due}: {reminder.title}.")
    if was_transferred(call):
        long.append("The call was transferred to a human agent.")
    texts = [m for m in call.messages if m.action is MessageAction.SMS and m.persona is Persona.HUMAN]
    if texts:
        long.append(f"The caller also sent {len(texts)} text message(s).")
    suggestions: list[str] = []
    if missing:
        suggestions.append(f"Collect the missing details: {', '.join(missing)}.")
    if call.agent_fallback_reason:
        suggestions.append(f"The assistant fell back to the form agent ({call.agent_fallback_reason}).")
    return Synthesis(
        short=_short(call, len(collected), total)[:500],
        long=" ".join(long)[:5000] or "No details were collected.",
        satisfaction=satisfaction(call),
        improvement_suggestions=" ".join(suggestions)[:5000],
    )


def deterministic_next_action(call: Call) -> NextAction:
    """From the transfer, the reminders and how complete the claim is, in that order."""
    _collected, missing = _claim_parts(call)
    if was_transferred(call):
        return NextAction(
            action=NextActionKind.REQUIRES_HUMAN_AGENT,
            justification="The caller was transferred to a human agent, who owns the follow-up.",
        )
    by_owner = {owner: [r.title for r in call.reminders if r.owner is owner] for owner in ReminderOwner}
    if by_owner[ReminderOwner.AGENT]:
        return NextAction(
            action=NextActionKind.REQUIRES_HUMAN_AGENT,
            justification="An agent has follow-ups to do: " + "; ".join(by_owner[ReminderOwner.AGENT]) + ".",
        )
    if by_owner[ReminderOwner.CUSTOMER] or missing:
        reasons = [f"the claim misses {', '.join(missing)}"] if missing else []
        reasons += [f"the customer will {title}" for title in by_owner[ReminderOwner.CUSTOMER]]
        text = "; ".join(reasons) + "."
        return NextAction(
            action=NextActionKind.CUSTOMER_WILL_SEND_INFO, justification=(text[:1].upper() + text[1:])[:2000]
        )
    planned = by_owner[ReminderOwner.ASSISTANT]
    return NextAction(
        action=NextActionKind.CASE_CLOSED,
        justification="Every claim detail was collected"
        + (f"; the assistant will call back for: {'; '.join(planned)}." if planned else "."),
    )
