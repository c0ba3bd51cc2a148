"""Blobs as files in a folder (`<root>/<container>/<name>`): the local default, no Azurite needed.

A blob is written to a temporary file beside its final path and renamed into place, so a reader never
sees half a blob. URLs are `file://` URIs.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from shared.blobs.base import SHARE_TTL_SEC, BlobData, BlobError, check_blob_name, chunks_of

T = TypeVar("T")


class FileBlobStore:
    def __init__(self, root: Path | str, container: str) -> None:
        self._folder = Path(root) / check_blob_name(container)

    def path_of(self, name: str) -> Path:
        return self._folder / check_blob_name(name)

    async def _io(self, name: str, operation: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A blocking file operation off the event loop; OSError becomes BlobError."""
        try:
            return await asyncio.to_thread(operation, *args, **kwargs)
        except OSError as exc:
            raise BlobError(f"blob {name!r} could not be written under {self._folder}: {exc}") from exc

    async def put(self, name: str, data: BlobData, *, content_type: str = "application/octet-stream") -> str:
        """A failing `data` stream raises its own error (and leaves no blob)."""
        path = self.path_of(name)
        partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
        await self._io(name, path.parent.mkdir, parents=True, exist_ok=True)
        handle = await self._io(name, partial.open, "wb")
        try:
            try:
                async for chunk in chunks_of(data):
                    await self._io(name, handle.write, chunk)
            finally:
                await self._io(name, handle.close)
            await self._io(name, os.replace, partial, path)
        finally:
            await asyncio.to_thread(partial.unlink, missing_ok=True)
        return path.resolve().as_uri()

    async def share_url(self, name: str, *, ttl_sec: int = SHARE_TTL_SEC) -> str | None:
        """None: a file has no URL a browser may fetch; the app serves its bytes."""
        check_blob_name(name)
        return None

    async def get(self, name: str) -> bytes | None:
        path = self.path_of(name)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise BlobError(f"blob {name!r} could not be read: {exc}") from exc

    async def delete(self, name: str) -> bool:
        path = self.path_of(name)
        try:
            await asyncio.to_thread(path.unlink)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise BlobError(f"blob {name!r} could not be removed: {exc}") from exc
        return True

    async def ping(self) -> None:
        try:
            await asyncio.to_thread(self._folder.mkdir, parents=True, exist_ok=True)
        except OSError as exc:
            raise BlobError(f"blob folder {self._folder} is not usable: {exc}") from exc
        if not os.access(self._folder, os.W_OK):
            raise BlobError(f"blob folder {self._folder} is not writable")

    async def close(self) -> None:
        return None
