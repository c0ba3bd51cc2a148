"""`callcenter chat`: a text conversation with the assistant in the terminal, stored like a phone call."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from pydantic import ValidationError

from shared.claim.schema import ClaimSchema
from shared.composition import build_services
from shared.conversation.engine import open_conversation
from shared.models import Call, CallDirection, CallInitiate, LanguageSettings
from shared.models.call import utc_now
from shared.problems import plain_problems
from shared.settings import Settings

QUIT_WORDS = frozenset({"/quit", "/exit", "/q"})
KEY_COMMAND = "/key"


def load_claim_schema(path: Path) -> ClaimSchema:
    """A claim schema from a JSON or YAML file: a list of {name, type, description}."""
    import yaml  # noqa: PLC0415

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read the claim schema {path}: {exc}") from exc
    try:
        return ClaimSchema.model_validate(data)
    except ValidationError as exc:  # plain words, one problem per line, not pydantic's developer text
        problems = "\n  ".join(plain_problems(exc, root="claim"))
        raise ValueError(
            f"the claim schema {path} is not valid (expected a list of {{name, type, description}}):\n"
            f"  {problems}"
        ) from None


def _snapshot(call: Call) -> tuple[dict[str, str | None], dict[str, str]]:
    reminders = {
        r.title: f"{r.due_date_time.isoformat()} ({r.owner}) {r.description}" for r in call.reminders
    }
    return dict(call.claim), reminders


async def run_chat(
    settings: Settings,
    *,
    phone: str,
    lang: str | None = None,
    schema: ClaimSchema | None = None,
    read_line: Callable[[str], str] = input,
    out: TextIO,
    initiate: CallInitiate | None = None,
    direction: CallDirection = CallDirection.INBOUND,
) -> Call:
    """A text conversation until the caller quits (EOF, /quit) or the bot ends it. ``initiate`` and
    ``direction`` make a new conversation another bot's, or an outbound one (the scenario runner).
    `/key N` presses a phone key (a language choice, as on a call)."""
    services = build_services(settings)

    def show(text: str) -> None:
        print(text, file=out, flush=True)

    async def speak(sentence: str) -> None:
        show(f"bot> {sentence}")

    try:
        flags = await services.flags.get()
        call = await services.store.find_resumable(
            phone, within=timedelta(hours=flags.callback_timeout_hour), now=utc_now()
        )
        if call is None:
            initiate = initiate.model_copy(deep=True) if initiate is not None else CallInitiate()
            if schema is not None:
                initiate.claim = list(schema.root)
            if lang:
                initiate.lang = LanguageSettings(default_short_code=lang)
            call = await services.store.create(
                Call(caller_phone=phone, direction=direction, initiate=initiate)
            )
            show(f"[call {call.call_id}] new conversation")
        else:
            show(f"[call {call.call_id}] resuming the conversation of {call.created_at:%Y-%m-%d %H:%M}")
        conversation = await open_conversation(services, call)
        await conversation.start(speak)
        agent = conversation.ctx.call.agent
        show(f"[agent: {agent}] type your answers; /quit to leave")
        while not conversation.ended:
            try:
                line = await asyncio.to_thread(read_line, "you> ")
            except EOFError:
                break
            if line.strip().lower() in QUIT_WORDS:
                break
            if line.strip().lower().startswith(KEY_COMMAND):
                await conversation.ctx.key_pressed(line.strip()[len(KEY_COMMAND) :].strip())
                show(f"[key] language {conversation.ctx.lang}")
                continue
            before = _snapshot(conversation.ctx.call)
            await conversation.respond(line, speak)
            _show_changes(before, _snapshot(conversation.ctx.call), show)
            if conversation.ctx.call.agent != agent:
                agent = conversation.ctx.call.agent
                show(f"[agent: {agent}] {conversation.ctx.call.agent_fallback_reason or ''}")
        final = conversation.ctx.call
        show("[claim] " + json.dumps(final.claim, ensure_ascii=False))
        return final
    finally:
        await services.aclose()


def _show_changes(
    before: tuple[dict[str, str | None], dict[str, str]],
    after: tuple[dict[str, str | None], dict[str, str]],
    show: Callable[[str], None],
) -> None:
    for name, value in after[0].items():
        if before[0].get(name) != value:
            show(f"  [claim] {name} = {value}")
    for title, text in after[1].items():
        if before[1].get(title) != text:
            show(f"  [reminder] {title}: {text}")
