"""Per-call conversation state: the call document, the ports the tools act through, and the flags."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import phonenumbers

from shared.claim.values import ParseContext
from shared.flags.base import FeatureFlags
from shared.models import Call, Message
from shared.prompts import Prompts, fill
from shared.search.base import DocumentSearch, RetrievalPolicy
from shared.settings import ConversationSettings
from shared.sms.base import SmsSender
from shared.store.base import CallNotFoundError, CallStore, StoreError, update_call
from shared.telephony.base import Telephony
from shared.translation.phrases import PhraseBook

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConversationPorts:
    """What a conversation acts through; shared by every call of a process."""

    store: CallStore
    telephony: Telephony
    sms: SmsSender
    search: DocumentSearch
    prompts: Prompts
    retrieval: RetrievalPolicy = field(default_factory=RetrievalPolicy)
    phrases: PhraseBook | None = None  # the phrases in any language (translated); None: the prompts file's


@dataclass
class CallOutcome:
    """What the tools decided for the call during the current turn."""

    hang_up: bool = False
    transferred: bool = False
    leaving: bool = False  # a hang-up or transfer was requested: the turn asking for it must get stored


@dataclass
class FormState:
    """Where the form-filling agent is in its dialog (rebuilt from the claim after a restart)."""

    asking: str | None = None
    last_prompt: str | None = None
    attempts: int = 0
    last_noted: str | None = None
    confirming: str | None = None  # a value read back with "is that right?", not answered yet
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
    unsaved: list[Callable[[Call], Awaitable[None] | None]] = field(default_factory=list)  # see save()
    _writing: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False, compare=False)  # see flush()
    said: dict[str, str] = field(default_factory=dict)  # the variant last said of each phrase

    async def heard(self) -> None:
        """Wait until everything spoken so far reached the caller (before hanging up, transferring or
        texting; the media host also waits until the caller's turn can no longer be continued)."""
        if self.drain is not None:
            await self.drain()

    @property
    def lang(self) -> str:
        return self.call.current_lang

    def now(self) -> datetime:
        zone = ZoneInfo(self.settings.timezone)
        return self.clock().astimezone(zone) if self.clock else datetime.now(zone)

    def phone_region(self) -> str:
        """Where a national phone number said by the caller belongs: the region of the caller's own
        number, else the call's language ("en-US" → US), else the setting."""
        try:
            region = phonenumbers.region_code_for_number(phonenumbers.parse(self.call.caller_phone, None))
        except phonenumbers.NumberParseException:
            region = None
        if region and region in phonenumbers.SUPPORTED_REGIONS:
            return str(region)
        country = self.lang.rpartition("-")[2].upper()
        return country if country in phonenumbers.SUPPORTED_REGIONS else self.settings.default_region

    def parse_context(self) -> ParseContext:
        return ParseContext(
            now=self.now(), timezone=self.settings.timezone, default_region=self.phone_region()
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

    def phrase(self, name: str, **values: object) -> str:
        """One variant of a spoken phrase in the call's language, filled; never the variant said last
        time, so a repeated step does not sound scripted."""
        source = self.ports.phrases or self.ports.prompts
        choices = list(source.phrase_choices(name, self.lang))
        fresh = [choice for choice in choices if choice != self.said.get(name)] or choices
        choice = random.choice(fresh)  # noqa: S311 (wording variety, not security)
        self.said[name] = choice
        return fill(choice, {**self.placeholders(), **values})

    def translated(self, english: str) -> str | None:
        """A text of this call (a field's English label) in the call's language, when the phrase
        book translated it (a language without a phrase list); else None."""
        phrases = self.ports.phrases
        return phrases.text(english, self.lang) if phrases is not None else None

    async def save(self, mutate: Callable[[Call], Awaitable[None] | None]) -> Call:
        """Apply `mutate` to the stored call (retrying on concurrent writes) and keep the result.

        When the store cannot take the write (locked or unreachable past `update_call`'s retries), the
        change is applied to `self.call` in memory, so the conversation goes on with it, and kept in
        `unsaved`: the next save, or `flush()`, writes every kept change in order. A caller's words and
        claim values are never dropped because the store was busy."""
        self.unsaved.append(mutate)
        if not await self.flush():
            outcome = mutate(self.call)
            if outcome is not None:
                await outcome
        return self.call

    async def flush(self) -> bool:
        """Write the changes kept in memory; False (logged) while the store still cannot take them.
        One write at a time: a save made while another is being written waits for it, so no change
        is applied twice (the first write still holds it in `unsaved` until it is stored)."""
        async with self._writing:
            return await self._write_unsaved()

    async def _write_unsaved(self) -> bool:
        if not self.unsaved:
            return True
        pending = list(self.unsaved)

        async def apply_all(call: Call) -> None:
            for mutate in pending:
                outcome = mutate(call)
                if outcome is not None:
                    await outcome

        try:
            stored = await update_call(  # no waiting on a busy store: the next save tries again
                self.ports.store,
                self.call.call_id,
                apply_all,
                caller_phone=self.call.caller_phone,
                unavailable_retries=0,
            )
        except CallNotFoundError:
            raise
        except StoreError as exc:
            log.warning(
                "call %s: %d change(s) kept in memory, store busy: %s", self.call.call_id, len(pending), exc
            )
            return False
        del self.unsaved[: len(pending)]
        self.call = stored
        return True

    async def store_kept(self, delays: tuple[float, ...] = (0.0, 1.0, 2.0, 4.0)) -> None:
        """At the end of a call: write the changes the store could not take during it (it was locked),
        trying again after each of `delays` seconds; what is still kept then is logged as lost."""
        for delay in delays:
            await asyncio.sleep(delay)
            try:
                if await self.flush():
                    return
            except StoreError as exc:
                log.error("call %s: kept changes not stored: %s", self.call.call_id, exc)
                return
        log.error("call %s: %d change(s) could not be stored", self.call.call_id, len(self.unsaved))

    async def key_pressed(self, tone: str) -> None:
        """A phone key chooses the language (1 = first available, 2 = second...) when several are
        offered; other keys do nothing."""
        code = self.call.language_for_key(tone)
        if code is not None:

            def _set(call: Call) -> None:
                call.lang_short_code = code

            await self.save(_set)

    async def add_message(self, message: Message) -> None:
        def _append(call: Call) -> None:
            call.messages.append(message.model_copy(deep=True))

        await self.save(_append)
