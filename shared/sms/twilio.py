"""SMS over Twilio's REST API (httpx), and the check of Twilio's webhook signatures.

Send: `POST {base_url}/2010-04-01/Accounts/{sid}/Messages.json`, form fields `To`, `From`, `Body`,
HTTP basic auth (account SID, auth token); 201 with the message `sid`. Errors answer
`{"code", "message", "status"}`.

Inbound webhooks carry `X-Twilio-Signature`: base64 of HMAC-SHA1, keyed with the auth token, over the
full URL Twilio requested followed by every POST parameter as name + value, sorted by name.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from shared.sms.base import (
    SEND_TIMEOUT_SEC,
    SmsError,
    SmsOutcomeUnknownError,
    SmsReceipt,
    SmsUnavailableError,
)

TWILIO_API_URL = "https://api.twilio.com"
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)

ParamValue = str | Iterable[str]


def twilio_signature_valid(
    auth_token: str, url: str, params: Mapping[str, ParamValue], signature: str | None
) -> bool:
    """True when `signature` (the `X-Twilio-Signature` header) signs `url` + `params` with the token."""
    if not signature or not auth_token:
        return False
    data = url
    for name in sorted(params):
        value = params[name]
        values = [value] if isinstance(value, str) else sorted(value)
        data += "".join(name + item for item in values)
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    expected = base64.b64encode(digest).decode()
    return hmac.compare_digest(expected.encode(), signature.strip().encode())


def _error_text(response: httpx.Response) -> str:
    try:
        payload: Any = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(payload, dict):
        code, message = payload.get("code"), payload.get("message")
        return f"{message or response.reason_phrase}" + (f" (Twilio code {code})" if code else "")
    return response.reason_phrase


class TwilioSms:
    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        *,
        base_url: str = TWILIO_API_URL,
        timeout_sec: float = SEND_TIMEOUT_SEC,
    ) -> None:
        self._sid = account_sid
        self._from = from_number
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), auth=(account_sid, auth_token), timeout=timeout_sec
        )

    async def send(self, to: str, body: str) -> SmsReceipt:
        if not body.strip():
            raise SmsError("empty message")
        path = f"/2010-04-01/Accounts/{self._sid}/Messages.json"
        try:
            response = await self._client.post(path, data={"To": to, "From": self._from, "Body": body})
        except _NOT_SENT as exc:
            raise SmsUnavailableError(f"Twilio unreachable: {exc!r}") from exc
        except httpx.HTTPError as exc:  # read timeout, broken connection: sent, answer lost
            raise SmsOutcomeUnknownError(f"Twilio: no answer ({exc!r})") from exc
        if response.status_code in TRANSIENT_STATUSES:
            raise SmsUnavailableError(f"Twilio answered {response.status_code}: {_error_text(response)}")
        if response.status_code >= 400:
            raise SmsError(f"Twilio refused the message for {to}: {_error_text(response)}")
        try:
            payload = response.json()
        except ValueError as exc:
            raise SmsOutcomeUnknownError(f"Twilio answered {response.status_code} without JSON") from exc
        if not isinstance(payload, dict) or not payload.get("sid"):
            raise SmsOutcomeUnknownError(f"Twilio answered {response.status_code} without a message sid")
        if payload.get("status") == "failed" or payload.get("error_code"):
            raise SmsError(f"Twilio refused the message for {to}: {payload.get('error_message') or 'failed'}")
        return SmsReceipt(message_id=str(payload["sid"]), to=to, body=body)

    async def close(self) -> None:
        await self._client.aclose()
