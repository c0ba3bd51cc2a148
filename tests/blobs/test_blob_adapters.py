"""One contract for the blob adapters: the files folder, and Azure Blob Storage on a real Azurite."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import httpx
import pytest

from shared.blobs.azure_blob import AzureBlobStore
from shared.blobs.base import BlobError, BlobStore, check_blob_name
from shared.blobs.files import FileBlobStore
from tests.azurite import free_loopback_port

from .conftest import blob_connection_string

WAV_HEADER = b"RIFF\x24\x00\x00\x00WAVEfmt "


async def _chunks(count: int, size: int) -> AsyncIterator[bytes]:
    for index in range(count):
        yield bytes([index % 251]) * size


async def test_put_then_get_returns_the_bytes_and_a_url_naming_the_blob(blobs: BlobStore) -> None:
    url = await blobs.put("call-1/recording-0.wav", WAV_HEADER, content_type="audio/wav")
    assert url.endswith("/call-1/recording-0.wav")
    assert await blobs.get("call-1/recording-0.wav") == WAV_HEADER


async def test_a_streamed_put_keeps_every_chunk_in_order(blobs: BlobStore) -> None:
    expected = b"".join([bytes([i % 251]) * 300_000 for i in range(12)])  # 3.6 MB: several blocks
    await blobs.put("call-2/long.wav", _chunks(12, 300_000))
    assert await blobs.get("call-2/long.wav") == expected


async def test_put_overwrites(blobs: BlobStore) -> None:
    await blobs.put("a/b.bin", b"first")
    await blobs.put("a/b.bin", b"second")
    assert await blobs.get("a/b.bin") == b"second"


async def test_missing_blobs_are_none_and_delete_says_whether_it_existed(blobs: BlobStore) -> None:
    assert await blobs.get("nothing/here.wav") is None
    await blobs.put("x/y.bin", b"1")
    assert await blobs.delete("x/y.bin") is True
    assert await blobs.delete("x/y.bin") is False
    assert await blobs.get("x/y.bin") is None


@pytest.mark.parametrize(
    "name", ["", "../escape.wav", "a/../../b", "a//b", "/abs.wav", "a/./b", "sp ace", "a\\b"]
)
async def test_unsafe_names_are_refused_by_every_adapter(blobs: BlobStore, name: str) -> None:
    with pytest.raises(ValueError):
        await blobs.put(name, b"x")
    with pytest.raises(ValueError):
        check_blob_name(name)


async def test_ping_succeeds(blobs: BlobStore) -> None:
    await blobs.ping()


class SourceGoneError(ConnectionError):
    pass


async def test_a_stream_failing_midway_raises_its_error_and_leaves_no_blob(blobs: BlobStore) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"a" * 1000
        raise SourceGoneError("the source went away")

    with pytest.raises(SourceGoneError):
        await blobs.put("call-3/broken.wav", broken())
    assert await blobs.get("call-3/broken.wav") is None


async def test_files_urls_are_file_uris_of_the_blob_and_no_partial_file_remains(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path, "recordings")
    url = await store.put("c/r.wav", b"data")
    path = Path(url2pathname(urlsplit(url).path))
    assert path == tmp_path / "recordings" / "c" / "r.wav"
    assert path.read_bytes() == b"data"  # noqa: ASYNC240 (a test)
    assert sorted(os.listdir(path.parent)) == ["r.wav"]


async def test_azure_urls_point_at_the_account_container_and_blob(
    azurite_blob_connection_string: str,
) -> None:
    store = AzureBlobStore("recordings", connection_string=azurite_blob_connection_string)
    try:
        url = await store.put("c/r.wav", b"data")
    finally:
        await store.close()
    assert url.startswith("http://127.0.0.1:") and url.endswith("/devstoreaccount1/recordings/c/r.wav")


async def test_an_unreachable_azure_blob_service_is_a_blob_error() -> None:
    dead = blob_connection_string(free_loopback_port())
    store = AzureBlobStore("recordings", connection_string=dead, retries=0)
    try:
        with pytest.raises(BlobError):
            await store.ping()
        with pytest.raises(BlobError):
            await store.put("c/r.wav", b"data")
    finally:
        await store.close()


async def test_a_shared_url_reads_the_blob_for_a_while_and_nothing_else(blobs: BlobStore) -> None:
    """The report's recording player: Azure gives a short-lived read-only SAS, a folder gives none."""
    await blobs.put("call-2/recording-0.wav", WAV_HEADER, content_type="audio/wav")
    url = await blobs.share_url("call-2/recording-0.wav", ttl_sec=60)
    if isinstance(blobs, FileBlobStore):
        assert url is None  # the app serves the file's bytes itself
        return
    assert url is not None and "sig=" in url and "sp=r" in url
    async with httpx.AsyncClient() as http:
        answer = await http.get(url)
        assert answer.status_code == 200 and answer.content == WAV_HEADER
        assert answer.headers["content-type"] == "audio/wav"
        written = await http.put(url, content=b"x", headers={"x-ms-blob-type": "BlockBlob"})
        assert written.status_code == 403  # read only
        other = url.replace("call-2/recording-0.wav", "call-2/other.wav")
        assert (await http.get(other)).status_code in {403, 404}  # signed for one blob
    expired = await blobs.share_url("call-2/recording-0.wav", ttl_sec=-600)
    assert expired is not None
    async with httpx.AsyncClient() as http:
        assert (await http.get(expired)).status_code == 403


async def test_a_shared_url_refuses_an_unsafe_name(blobs: BlobStore) -> None:
    with pytest.raises(ValueError, match="invalid blob name"):
        await blobs.share_url("../outside.wav")
