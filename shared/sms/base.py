"""The SMS port: text a phone number. Adapters: `acs.py` (Azure Communication Services, or the local
ACS simulator), `twilio.py` (Twilio REST API), and `OutboxSms` here (in-process, keeps messages in memory).

Failures come in three kinds, all `SmsError`: the base class itself means refused (retrying the same
message will not help); `SmsUnavailableError` means the service could not be reached or is overloaded
(the message was not accepted: retrying later is safe); `SmsOutcomeUnknownError` means the request
went out but no answer came back (the message may have been sent: retrying may send it twice).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from shared.models.call import utc_now

SEND_TIMEOUT_SEC = 30.0


class SmsError(RuntimeError):
    """The message was not accepted for delivery."""


class SmsUnavailableError(SmsError):
    """Transient: the service was unreachable, overloaded or failed; the message was not accepted."""


class SmsOutcomeUnknownError(SmsError):
    """The request was sent but the answer was lost (timeout, broken connection): maybe delivered."""


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

    async def close(self) -> None: ...


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

    async def close(self) -> None:
        return None
