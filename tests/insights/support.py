"""Builders for the post-call tests: local services on a temporary SQLite file, calls with a transcript."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from shared.composition import Services, build_services
from shared.insights.orchestration import PostCallInput
from shared.models import Call, CallInitiate, Message, Persona, Reminder, ReminderOwner
from shared.models.call import utc_now
from shared.settings import Settings, load_settings
from shared.sms.base import OutboxSms, SmsError, SmsReceipt

CALLER = "+33612345678"
CLAIM = [
    {"name": "caller_name", "type": "text"},
    {"name": "caller_email", "type": "email"},
    {"name": "incident_description", "type": "text"},
]


def local_settings(tmp_path: Path, **overrides: Any) -> Settings:
    return load_settings(
        api={"key": "api-key-for-tests", "public_url": "https://calls.example.org"},
        store={"sqlite": {"path": tmp_path / "calls.sqlite3"}},
        **overrides,
    )


def local_services(tmp_path: Path, **overrides: Any) -> Services:
    return build_services(local_settings(tmp_path, **overrides))


async def new_call(
    services: Services,
    *,
    said: list[str] | None = None,
    claim: dict[str, str | None] | None = None,
    reminders: list[Reminder] | None = None,
) -> Call:
    messages = [Message(persona=Persona.ASSISTANT, content="Hello, this is Amélie from Contoso.")]
    messages += [Message(persona=Persona.HUMAN, content=text) for text in (said or [])]
    call = Call(
        caller_phone=CALLER,
        initiate=CallInitiate.model_validate({"claim": CLAIM}),
        messages=messages,
        claim=claim or {},
        reminders=reminders or [],
    )
    return await services.store.create(call)


def payload(call: Call) -> PostCallInput:
    return {"call_id": str(call.call_id), "caller_phone": call.caller_phone, "interaction": True}


def reminder(title: str, owner: ReminderOwner) -> Reminder:
    return Reminder(title=title, due_date_time=utc_now() + timedelta(days=1), owner=owner)


@dataclass
class ScriptedSms(OutboxSms):
    """The outbox, failing first with the scripted errors."""

    errors: list[SmsError] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()

    async def send(self, to: str, body: str) -> SmsReceipt:
        if self.errors:
            raise self.errors.pop(0)
        return await super().send(to, body)
