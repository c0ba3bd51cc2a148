"""Builders shared by the conversation tests: a real SQLite store and the in-process ports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from shared.conversation.context import CallContext, ConversationPorts
from shared.flags.base import FeatureFlags
from shared.models import Call, CallDirection, CallInitiate
from shared.prompts import Prompts
from shared.search.base import Document, InMemorySearch
from shared.sms.base import OutboxSms
from shared.store.sqlite import SqliteCallStore
from shared.telephony.base import RecordingTelephony

FOUR_FIELDS = [
    {"name": "caller_name", "type": "text", "description": "the caller's full name"},
    {"name": "caller_email", "type": "email"},
    {"name": "caller_phone", "type": "phone_number"},
    {"name": "incident_datetime", "type": "datetime", "description": "when the incident happened"},
]

DOCUMENTS = [
    Document("Windscreen cover", "Windscreen damage is covered without excess under the comfort plan."),
    Document("Theft procedure", "In case of theft, file a police report within 48 hours."),
]


@dataclass
class Harness:
    ctx: CallContext
    telephony: RecordingTelephony
    sms: OutboxSms
    store: SqliteCallStore
    spoken: list[str] = field(default_factory=list)

    async def speak(self, sentence: str) -> None:
        self.spoken.append(sentence)

    async def reload(self) -> Call:
        call = await self.store.get(self.ctx.call.call_id)
        assert call is not None
        return call


async def make_harness(
    tmp_path: Path,
    *,
    flags: FeatureFlags | None = None,
    claim: list[dict[str, str]] | None = None,
    lang: str = "en-US",
    agent_phone_number: str | None = "+33699999999",
    fail_transfers: bool = False,
    clock: Callable[[], datetime] | None = None,
) -> Harness:
    store = SqliteCallStore(tmp_path / "calls.sqlite3")
    initiate = CallInitiate.model_validate(
        {
            "claim": claim if claim is not None else FOUR_FIELDS,
            "agent_phone_number": agent_phone_number,
            "lang": {"default_short_code": lang},
        }
    )
    call = await store.create(
        Call(caller_phone="+33612345678", direction=CallDirection.INBOUND, initiate=initiate)
    )
    telephony = RecordingTelephony(fail_transfers=fail_transfers)
    sms = OutboxSms()
    ports = ConversationPorts(
        store=store, telephony=telephony, sms=sms, search=InMemorySearch(DOCUMENTS), prompts=Prompts.load()
    )
    ctx = CallContext(call=call, ports=ports, flags=flags or FeatureFlags(), clock=clock)
    return Harness(ctx=ctx, telephony=telephony, sms=sms, store=store)
