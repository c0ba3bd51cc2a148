"""Per-call conversation state: the call document, the ports the tools act through, and the flags."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from shared.claim.values import ParseContext
from shared.flags.base import FeatureFlags
from shared.models import Call, Message
from shared.prompts import Prompts
from shared.search.base import DocumentSearch
from shared.settings import ConversationSettings
from shared.sms.base import SmsSender
from shared.store.base import CallStore, update_call
from shared.telephony.base import Telephony


@dataclass(frozen=True)
class ConversationPorts:
    """What a conversation acts through; shared by every call of a process."""

    store: CallStore
    telephony: Telephony
    sms: SmsSender
    search: DocumentSearch
    prompts: Prompts


@dataclass
class CallOutcome:
    """What the tools decided for the call during the current turn."""

    hang_up: bool = False
    transferred: bool = False


@dataclass
class FormState:
    """Where the form-filling agent is in its dialog (rebuilt from the claim after a restart)."""

    asking: str | None = None
    last_prompt: str | None = None
    attempts: int = 0
    last_noted: str | None = None
    done: bool = False


@dataclass
class CallContext:
    """One call's conversation state. Create one per call; never share between calls."""

    call: Call
    ports: ConversationPorts
    flags: FeatureFlags = field(default_factory=FeatureFlags)
    settings: ConversationSettings = field(default_factory=ConversationSettings)
    outcome: CallOutcome = field(default_factory=CallOutcome)
    form: FormState = field(default_factory=FormState)
    clock: Callable[[], datetime] | None = None  # tests pin "now" for spoken dates
    drain: Callable[[], Awaitable[None]] | None = None  # set by the media host: wait until all is heard

    async def heard(self) -> None:
        """Wait until everything spoken so far reached the caller (before hanging up or transferring)."""
        if self.drain is not None:
            await self.drain()

    @property
    def lang(self) -> str:
        return self.call.current_lang

    def now(self) -> datetime:
        zone = ZoneInfo(self.settings.timezone)
        return self.clock().astimezone(zone) if self.clock else datetime.now(zone)

    def parse_context(self) -> ParseContext:
        return ParseContext(
            now=self.now(), timezone=self.settings.timezone, default_region=self.settings.default_region
        )

    def placeholders(self) -> dict[str, object]:
        initiate = self.call.initiate
        claim = {
            f.name: {"type": f.type, "description": f.description, "value": self.call.claim.get(f.name)}
            for f in initiate.claim
        }
        reminders = [r.model_dump(mode="json", exclude={"created_at"}) for r in self.call.reminders]
        return {
            "bot_name": initiate.bot_name,
            "bot_company": initiate.bot_company,
            "task": initiate.task,
            "claim": json.dumps(claim, ensure_ascii=False),
            "reminders": json.dumps(reminders, ensure_ascii=False),
            "date": self.now().strftime("%A %d %B %Y, %H:%M (%Z)"),
            "phone_number": self.call.caller_phone,
            "default_lang": self.call.initiate.lang.default_short_code,
            "lang": self.lang,
        }

    def phrase(self, name: str) -> str:
        return self.ports.prompts.phrase(name, self.lang, self.placeholders())

    async def save(self, mutate: Callable[[Call], Awaitable[None] | None]) -> Call:
        """Apply `mutate` to the stored call (retrying on concurrent writes) and keep the result."""
        self.call = await update_call(
            self.ports.store, self.call.call_id, mutate, caller_phone=self.call.caller_phone
        )
        return self.call

    async def add_message(self, message: Message) -> None:
        def _append(call: Call) -> None:
            call.messages.append(message.model_copy(deep=True))

        await self.save(_append)
