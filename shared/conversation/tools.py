"""The assistant's ten tools: argument schemas, effects on the call, and one way to run them.

Both agents (LLM and form-filling) call `run_tool`, so the rest of the system cannot tell them apart.
A tool never raises for bad input: the problem goes back to the model as the tool's result.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.claim.schema import ClaimValueError, validate_claim_value
from shared.claim.values import parse_datetime
from shared.conversation.context import CallContext
from shared.conversation.retrieval import cite, policy, search_documents
from shared.models import Call, Message, MessageAction, Persona, Reminder, ReminderOwner
from shared.search.base import SearchIndexError
from shared.sms.base import SmsError
from shared.telemetry import record
from shared.telephony.base import TelephonyError

log = logging.getLogger(__name__)

Speak = Callable[[str], Awaitable[None]]
ShortText = Annotated[str, Field(max_length=300)]
CUSTOMER_RESPONSE = Field(
    default=None, max_length=300, description="A short phrase said to the caller while the action runs."
)


class ToolArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer_response: str | None = CUSTOMER_RESPONSE


class ClaimUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    field: str = Field(description="Name of the claim field.")
    value: str = Field(max_length=1000, description="Value, as the caller said it.")


class UpdatedClaimArgs(ToolArgs):
    updates: list[ClaimUpdate] = Field(min_length=1, max_length=20)


class NewClaimArgs(ToolArgs):
    pass


class ReminderArgs(ToolArgs):
    title: str = Field(min_length=1, max_length=200, description="Short unique title; same title updates it.")
    description: str = Field(default="", max_length=2000)
    due_date_time: str = Field(description="When, ISO 8601 or as said ('tomorrow at 3 pm').")
    owner: ReminderOwner = ReminderOwner.ASSISTANT


class SearchDocumentArgs(ToolArgs):
    queries: list[ShortText] = Field(
        min_length=1,
        max_length=3,
        description="1 to 3 phrasings of what to look for, in different words (their results are merged).",
    )


class TalkToHumanArgs(ToolArgs):
    pass


class EndCallArgs(ToolArgs):
    pass


class SendSmsArgs(ToolArgs):
    message: str = Field(min_length=1, max_length=1000, description="The text message for the caller.")


class NotifyEmergenciesArgs(ToolArgs):
    reason: str = Field(min_length=1, max_length=500)
    location: str = Field(min_length=1, max_length=500)
    contact: str = Field(default="", max_length=100, description="How to reach the people in danger.")
    service: Literal["police", "firefighters", "ambulance", "pharmacy", "veterinarian"]


class SpeechSpeedArgs(ToolArgs):
    speed: float = Field(ge=0.75, le=1.5, description="1.0 is normal; lower is slower.")


class SpeechLangArgs(ToolArgs):
    lang: str = Field(description="Language short code, one of the available ones, e.g. fr-FR.")


@dataclass(frozen=True)
class ToolResult:
    content: str
    ok: bool = True


Handler = Callable[[CallContext, Any, Speak], Awaitable[ToolResult]]


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    args: type[ToolArgs]
    handler: Handler


def _error(message: str) -> ToolResult:
    return ToolResult(content=f"error: {message}", ok=False)


async def _updated_claim(ctx: CallContext, args: UpdatedClaimArgs, _speak: Speak) -> ToolResult:
    schema = ctx.call.initiate.claim_schema
    accepted: dict[str, str] = {}
    problems: list[str] = []
    for update in args.updates:
        try:
            accepted[update.field] = validate_claim_value(
                schema, update.field, update.value, context=ctx.parse_context()
            )
        except ClaimValueError as exc:
            problems.append(str(exc))
    if accepted:

        def _apply(call: Call) -> None:
            call.claim.update(accepted)

        await ctx.save(_apply)
    parts = [f"saved {name} = {value}" for name, value in accepted.items()] + problems
    return ToolResult(content="; ".join(parts), ok=not problems)


async def _new_claim(ctx: CallContext, _args: NewClaimArgs, _speak: Speak) -> ToolResult:
    def _archive(call: Call) -> None:
        if any(value for value in call.claim.values()):
            call.archived_claims.append(dict(call.claim))
        call.claim = {}

    await ctx.save(_archive)
    return ToolResult("previous claim archived; a new empty claim is open")


async def _new_or_updated_reminder(ctx: CallContext, args: ReminderArgs, _speak: Speak) -> ToolResult:
    try:
        due = parse_datetime(args.due_date_time, ctx.parse_context())
    except ValueError as exc:
        return _error(f"due_date_time: {exc}")
    reminder = Reminder(title=args.title, description=args.description, due_date_time=due, owner=args.owner)
    created: list[bool] = []

    def _upsert(call: Call) -> None:
        created.append(call.upsert_reminder(reminder.model_copy()))

    await ctx.save(_upsert)
    verb = "created" if created[-1] else "updated"
    return ToolResult(f"reminder '{args.title}' {verb}, due {due.isoformat()}")


async def _search_document(ctx: CallContext, args: SearchDocumentArgs, _speak: Speak) -> ToolResult:
    try:
        hits = await search_documents(ctx.ports.search, args.queries, lang=ctx.lang, top=policy(ctx).top)
    except SearchIndexError as exc:
        return _error(f"the documents cannot be searched right now: {exc}")
    return ToolResult(cite(hits))


async def _talk_to_human(ctx: CallContext, _args: TalkToHumanArgs, speak: Speak) -> ToolResult:
    target = ctx.call.initiate.agent_phone_number
    if not target:
        return _error("no human agent number is configured for this call; offer a call-back reminder instead")
    await speak(ctx.phrase("transfer"))
    await ctx.heard()
    ctx.outcome.leaving = True
    try:
        with record.transfer():
            await ctx.ports.telephony.transfer(ctx.call, target)
    except TelephonyError as exc:
        log.warning("transfer of call %s failed: %s", ctx.call.call_id, exc)
        await speak(ctx.phrase("transfer_failed"))
        await ctx.heard()
        await ctx.ports.telephony.hang_up(ctx.call)
        ctx.outcome.hang_up = True
        return _error(f"transfer failed ({exc}); the caller was told and the call ended")
    ctx.outcome.transferred = True
    return ToolResult(f"caller transferred to {target}")


async def _end_call(ctx: CallContext, _args: EndCallArgs, speak: Speak) -> ToolResult:
    await speak(ctx.phrase("goodbye"))
    await ctx.heard()
    ctx.outcome.leaving = True  # the hang-up tears the media session down: it lets this turn finish
    await ctx.ports.telephony.hang_up(ctx.call)
    ctx.outcome.hang_up = True
    return ToolResult("call ended")


async def _send_sms(ctx: CallContext, args: SendSmsArgs, _speak: Speak) -> ToolResult:
    await ctx.heard()  # a text cannot be taken back: not before the caller's turn is settled and heard
    try:
        with record.sms("assistant"):
            receipt = await ctx.ports.sms.send(ctx.call.caller_phone, args.message)
    except SmsError as exc:
        return _error(f"the SMS could not be sent: {exc}")
    await ctx.add_message(Message(persona=Persona.ASSISTANT, action=MessageAction.SMS, content=args.message))
    return ToolResult(f"SMS sent to the caller (id {receipt.message_id})")


async def _notify_emergencies(ctx: CallContext, args: NotifyEmergenciesArgs, _speak: Speak) -> ToolResult:
    log.warning(
        "emergency (%s) for call %s: %s at %s", args.service, ctx.call.call_id, args.reason, args.location
    )
    target = ctx.call.initiate.agent_phone_number
    if not target:
        return ToolResult(f"{args.service} alert logged; no agent number to forward it to")
    await ctx.heard()  # not on half a sentence: the caller's turn is settled first (a second or so)
    body = (
        f"EMERGENCY {args.service}: {args.reason}. Location: {args.location}. Contact: {args.contact or '-'}"
    )
    try:
        await ctx.ports.sms.send(target, body)
    except SmsError as exc:
        return _error(f"alert logged but not forwarded: {exc}")
    return ToolResult(f"{args.service} alert forwarded to the on-duty agent")


async def _speech_speed(ctx: CallContext, args: SpeechSpeedArgs, _speak: Speak) -> ToolResult:
    def _set(call: Call) -> None:
        call.voice_speed = args.speed

    await ctx.save(_set)
    return ToolResult(f"voice speed set to {args.speed:g}")


async def _speech_lang(ctx: CallContext, args: SpeechLangArgs, _speak: Speak) -> ToolResult:
    codes = {lang.short_code.casefold(): lang.short_code for lang in ctx.call.initiate.lang.availables}
    code = codes.get(args.lang.casefold())
    if code is None:
        return _error(f"language {args.lang!r} is not available; choose one of {', '.join(codes.values())}")

    def _set(call: Call) -> None:
        call.lang_short_code = code

    await ctx.save(_set)
    return ToolResult(f"language set to {code}")


TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in (
        Tool(
            "updated_claim",
            "Save values the caller gave for claim fields. Invalid values come back as "
            "errors: ask the caller again.",
            UpdatedClaimArgs,
            _updated_claim,
        ),
        Tool(
            "new_claim",
            "Archive the current claim and open a new one, when the caller starts a totally "
            "different subject.",
            NewClaimArgs,
            _new_claim,
        ),
        Tool(
            "new_or_updated_reminder",
            "Create a follow-up reminder, or update the one with the same title.",
            ReminderArgs,
            _new_or_updated_reminder,
        ),
        Tool(
            "search_document",
            "Search the company's internal documents before answering a question about "
            "its products or policies; cite the source file of what you use.",
            SearchDocumentArgs,
            _search_document,
        ),
        Tool(
            "talk_to_human",
            "Transfer the caller to a human agent, when they ask for one or when you cannot help.",
            TalkToHumanArgs,
            _talk_to_human,
        ),
        Tool("end_call", "Say goodbye and hang up, when the caller is done.", EndCallArgs, _end_call),
        Tool(
            "send_sms",
            "Send a text message to the caller (e.g. a reference or a summary).",
            SendSmsArgs,
            _send_sms,
        ),
        Tool(
            "notify_emergencies",
            "Alert emergency services through the on-duty agent when someone is in danger.",
            NotifyEmergenciesArgs,
            _notify_emergencies,
        ),
        Tool(
            "speech_speed", "Change how fast you speak, when the caller asks.", SpeechSpeedArgs, _speech_speed
        ),
        Tool(
            "speech_lang",
            "Change the language you speak, when the caller asks or speaks another language.",
            SpeechLangArgs,
            _speech_lang,
        ),
    )
}


def tool_definitions() -> list[dict[str, Any]]:
    """The `tools` parameter of a chat completion request."""
    return [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.args.model_json_schema(),
            },
        }
        for tool in TOOLS.values()
    ]


async def run_tool(ctx: CallContext, name: str, arguments: str, speak: Speak) -> ToolResult:
    """Run one tool call. Unknown tools and malformed arguments become error results, never exceptions."""
    tool = TOOLS.get(name)
    if tool is None:
        return _error(f"unknown tool {name!r}; available: {', '.join(TOOLS)}")
    try:
        raw = json.loads(arguments or "{}")
        args = tool.args.model_validate(raw)
    except (ValueError, ValidationError) as exc:
        return _error(f"invalid arguments for {name}: {exc}")
    if args.customer_response:
        await speak(args.customer_response)
    with record.tool_call(name):
        result = await tool.handler(ctx, args, speak)
    record.tool_done(name, result.ok, result.content)
    return result
