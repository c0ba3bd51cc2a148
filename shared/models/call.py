"""The call document: one JSON document per call, partitioned by the caller's phone number."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID, uuid4

import phonenumbers
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from shared.claim.schema import DEFAULT_CLAIM_SCHEMA, ClaimField, ClaimSchema

MAX_MESSAGE_CHARS = 20_000
MAX_CALLBACK_ATTEMPTS = 3  # dial attempts of one reminder's call-back before giving up


def utc_now() -> datetime:
    return datetime.now(UTC)


def check_e164(value: str) -> str:
    """A phone number already in E.164 form (`+` and digits, a possible number for its country)."""
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{value!r} is not an E.164 phone number such as +33612345678") from exc
    formatted = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if formatted != value or not phonenumbers.is_possible_number(parsed):
        raise ValueError(f"{value!r} is not an E.164 phone number such as +33612345678")
    return value


def normalise_e164(value: str) -> str:
    """A number as telephony events spell it, in E.164: ACS sends some without the `+` (`14255550123`),
    some with spaces or dashes. ValueError when it is no international number."""
    compact = "".join(ch for ch in value.strip() if ch not in " -().")
    if compact.startswith("00"):
        compact = compact[2:]
    if compact and compact.isdigit():
        compact = "+" + compact
    return check_e164(compact)


E164 = Annotated[str, AfterValidator(check_e164)]
ShortCode = Annotated[str, Field(pattern=r"^[a-z]{2,3}-[A-Z]{2}$", examples=["en-US", "fr-FR"])]


class CallDirection(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class CallState(StrEnum):
    CREATED = "created"
    CONNECTED = "connected"
    TRANSFERRING = "transferring"
    DISCONNECTED = "disconnected"


class Persona(StrEnum):
    HUMAN = "human"
    ASSISTANT = "assistant"
    TOOL = "tool"


class MessageAction(StrEnum):
    TALK = "talk"
    CALL = "call"
    HANGUP = "hangup"
    SMS = "sms"
    TRANSFER = "transfer"


class MessageStyle(StrEnum):
    NONE = "none"
    CHEERFUL = "cheerful"
    SAD = "sad"


class ReminderOwner(StrEnum):
    ASSISTANT = "assistant"
    CUSTOMER = "customer"
    AGENT = "agent"


class AgentKind(StrEnum):
    """Who drives the conversation: the LLM agent, or the form-filling agent (offline or fallback)."""

    LLM = "llm"
    FORM = "form"


class Satisfaction(StrEnum):
    UNKNOWN = "unknown"
    TERRIBLE = "terrible"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class NextActionKind(StrEnum):
    CASE_CLOSED = "case_closed"
    COMMERCIAL_OFFER = "commercial_offer"
    CUSTOMER_WILL_SEND_INFO = "customer_will_send_info"
    REQUIRES_EXPERTISE = "requires_expertise"
    REQUIRES_HUMAN_AGENT = "requires_human_agent"


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Language(_Part):
    short_code: ShortCode
    voice: str = Field(min_length=1, max_length=100)
    pronunciations_en: list[Annotated[str, Field(max_length=50)]] = Field(default_factory=list, max_length=10)


DEFAULT_LANGUAGES = [
    Language(short_code="en-US", voice="en-US-AvaMultilingualNeural", pronunciations_en=["English"]),
    Language(short_code="fr-FR", voice="fr-FR-DeniseNeural", pronunciations_en=["French", "Français"]),
]


class LanguageSettings(_Part):
    default_short_code: ShortCode = "en-US"
    availables: list[Language] = Field(
        default_factory=lambda: [lang.model_copy() for lang in DEFAULT_LANGUAGES], min_length=1, max_length=10
    )

    @field_validator("availables")
    @classmethod
    def _unique_codes(cls, value: list[Language]) -> list[Language]:
        codes = [lang.short_code for lang in value]
        if len(set(codes)) != len(codes):
            raise ValueError("each language short_code must appear once")
        return value


class CallInitiate(_Part):
    """What the company asked for: who the bot is, its task and the claim to fill."""

    bot_company: str = Field(default="Contoso", min_length=1, max_length=100)
    bot_name: str = Field(default="Amélie", min_length=1, max_length=50)
    task: str = Field(
        default=(
            "Help the customer with their insurance claim: gather what happened, when and where, "
            "and how to reach them."
        ),
        min_length=1,
        max_length=4000,
    )
    agent_phone_number: E164 | None = None
    lang: LanguageSettings = Field(default_factory=LanguageSettings)
    claim: list[ClaimField] = Field(
        default_factory=lambda: [field.model_copy() for field in DEFAULT_CLAIM_SCHEMA.root], max_length=20
    )

    @field_validator("claim")
    @classmethod
    def _valid_schema(cls, value: list[ClaimField]) -> list[ClaimField]:
        return list(ClaimSchema.model_validate(value).root)  # unique names, bounded count, reserved names

    @property
    def claim_schema(self) -> ClaimSchema:
        return ClaimSchema.model_validate(self.claim)


class CallConnection(_Part):
    media_restarts: int = Field(default=0, ge=0, description="media streams started again after a drop")
    call_connection_id: str | None = None
    server_call_id: str | None = None
    correlation_id: str | None = None
    state: CallState = CallState.CREATED
    media_streaming: bool = Field(default=False, description="ACS streams the call's audio to the media host")
    farewell: str | None = Field(
        default=None,
        max_length=2_000,
        description="words the media host says on the live call, then hangs up (a failed transfer's apology)",
    )
    trace_parent: str | None = Field(
        default=None,
        max_length=64,
        description="W3C traceparent of the span that answered or placed the call (telemetry links to it)",
    )


class ToolCall(_Part):
    id: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=100)
    arguments: str = Field(default="{}", max_length=MAX_MESSAGE_CHARS, description="JSON text")
    result: str | None = Field(default=None, max_length=MAX_MESSAGE_CHARS)


class Message(_Part):
    created_at: datetime = Field(default_factory=utc_now)
    persona: Persona
    action: MessageAction = MessageAction.TALK
    content: str = Field(default="", max_length=MAX_MESSAGE_CHARS)
    style: MessageStyle = MessageStyle.NONE
    lang_short_code: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)


class Reminder(_Part):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    due_date_time: datetime
    owner: ReminderOwner = ReminderOwner.ASSISTANT
    created_at: datetime = Field(default_factory=utc_now)
    callback_placed_at: datetime | None = Field(
        default=None, description="set (before dialing) when the call-back of this reminder was placed"
    )
    callback_call_id: UUID | None = Field(default=None, description="the call-back call")
    callback_attempts: int = Field(default=0, ge=0, description="call-backs dialed, failed ones included")

    @field_validator("due_date_time", "created_at", "callback_placed_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)

    def awaits_callback(self) -> bool:
        """An assistant reminder with no call-back placed yet, and attempts left (due or not)."""
        return (
            self.owner is ReminderOwner.ASSISTANT
            and self.callback_placed_at is None
            and self.callback_attempts < MAX_CALLBACK_ATTEMPTS
        )


class Synthesis(_Part):
    short: str = Field(max_length=500)
    long: str = Field(max_length=5000)
    satisfaction: Satisfaction = Satisfaction.UNKNOWN
    improvement_suggestions: str = Field(default="", max_length=5000)


class NextAction(_Part):
    action: NextActionKind
    justification: str = Field(max_length=2000)


class TurnLatency(_Part):
    """One conversational turn, times in milliseconds after the end of the caller's speech."""

    started_at: datetime = Field(default_factory=utc_now)
    end_of_turn_ms: float | None = Field(
        default=None, description="the silence waited before the turn was ended (the caller hears it too)"
    )
    stt_final_ms: float | None = None
    llm_first_token_ms: float | None = None
    first_sentence_ms: float | None = None
    tts_first_audio_ms: float | None = None
    first_frame_out_ms: float | None = None


