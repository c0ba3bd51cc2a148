"""The telephony port: place, answer and act on phone calls.

Adapters: `acs.py` (Azure Communication Services Call Automation, also used against the local ACS
simulator) and `RecordingTelephony` below (in-process: records each action; chat CLI and tests).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from uuid import UUID

from shared.models import Call
from shared.models.call import utc_now


class TelephonyError(RuntimeError):
    """The telephony service refused or failed the action (`status_code`: the service's HTTP status)."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code

    @property
    def final(self) -> bool:
        """A refusal that a retry would meet again (4xx but timeouts and throttling)."""
        return (
            self.status_code is not None
            and 400 <= self.status_code < 500
            and self.status_code not in (408, 429)
        )


@dataclass(frozen=True)
class CallRoute:
    """Where the telephony service sends one call's events and media."""

    callback_url: str
    media_url: str


@dataclass(frozen=True)
class CallLeg:
    """The telephony service's identifiers for a connected call."""

    call_connection_id: str
    server_call_id: str | None = None
    correlation_id: str | None = None


class Telephony(Protocol):
    async def answer(self, incoming_call_context: str, route: CallRoute) -> CallLeg: ...

    async def create(self, target_phone: str, source_phone: str, route: CallRoute) -> CallLeg: ...

    async def hang_up(self, call: Call) -> None: ...

    async def transfer(self, call: Call, target_phone: str) -> None:
        """Ask for a transfer of the caller to `target_phone` (E.164); the outcome arrives as an event."""
        ...

    async def play_text(
        self,
        call: Call,
        text: str,
        *,
        lang: str,
        voice: str | None = None,
        operation_context: str | None = None,
    ) -> None:
        """Call Automation's own text-to-speech (needs Azure AI services connected to ACS): only where
        no media stream exists; the media host speaks otherwise."""
        ...

    async def start_recording(self, call: Call, *, state_callback_url: str | None = None) -> str: ...

    async def stop_recording(self, recording_id: str) -> None: ...

    async def start_media_streaming(self, call: Call) -> None:
        """Stream the call's audio to the media host again (after the stream dropped)."""
        ...

    async def connection_state(self, call: Call) -> str | None:
        """The call connection's state as the service knows it ("connected", "disconnected", ...), or None
        when the service no longer knows the connection (the call is over)."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class TelephonyAction:
    call_id: UUID | None
    kind: str
    target: str | None = None
    at: datetime = field(default_factory=utc_now)


class RecordingTelephony:
    """In-process adapter: records each action. `fail_transfers` simulates a refused transfer."""

    def __init__(self, *, fail_transfers: bool = False) -> None:
        self.actions: list[TelephonyAction] = []
        self._fail_transfers = fail_transfers

    async def answer(self, incoming_call_context: str, route: CallRoute) -> CallLeg:
        self.actions.append(TelephonyAction(None, "answer", route.callback_url))
        return CallLeg(call_connection_id=uuid.uuid4().hex)

    async def create(self, target_phone: str, source_phone: str, route: CallRoute) -> CallLeg:
        self.actions.append(TelephonyAction(None, "create", target_phone))
        return CallLeg(call_connection_id=uuid.uuid4().hex)

    async def hang_up(self, call: Call) -> None:
        self.actions.append(TelephonyAction(call.call_id, "hang_up"))

    async def transfer(self, call: Call, target_phone: str) -> None:
        if self._fail_transfers:
            raise TelephonyError(f"transfer to {target_phone} refused")
        self.actions.append(TelephonyAction(call.call_id, "transfer", target_phone))

    async def play_text(
        self,
        call: Call,
        text: str,
        *,
        lang: str,
        voice: str | None = None,
        operation_context: str | None = None,
    ) -> None:
        self.actions.append(TelephonyAction(call.call_id, "play", text))

    async def start_recording(self, call: Call, *, state_callback_url: str | None = None) -> str:
        self.actions.append(TelephonyAction(call.call_id, "start_recording"))
        return uuid.uuid4().hex

    async def stop_recording(self, recording_id: str) -> None:
        self.actions.append(TelephonyAction(None, "stop_recording", recording_id))

    async def start_media_streaming(self, call: Call) -> None:
        self.actions.append(TelephonyAction(call.call_id, "start_media_streaming"))

    async def connection_state(self, call: Call) -> str | None:
        ended = any(a.call_id == call.call_id and a.kind == "hang_up" for a in self.actions)
        return None if ended or not call.connection.call_connection_id else "connected"

    async def close(self) -> None:
        return None
