"""The SMS port. ACS and Twilio adapters come with the SMS work; `OutboxSms` keeps messages in memory."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from shared.models.call import utc_now


class SmsError(RuntimeError):
    """The message was not accepted for delivery."""


@dataclass(frozen=True)
class SmsReceipt:
    message_id: str
    to: str
    body: str
    at: datetime = field(default_factory=utc_now)


class SmsSender(Protocol):
    async def send(self, to: str, body: str) -> SmsReceipt:
        """Send `body` to the E.164 number `to`; raise SmsError when refused."""
        ...


class OutboxSms:
    """In-process adapter: every sent message lands in `outbox` (chat CLI, tests)."""

    def __init__(self) -> None:
        self.outbox: list[SmsReceipt] = []

    async def send(self, to: str, body: str) -> SmsReceipt:
        if not body.strip():
            raise SmsError("empty message")
        receipt = SmsReceipt(message_id=uuid.uuid4().hex, to=to, body=body)
        self.outbox.append(receipt)
        return receipt