class CallSecrets(_Part):
    """Per-call secrets carried in the callback and media URLs; never shown by the API."""

    callback: str | None = None
    media: str | None = None


_KEY_NAMES = {
    name: str(digit)
    for digit, name in enumerate(("one", "two", "three", "four", "five", "six", "seven", "eight", "nine"), 1)
}


class Call(_Part):
    call_id: UUID = Field(default_factory=uuid4)
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)
    direction: CallDirection = CallDirection.OUTBOUND
    caller_phone: E164
    bot_phone: E164 | None = None
    initiate: CallInitiate = Field(default_factory=CallInitiate)
    lang_short_code: str | None = None
    agent: AgentKind | None = Field(default=None, description="set when the conversation starts")
    agent_fallback_reason: str | None = None
    voice_speed: float = Field(default=1.0, ge=0.5, le=2.0)
    connection: CallConnection = Field(default_factory=CallConnection)
    claim: dict[str, str | None] = Field(default_factory=dict)
    archived_claims: list[dict[str, str | None]] = Field(default_factory=list)
    messages: list[Message] = Field(default_factory=list)
    reminders: list[Reminder] = Field(default_factory=list)
    synthesis: Synthesis | None = None
    next: NextAction | None = None
    recording_id: str | None = None
    recording_url: str | None = None
    previous_call_id: UUID | None = Field(default=None, description="the call this one resumes")
    resumed_by_call_id: UUID | None = Field(
        default=None, description="the later call that took this conversation over (and its reminders)"
    )
    recording_stopped_at: datetime | None = None
    post_call_enqueued_at: datetime | None = None
    post_call_requeued: int = Field(
        default=0, ge=0, description="post-call jobs enqueued again (none finished)"
    )
    summary_sms_sent_at: datetime | None = Field(default=None, description="the post-call SMS went out")
    summary_sms_error: str | None = Field(
        default=None, max_length=2000, description="why the post-call SMS was not sent, or may not have been"
    )
    post_call_done_at: datetime | None = Field(default=None, description="the post-call job finished")
    secrets: CallSecrets = Field(default_factory=CallSecrets)
    turns: list[TurnLatency] = Field(default_factory=list)
    messages_trimmed: int = Field(
        default=0, ge=0, description="oldest messages removed to keep the document under its size limit"
    )
    etag: str | None = Field(default=None, description="set by the store; stale etags are refused")

    @field_validator("created_at", "updated_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    @property
    def current_lang(self) -> str:
        return self.lang_short_code or self.initiate.lang.default_short_code

    def language_for_key(self, key: str) -> str | None:
        """The language a phone key chooses when several are offered: 1 for the first available, 2 for
        the second... A key may be named as Call Automation reports tones ("one"). None for any other
        key, or when there is only one language."""
        digit = _KEY_NAMES.get(key.strip().lower(), key.strip())
        languages = self.initiate.lang.availables
        if len(languages) < 2 or len(digit) != 1 or digit not in "123456789" or int(digit) > len(languages):
            return None
        return languages[int(digit) - 1].short_code

    def touch(self) -> None:
        self.updated_at = utc_now()

    def upsert_reminder(self, reminder: Reminder) -> bool:
        """Add the reminder, or replace the one with the same title. True when it was new."""
        for index, existing in enumerate(self.reminders):
            if existing.title.casefold() == reminder.title.casefold():
                self.reminders[index] = reminder
                return False
        self.reminders.append(reminder)
        return True

    def due_callback_reminders(self, now: datetime) -> list[Reminder]:
        """Reminders awaiting a call-back and due at `now`, oldest first (none once the call was resumed)."""
        if self.resumed_by_call_id is not None:
            return []
        due = [r for r in self.reminders if r.awaits_callback() and r.due_date_time <= now]
        return sorted(due, key=lambda r: r.due_date_time)

    def next_callback_due(self) -> datetime | None:
        """When the earliest reminder awaiting a call-back is due (what the stores index)."""
        if self.resumed_by_call_id is not None:
            return None
        return min((r.due_date_time for r in self.reminders if r.awaits_callback()), default=None)

    def public(self) -> dict[str, object]:
        """The call as the API shows it: no secrets, no etag."""
        return self.model_dump(mode="json", exclude={"etag", "secrets"})

    def document(self) -> dict[str, object]:
        """The JSON-ready document the stores persist (without the store-managed etag)."""
        return self.model_dump(mode="json", exclude={"etag"})
