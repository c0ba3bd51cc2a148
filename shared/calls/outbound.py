"""Place a call on request (`POST /api/call`): validate, store, ask the telephony service to dial."""

from __future__ import annotations

import logging
import unicodedata

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.claim.schema import ClaimSchema
from shared.composition import Services
from shared.models import Call, CallDirection, CallInitiate, LanguageSettings
from shared.models.call import E164
from shared.store.base import update_call
from shared.telemetry import names, spans
from shared.telephony.base import TelephonyError

from .routing import call_route, with_new_secrets

log = logging.getLogger(__name__)


class CallRequest(BaseModel):
    """The body of `POST /api/call`."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    phone_number: E164 = Field(description="who to call, E.164")
    bot_company: str = Field(min_length=1, max_length=100)
    bot_name: str = Field(min_length=1, max_length=50)
    task: str = Field(min_length=1, max_length=4000)
    agent_phone_number: E164 | None = Field(default=None, description="human agent for transfers, E.164")
    claim: ClaimSchema | None = Field(default=None, description="claim schema: [{name, type, description}]")
    lang: LanguageSettings | None = None

    @field_validator("bot_company", "bot_name")
    @classmethod
    def _one_line(cls, value: str) -> str:
        """Names are spoken and shown: a control character (NUL, line feed...) breaks the speech."""
        if any(unicodedata.category(char) in ("Cc", "Cs") for char in value):
            raise ValueError("must not contain control characters")
        return value

    @field_validator("task")
    @classmethod
    def _text(cls, value: str) -> str:
        if any(unicodedata.category(char) in ("Cc", "Cs") and char not in "\n\t" for char in value):
            raise ValueError("must not contain control characters other than line feeds and tabs")
        return value

    def to_call(self, bot_phone: str) -> Call:
        initiate = CallInitiate.model_validate(
            {
                "bot_company": self.bot_company,
                "bot_name": self.bot_name,
                "task": self.task,
                "agent_phone_number": self.agent_phone_number,
                **({"claim": list(self.claim.root)} if self.claim is not None else {}),
                **({"lang": self.lang} if self.lang is not None else {}),
            }
        )
        return Call(
            caller_phone=self.phone_number,
            bot_phone=bot_phone,
            direction=CallDirection.OUTBOUND,
            initiate=initiate,
        )


class CallPlacementError(RuntimeError):
    """The telephony service refused to place the call; nothing was kept."""


async def place_call(services: Services, request: CallRequest) -> Call:
    """Store the call, then dial. If dialing fails the call document is removed: no half-made calls.
    ValueError (nothing stored) when asked to call the bot's own number."""
    if request.phone_number == services.settings.acs.phone_number:
        raise ValueError("phone_number: the bot cannot call its own number")
    return await dial(services, with_new_secrets(request.to_call(services.settings.acs.phone_number)))


async def dial(services: Services, call: Call) -> Call:
    """Store a new outbound call (with its secrets), then dial it; CallPlacementError if dialing failed,
    and then the document is removed."""
    with spans.call_part(names.SPAN_PLACE, call, new_trace=False):
        call.connection.trace_parent = spans.traceparent()  # the call's later parts link to this span
        placed = await _dial(services, call)
        log.info("call placed (%s)", placed.connection.correlation_id or "no correlation id")
    return placed


async def _dial(services: Services, call: Call) -> Call:
    settings = services.settings
    call = await services.store.create(call)
    try:
        leg = await services.telephony.create(
            call.caller_phone, settings.acs.phone_number, call_route(settings, call)
        )
    except TelephonyError as exc:
        await services.store.delete(call.call_id, caller_phone=call.caller_phone)
        raise CallPlacementError(str(exc)) from exc

    def _connect(stored: Call) -> None:
        stored.connection.call_connection_id = leg.call_connection_id
        stored.connection.server_call_id = leg.server_call_id
        stored.connection.correlation_id = leg.correlation_id

    return await update_call(services.store, call.call_id, _connect, caller_phone=call.caller_phone)
