"""The recording-download port: fetch a finished call recording from where the telephony service keeps it.

Adapters: `acs_download.py` (the Call Automation SDK's `download_recording`, which signs the request
and accepts only https URLs on ACS recording hosts) and `http_download.py` (a plain GET, restricted to
the origins it is given: the local ACS simulator serves recordings over loopback http).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol


class RecordingDownloadError(RuntimeError):
    """The recording could not be fetched (refused URL, HTTP error, broken stream)."""


class RecordingDownloader(Protocol):
    def download(self, content_location: str) -> AsyncIterator[bytes]:
        """Stream the recording's bytes; RecordingDownloadError when it cannot be fetched."""
        ...

    async def close(self) -> None: ...
