"""The blob port: named binary objects (call recordings) in one container, each reachable by a URL.

Adapters: `files.py` (a folder on disk: the local default) and `azure_blob.py` (Azure Blob Storage,
or Azurite, over `azure-storage-blob` aio). Names are `/`-separated paths of safe segments, checked
the same way by every adapter so a name that works locally works in Azure.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable
from typing import Protocol

MAX_NAME_CHARS = 1024
SHARE_TTL_SEC = 900  # a shared blob URL (the report's recording player) works for 15 minutes
_SEGMENT = re.compile(r"^[A-Za-z0-9_=-][A-Za-z0-9._=-]*$")

BlobData = bytes | AsyncIterable[bytes]


class BlobError(RuntimeError):
    """The blob store failed or is unreachable."""


class BlobStore(Protocol):
    async def put(self, name: str, data: BlobData, *, content_type: str = "application/octet-stream") -> str:
        """Store (or overwrite) the blob, streaming `data` when it is an async iterable; return its URL."""
        ...

    async def get(self, name: str) -> bytes | None:
        """The blob's content, or None when there is no such blob."""
        ...

    async def delete(self, name: str) -> bool:
        """Remove the blob; True when it existed."""
        ...

    async def share_url(self, name: str, *, ttl_sec: int = SHARE_TTL_SEC) -> str | None:
        """A read-only URL a browser may fetch for `ttl_sec` (Azure: a SAS), or None when the store has no
        such URL and the app serves the bytes itself (a folder)."""
        ...

    async def ping(self) -> None:
        """Raise BlobError when the store is not usable."""
        ...

    async def close(self) -> None: ...


class NoBlobStore:
    """The blob store of a process that keeps no blobs (the media host): any use is a bug."""

    def __init__(self, role: str) -> None:
        self._role = role

    def _refuse(self, name: str) -> BlobError:
        return BlobError(f"the {self._role} process has no blob store ({name!r} not touched)")

    async def put(self, name: str, data: BlobData, *, content_type: str = "application/octet-stream") -> str:
        raise self._refuse(name)

    async def get(self, name: str) -> bytes | None:
        raise self._refuse(name)

    async def delete(self, name: str) -> bool:
        raise self._refuse(name)

    async def share_url(self, name: str, *, ttl_sec: int = 0) -> str | None:
        raise self._refuse(name)

    async def ping(self) -> None:
        return None  # nothing to reach

    async def close(self) -> None:
        return None


def check_blob_name(name: str) -> str:
    """A name of `/`-separated segments of letters, digits, `._=-` (no empty, `.` or `..` segment)."""
    segments = name.split("/")
    if (
        not name
        or len(name) > MAX_NAME_CHARS
        or not all(_SEGMENT.match(segment) for segment in segments)
        or any(segment in (".", "..") for segment in segments)
    ):
        raise ValueError(f"invalid blob name {name!r}: use /-separated segments of letters, digits and ._=-")
    return name


async def chunks_of(data: BlobData) -> AsyncIterable[bytes]:
    """`data` as an async stream of chunks."""
    if isinstance(data, bytes):
        yield data
        return
    async for chunk in data:
        yield chunk
