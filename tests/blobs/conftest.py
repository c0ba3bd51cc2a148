"""Fixtures for the blob tests: a real, throwaway Azurite blob service on loopback (`azurite-blob`,
installed by `scripts/install-node-tools.sh`), and the blob adapters under test."""

from __future__ import annotations

import http.client
import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from shared.blobs.azure_blob import AzureBlobStore
from shared.blobs.base import BlobStore
from shared.blobs.files import FileBlobStore
from tests.jobs.conftest import AZURITE_ACCOUNT, AZURITE_KEY, REPO_ROOT, _stop, free_loopback_port

AZURITE_BLOB = REPO_ROOT / ".tools" / "node_modules" / ".bin" / "azurite-blob"
_START_TIMEOUT_SEC = 20.0
_START_ATTEMPTS = 3


def blob_connection_string(port: int) -> str:
    """Connection string for the development account's blob service on 127.0.0.1:port."""
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{port}/{AZURITE_ACCOUNT};"
    )


def _answers_as_azurite_blob(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", f"/{AZURITE_ACCOUNT}?comp=list")
        response = connection.getresponse()
        response.read()
        return (response.getheader("Server") or "").startswith("Azurite-Blob/")
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def _start_azurite_blob(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    log_path = workdir / "azurite-blob.log"
    for attempt in range(1, _START_ATTEMPTS + 1):
        port = free_loopback_port()
        data_dir = workdir / f"data-{attempt}"
        data_dir.mkdir()
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [
                    str(AZURITE_BLOB),
                    "--skipApiVersionCheck",
                    "--disableTelemetry",
                    "--loose",
                    "--blobHost", "127.0.0.1",
                    "--blobPort", str(port),
                    "--location", str(data_dir),
                    "--silent",
                ],
                cwd=workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + _START_TIMEOUT_SEC
        while proc.poll() is None and time.monotonic() < deadline:
            if _answers_as_azurite_blob(port):
                return proc, port
            time.sleep(0.1)
        code = proc.poll()
        _stop(proc)
        output = log_path.read_text(errors="replace")
        if "EADDRINUSE" not in output or attempt == _START_ATTEMPTS:
            status = (
                f"exited with code {code}"
                if code is not None
                else f"timed out after {_START_TIMEOUT_SEC:g} s"
            )
            pytest.fail(
                f"azurite-blob did not start on 127.0.0.1:{port} ({status}); its output:\n{output[-3000:]}",
                pytrace=False,
            )
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def azurite_blob_connection_string(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Connection string of a real Azurite blob service started for this test session."""
    if os.environ.get("SKIP_AZURITE_TESTS") == "1":
        pytest.skip("SKIP_AZURITE_TESTS=1: Azurite tests skipped")
    if not AZURITE_BLOB.exists():
        pytest.fail(
            f"Azurite is not installed ({AZURITE_BLOB.relative_to(REPO_ROOT)} is missing): run "
            "`make install` (or `bash scripts/install-node-tools.sh`), or set SKIP_AZURITE_TESTS=1 "
            "to skip the Azurite tests",
            pytrace=False,
        )
    proc, port = _start_azurite_blob(tmp_path_factory.mktemp("azurite-blob"))
    try:
        yield blob_connection_string(port)
    finally:
        _stop(proc)


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
