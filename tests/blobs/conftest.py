"""Fixtures for the blob tests: a real, throwaway Azurite blob service on loopback (`azurite-blob`,
installed by `scripts/install-node-tools.sh`), and the blob adapters under test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from shared.blobs.azure_blob import AzureBlobStore
from shared.blobs.base import BlobStore
from shared.blobs.files import FileBlobStore
from tests.azurite import azurite, connection_string


def blob_connection_string(port: int) -> str:
    return connection_string("blob", port)


@pytest.fixture(scope="session")
def azurite_blob_connection_string(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Connection string of a real Azurite blob service started for this test session."""
    with azurite("blob", tmp_path_factory.mktemp("azurite-blob")) as connection:
        yield connection


@pytest.fixture(params=["files", "azure"])
async def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BlobStore]:
    """Each adapter, on a fresh container."""
    container = f"recordings-{uuid.uuid4().hex[:8]}"
    store: BlobStore
    if request.param == "files":
        store = FileBlobStore(tmp_path / "blobs", container)
    else:
        connection = request.getfixturevalue("azurite_blob_connection_string")
        store = AzureBlobStore(container, connection_string=connection)
    yield store
    await store.close()
