"""Recordings fetched with the Call Automation SDK (`CallAutomationClient.download_recording`).

The SDK signs the request with the resource's credentials and refuses URLs that are not https on an
ACS recording host. Its async `download_recording` returns the HTTP response rather than the
documented async iterable (SDK issue #42835): both shapes are read.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from azure.communication.callautomation.aio import CallAutomationClient
from azure.core.credentials import AzureKeyCredential
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import AzureError

from shared.recordings.base import RecordingDownloadError


class AcsRecordingDownloader:
    def __init__(
        self,
        endpoint: str,
        *,
        access_key: str | None = None,
        credential: AsyncTokenCredential | None = None,
        client: Any = None,
    ) -> None:
        """`client`: an already built CallAutomationClient (tests pass a double)."""
        self._credential: AsyncTokenCredential | None = None
        if client is not None:
            self._client = client
        elif access_key:
            self._client = CallAutomationClient(endpoint, AzureKeyCredential(access_key))
        else:
            if credential is None:
                from azure.identity.aio import DefaultAzureCredential  # noqa: PLC0415 (Entra ID only)

                credential = self._credential = DefaultAzureCredential()
            self._client = CallAutomationClient(endpoint, credential)

    async def download(self, content_location: str) -> AsyncIterator[bytes]:
        try:
            result = await self._client.download_recording(content_location)
            stream: AsyncIterable[bytes] = result.iter_bytes() if hasattr(result, "iter_bytes") else result
            async for chunk in stream:
                yield chunk
        except (AzureError, ValueError, TypeError) as exc:  # the SDK raises ValueError for refused URLs
            raise RecordingDownloadError(f"recording {content_location} could not be fetched: {exc}") from exc

    async def close(self) -> None:
        await self._client.close()
        if self._credential is not None:
            await self._credential.close()
