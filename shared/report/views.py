"""View models of the report: what a page shows of a call, as plain strings, never the call's secrets.

`build_call_view` reads only the displayable parts of a `Call` (never `call.secrets`, never the etag);
the templates escape every string, so a transcript line such as `<script>` is shown, not run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final
from urllib.parse import urlsplit

from markupsafe import Markup

from shared.claim.display import field_label, readable_value
from shared.claim.schema import ClaimFieldType
from shared.models import Call, Message, MessageAction, NextActionKind, Persona, TurnLatency
from shared.report.chart import METRICS, latency_chart_svg

__all__ = [
    "NEXT_ACTION_LABELS",
    "CallRow",
    "CallView",
    "ClaimRow",
    "MessageView",
    "ReminderView",
    "ToolCallView",
    "build_call_row",
    "build_call_view",
    "call_duration",
    "format_duration",
    "format_time",
]

NEXT_ACTION_LABELS: Final = {
    NextActionKind.CASE_CLOSED: "Case closed",
    NextActionKind.COMMERCIAL_OFFER: "Commercial offer",
    NextActionKind.CUSTOMER_WILL_SEND_INFO: "Customer will send info",
    NextActionKind.REQUIRES_EXPERTISE: "Requires expertise",
    NextActionKind.REQUIRES_HUMAN_AGENT: "Requires a human agent",
}
TYPE_LABELS: Final = {
    ClaimFieldType.TEXT: "text",
    ClaimFieldType.DATETIME: "date and time",
    ClaimFieldType.EMAIL: "e-mail",
    ClaimFieldType.PHONE_NUMBER: "phone number",
}
SUMMARY_CHARS: Final = 140


def format_time(moment: datetime | None) -> str:
    """`2024-05-01 14:03 UTC`: the report shows every time in UTC, said so next to it."""
    if moment is None:
        return "—"
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def call_duration(call: Call) -> timedelta | None:
    """From the first to the last words of this call (a resumed call's carried-over messages and the
    texts sent after it do not count), or None before anything was said."""
    spoken = [
        m.created_at
        for m in call.messages
        if m.action is not MessageAction.SMS and m.created_at >= call.created_at - timedelta(seconds=1)
    ]
    return max(spoken) - min(spoken) if spoken else None


def format_duration(duration: timedelta | None) -> str:
    """`2 min 05 s`, `48 s`, `1 h 02 min`, or `—`."""
    if duration is None:
        return "—"
    seconds = max(round(duration.total_seconds()), 0)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def _iso(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class ClaimRow:
    name: str
    type_label: str
    description: str
    value: str | None
    label: str = ""  # the name as people read it ("Caller name")
    value_text: str = ""  # the value as people read it (dates in words)


@dataclass(frozen=True)
class ToolCallView:
    name: str
    arguments: str
    result: str | None


@dataclass(frozen=True)
class MessageView:
    persona: str
    action: str
    time_text: str
    time_iso: str
    content: str
    tool_calls: tuple[ToolCallView, ...]


@dataclass(frozen=True)
class ReminderView:
    title: str
    description: str
    due_text: str
    due_iso: str
    owner: str


@dataclass(frozen=True)
class TurnRow:
    number: int
    cells: tuple[str, ...]


@dataclass(frozen=True)
class CallView:
    call_id: str
    heading: str
    metadata: tuple[tuple[str, str], ...]
    synthesis_short: str | None
    synthesis_long: str | None
    satisfaction: str | None
    improvement_suggestions: str | None
    next_action: str | None
    next_action_justification: str | None
    claim: tuple[ClaimRow, ...]
    reminders: tuple[ReminderView, ...]
    messages: tuple[MessageView, ...]
    chart: Markup | None
    turn_columns: tuple[str, ...]
    turn_rows: tuple[TurnRow, ...]
    recording_url: str | None
    duration: str = "—"
    back_url: str | None = None  # the call list (with the admin key when the page was opened with it)


@dataclass(frozen=True)
class CallRow:
    """One line of the call list."""

    call_id: str
    created_text: str
    created_iso: str
    direction: str
    caller_phone: str
    company: str
    state: str
    next_action: str
    summary: str
    link: str
    duration_text: str = "—"
    satisfaction: str = "—"


def _pretty_json(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def _claim_rows(call: Call) -> tuple[ClaimRow, ...]:
    def row(name: str, type_label: str, description: str, value: str | None) -> ClaimRow:
        return ClaimRow(name, type_label, description, value, field_label(name), readable_value(value))

    rows = [
        row(field.name, TYPE_LABELS[field.type], field.description or "", call.claim.get(field.name))
        for field in call.initiate.claim
    ]
    known = {field.name for field in call.initiate.claim}
    rows += [row(name, "text", "", value) for name, value in call.claim.items() if name not in known]
    return tuple(rows)


def _message(message: Message) -> MessageView:
    tools = tuple(
        ToolCallView(tool.name, _pretty_json(tool.arguments), tool.result) for tool in message.tool_calls
    )
    return MessageView(
        persona=message.persona.value,
        action=message.action.value,
        time_text=message.created_at.astimezone(UTC).strftime("%H:%M:%S"),
        time_iso=_iso(message.created_at),
        content=message.content,
        tool_calls=tools,
    )


def _turn_rows(turns: list[TurnLatency]) -> tuple[TurnRow, ...]:
    def cell(value: float | None) -> str:
        return "—" if value is None else f"{value:,.0f}"

    return tuple(
        TurnRow(index + 1, tuple(cell(getattr(turn, metric.field)) for metric in METRICS))
        for index, turn in enumerate(turns)
    )


def _playable(url: str | None) -> str | None:
    """Only http(s) recordings become an `<audio src>`; anything else is not shown."""
    if not url:
        return None
    return url if urlsplit(url).scheme in {"http", "https"} else None


def _metadata(call: Call) -> tuple[tuple[str, str], ...]:
    initiate = call.initiate
    agent = call.agent.value if call.agent else "—"
    if call.agent_fallback_reason:
        agent += f" (fallback: {call.agent_fallback_reason})"
    rows = [
        ("Call", str(call.call_id)),
        ("Direction", call.direction.value),
        ("Caller", call.caller_phone),
        ("Bot number", call.bot_phone or "—"),
        ("Human agent number", initiate.agent_phone_number or "—"),
        ("Bot", f"{initiate.bot_name}, {initiate.bot_company}"),
        ("Agent", agent),
        ("Language", call.current_lang),
        ("State", call.connection.state.value),
        ("Duration", format_duration(call_duration(call))),
        ("Created", format_time(call.created_at)),
        ("Updated", format_time(call.updated_at)),
    ]
    if call.previous_call_id:
        rows.append(("Resumes call", str(call.previous_call_id)))
    return tuple(rows)


def build_call_view(call: Call, *, recording_src: str | None = None, back_url: str | None = None) -> CallView:
    """`recording_src`: the player's same-origin source when the recording is a blob the app serves;
    else an http(s) recording URL is played as it is."""
    synthesis, next_action = call.synthesis, call.next
    return CallView(
        call_id=str(call.call_id),
        heading=f"Call with {call.caller_phone}",
        metadata=_metadata(call),
        synthesis_short=synthesis.short if synthesis else None,
        synthesis_long=synthesis.long if synthesis else None,
        satisfaction=synthesis.satisfaction.value if synthesis else None,
        improvement_suggestions=synthesis.improvement_suggestions if synthesis else None,
        next_action=NEXT_ACTION_LABELS[next_action.action] if next_action else None,
        next_action_justification=next_action.justification if next_action else None,
        claim=_claim_rows(call),
        reminders=tuple(
            ReminderView(
                r.title, r.description, format_time(r.due_date_time), _iso(r.due_date_time), r.owner.value
            )
            for r in call.reminders
        ),
        messages=tuple(_message(message) for message in call.messages),
        chart=latency_chart_svg(call.turns, title=f"Latency per turn of call {call.call_id}")
        if call.turns
        else None,
        turn_columns=tuple(metric.label for metric in METRICS),
        turn_rows=_turn_rows(call.turns),
        recording_url=recording_src or _playable(call.recording_url),
        duration=format_duration(call_duration(call)),
        back_url=back_url,
    )


def _summary(call: Call) -> str:
    text = call.synthesis.short if call.synthesis else ""
    if not text:
        text = next((m.content for m in call.messages if m.persona is Persona.HUMAN and m.content), "")
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1].rstrip() + "…"


def build_call_row(call: Call, link: str) -> CallRow:
    """`link`: where the row points, the call's signed report link (a same-origin path and query)."""
    return CallRow(
        call_id=str(call.call_id),
        created_text=format_time(call.created_at),
        created_iso=_iso(call.created_at),
        direction=call.direction.value,
        caller_phone=call.caller_phone,
        company=call.initiate.bot_company,
        state=call.connection.state.value,
        next_action=NEXT_ACTION_LABELS[call.next.action] if call.next else "—",
        summary=_summary(call),
        link=link,
        duration_text=format_duration(call_duration(call)),
        satisfaction=call.synthesis.satisfaction.value if call.synthesis else "—",
    )
