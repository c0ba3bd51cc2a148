"""Recordings fetched with a plain HTTP GET (httpx), from allowed origins only.

Used against the local ACS simulator, whose `contentLocation` is a loopback http URL the Call Automation
SDK refuses. The origin check plays the part of the SDK's host allow-list: an Event Grid event cannot
make the function app fetch an arbitrary URL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from urllib.parse import urlsplit

import httpx

from shared.recordings.base import RecordingDownloadError

CHUNK_BYTES = 64 * 1024


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


class HttpRecordingDownloader:
    def __init__(self, allowed_origins: Iterable[str], *, timeout_sec: float = 30.0) -> None:
        self._allowed = {_origin(url) for url in allowed_origins}
        self._client = httpx.AsyncClient(timeout=timeout_sec, trust_env=False, follow_redirects=False)

    async def download(self, content_location: str) -> AsyncIterator[bytes]:
        if _origin(content_location) not in self._allowed:
            raise RecordingDownloadError(f"recording URL {content_location!r} is not on an allowed origin")
        try:
            async with self._client.stream("GET", content_location) as response:
                if response.status_code != httpx.codes.OK:
                    raise RecordingDownloadError(
                        f"recording {content_location} answered HTTP {response.status_code}"
                    )
                async for chunk in response.aiter_bytes(CHUNK_BYTES):
                    yield chunk
        except httpx.HTTPError as exc:
            raise RecordingDownloadError(f"recording {content_location} could not be fetched: {exc}") from exc

    async def close(self) -> None:
        await self._client.aclose()
