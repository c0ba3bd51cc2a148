"""The telephony port. The ACS adapter comes with the telephony work; `RecordingTelephony` records."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from uuid import UUID

from shared.models.call import utc_now


class TelephonyError(RuntimeError):
    """The telephony service refused or failed the action."""


class Telephony(Protocol):
    async def hang_up(self, call_id: UUID) -> None: ...

    async def transfer(self, call_id: UUID, target_phone: str) -> None:
        """Transfer the caller to `target_phone` (E.164); raise TelephonyError if it cannot."""
        ...


@dataclass(frozen=True)
class TelephonyAction:
    call_id: UUID
    kind: str
    target: str | None = None
    at: datetime = field(default_factory=utc_now)


class RecordingTelephony:
    """In-process adapter: records each action (chat CLI, tests). `fail_transfers` simulates refusals."""

    def __init__(self, *, fail_transfers: bool = False) -> None:
        self.actions: list[TelephonyAction] = []
        self._fail_transfers = fail_transfers

    async def hang_up(self, call_id: UUID) -> None:
        self.actions.append(TelephonyAction(call_id, "hang_up"))

    async def transfer(self, call_id: UUID, target_phone: str) -> None:
        if self._fail_transfers:
            raise TelephonyError(f"transfer to {target_phone} refused")
        self.actions.append(TelephonyAction(call_id, "transfer", target_phone))
