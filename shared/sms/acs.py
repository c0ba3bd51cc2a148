"""SMS over Azure Communication Services (`azure-communication-sms` aio client).

The same adapter drives the local ACS simulator: the endpoint and the key are passed separately (a
connection string would force https), so an `http://127.0.0.1` endpoint works. One recipient per send;
the service answers a result per recipient, and a recipient it refuses (`successful: false`) raises
`SmsError` with the service's `errorMessage`.
"""

from __future__ import annotations

from typing import Any, cast

from azure.communication.sms.aio import SmsClient
from azure.core.credentials import AzureKeyCredential
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import AzureError, HttpResponseError, ServiceRequestError

from shared.sms.base import (
    SEND_TIMEOUT_SEC,
    SmsError,
    SmsOutcomeUnknownError,
    SmsReceipt,
    SmsUnavailableError,
)

TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class AcsSms:
    def __init__(
        self,
        endpoint: str,
        access_key: str | None,
        from_number: str,
        *,
        credential: AsyncTokenCredential | None = None,
        timeout_sec: float = SEND_TIMEOUT_SEC,
    ) -> None:
        """`access_key` None: Entra ID (`credential`, or `DefaultAzureCredential`).

        The SDK does not retry (`retry_total=0`): a retried send after a lost answer could text twice;
        the callers decide (the post-call job retries only what surely was not sent).
        """
        options: dict[str, Any] = {
            "retry_total": 0,
            "connection_timeout": timeout_sec,
            "read_timeout": timeout_sec,
        }
        if access_key:
            self._client = SmsClient(endpoint, AzureKeyCredential(access_key), **options)
        else:
            if credential is None:
                from azure.identity.aio import DefaultAzureCredential  # noqa: PLC0415 (Entra ID only)

                credential = DefaultAzureCredential()
            self._client = SmsClient(endpoint, credential, **options)
        self._from = from_number

    async def send(self, to: str, body: str) -> SmsReceipt:
        if not body.strip():
            raise SmsError("empty message")
        try:
            # the SDK's type comments confuse mypy (`self: str`): call it through Any
            results = await cast(Any, self._client).send(from_=self._from, to=[to], message=body)
        except ServiceRequestError as exc:  # the request never reached the service
            raise SmsUnavailableError(f"ACS SMS unreachable: {exc}") from exc
        except HttpResponseError as exc:
            if exc.status_code in TRANSIENT_STATUSES:
                raise SmsUnavailableError(f"ACS SMS answered {exc.status_code}: {exc.message}") from exc
            raise SmsError(f"ACS SMS refused the request ({exc.status_code}): {exc.message}") from exc
        except AzureError as exc:  # ServiceResponseError and the like: sent, answer lost
            raise SmsOutcomeUnknownError(f"ACS SMS: no answer ({exc})") from exc
        result = next((r for r in results if r.to == to), results[0] if results else None)
        if result is None:
            raise SmsOutcomeUnknownError("ACS SMS answered no result for the recipient")
        if not result.successful:
            status = result.http_status_code
            reason = result.error_message or f"HTTP {status}"
            if status in TRANSIENT_STATUSES:
                raise SmsUnavailableError(f"ACS SMS did not accept the message for {to}: {reason}")
            raise SmsError(f"ACS SMS refused the message for {to}: {reason}")
        return SmsReceipt(message_id=str(result.message_id), to=to, body=body)

    async def close(self) -> None:
        await self._client.close()
