"""SMS: the outbox of `POST /sms` (azure-communication-sms `send`) and inbound texts.

Send answers 202 `{"value": [{"to", "messageId", "httpStatusCode", "repeatabilityResult", "successful",
"errorMessage"}]}`, one item per recipient (a recipient that is not E.164 fails with 400), and stores
each message in the outbox; with `enableDeliveryReport` an Event Grid
`Microsoft.Communication.SMSDeliveryReportReceived` follows. An inbound text is an Event Grid
`Microsoft.Communication.SMSReceived` `{messageId, from, to, message, receivedTimestamp}`.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from local.acs_simulator.errors import bad_request, require_str
from local.acs_simulator.state import E164, SmsMessage, iso

if TYPE_CHECKING:
    from local.acs_simulator.switchboard import Switchboard

__all__ = ["MAX_SMS_CHARS", "SmsCenter"]

MAX_SMS_CHARS = 2048


class SmsCenter:
    def __init__(self, board: Switchboard) -> None:
        self.board = board
        self.outbox: list[SmsMessage] = []
        self.inbox: list[SmsMessage] = []

    def send(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        sender = require_str(body, "from")
        message = body.get("message")
        if not isinstance(message, str) or len(message) > MAX_SMS_CHARS:
            raise bad_request(f"'message' must be a string of at most {MAX_SMS_CHARS} characters.")
        recipients = body.get("smsRecipients")
        if not isinstance(recipients, list) or not recipients:
            raise bad_request("'smsRecipients' must be a non-empty list.")
        raw_options = body.get("smsSendOptions")
        options: dict[str, Any] = raw_options if isinstance(raw_options, dict) else {}
        report, tag = bool(options.get("enableDeliveryReport")), options.get("tag")
        results = []
        for recipient in recipients:
            to = require_str(recipient if isinstance(recipient, dict) else {}, "to")
            ok = bool(E164.match(to))
            sms = SmsMessage(
                message_id=f"Outgoing_{uuid.uuid4().hex}_noam",
                from_number=sender,
                to_number=to,
                message=message,
                direction="outbound",
                successful=ok,
                error_message=None if ok else "Invalid To phone number format.",
                tag=tag if isinstance(tag, str) else None,
                delivery_report=report,
            )
            self.outbox.append(sms)
            results.append(
                {
                    "to": to,
                    "messageId": sms.message_id if ok else None,
                    "httpStatusCode": 202 if ok else 400,
                    "repeatabilityResult": "accepted",
                    "successful": ok,
                    "errorMessage": sms.error_message,
                }
            )
            if ok and report:
                self._delivery_report(sms)
        return results

    def _delivery_report(self, sms: SmsMessage) -> None:
        now = iso(sms.created_at)
        data = {
            "messageId": sms.message_id,
            "from": sms.from_number,
            "to": sms.to_number,
            "deliveryStatus": "Delivered",
            "deliveryStatusDetails": "No error.",
            "receivedTimestamp": now,
            "deliveryAttempts": [{"timestamp": now, "segmentsSucceeded": 1, "segmentsFailed": 0}],
            "tag": sms.tag,
        }
        self.board.event_grid("SMSDeliveryReportReceived", f"/phonenumber/{sms.from_number}", data)

    def receive(self, from_number: str, to_number: str, message: str) -> SmsMessage:
        """A text from a phone to the bot's number: an SMSReceived Event Grid notification."""
        sms = SmsMessage(
            message_id=f"Incoming_{uuid.uuid4().hex}",
            from_number=from_number,
            to_number=to_number,
            message=message,
            direction="inbound",
        )
        self.inbox.append(sms)
        data = {
            "messageId": sms.message_id,
            "from": from_number,
            "to": to_number,
            "message": message,
            "receivedTimestamp": iso(sms.created_at),
        }
        self.board.event_grid("SMSReceived", f"/phonenumber/{to_number}", data)
        return sms
