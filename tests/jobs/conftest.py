"""Fixtures for the job-queue tests: a real, throwaway Azurite queue service on loopback.

Azurite is installed by ``make install`` (``scripts/install-node-tools.sh``) into ``.tools/``.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
AZURITE_QUEUE = REPO_ROOT / ".tools" / "node_modules" / ".bin" / "azurite-queue"

# The well-known, public Azurite development account (documented by Microsoft; not a secret).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

_START_TIMEOUT_SEC = 20.0
_START_ATTEMPTS = 3


def free_loopback_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the time of the call)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def queue_connection_string(port: int) -> str:
    """Connection string for the development account's queue service on 127.0.0.1:port."""
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"QueueEndpoint=http://127.0.0.1:{port}/{AZURITE_ACCOUNT};"
    )


def _answers_as_azurite(port: int) -> bool:
    """The port accepts connections and the server there is Azurite (not whoever won a port race)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", f"/{AZURITE_ACCOUNT}?comp=list")
        response = connection.getresponse()
        response.read()
        return (response.getheader("Server") or "").startswith("Azurite-Queue/")
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _start_azurite(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Start azurite-queue on a free port; retry on a port race. Fails the test on error."""
    log_path = workdir / "azurite-queue.log"
    for attempt in range(1, _START_ATTEMPTS + 1):
        port = free_loopback_port()
        data_dir = workdir / f"data-{attempt}"
        data_dir.mkdir()
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [
                    str(AZURITE_QUEUE),
                    "--skipApiVersionCheck",
                    "--disableTelemetry",
                    "--loose",
                    "--queueHost", "127.0.0.1",
                    "--queuePort", str(port),
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
            if _answers_as_azurite(port):
                return proc, port
            time.sleep(0.1)
        code = proc.poll()
        _stop(proc)
        output = log_path.read_text(errors="replace")
        # Only a lost race for the port is worth another attempt.
        if "EADDRINUSE" not in output or attempt == _START_ATTEMPTS:
            status = (
                f"exited with code {code}"
                if code is not None
                else f"timed out after {_START_TIMEOUT_SEC:g} s"
            )
            pytest.fail(
                f"azurite-queue did not start listening on 127.0.0.1:{port} ({status}); "
                f"its output:\n{output[-3000:] or '(none)'}",
                pytrace=False,
            )
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def azurite_connection_string(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Connection string of a real Azurite queue service started for this test session."""
    if os.environ.get("SKIP_AZURITE_TESTS") == "1":
        pytest.skip("SKIP_AZURITE_TESTS=1: Azurite tests skipped")
    if not AZURITE_QUEUE.exists():
        pytest.fail(
            f"Azurite is not installed ({AZURITE_QUEUE.relative_to(REPO_ROOT)} is missing): run "
            "`make install` (or `bash scripts/install-node-tools.sh`), "
            "or set SKIP_AZURITE_TESTS=1 to skip the Azurite tests",
            pytrace=False,
        )
    proc, port = _start_azurite(tmp_path_factory.mktemp("azurite"))
    try:
        yield queue_connection_string(port)
    finally:
        _stop(proc)


@pytest.fixture
def dead_connection_string() -> str:
    """Connection string whose queue endpoint is a loopback port nothing listens on."""
    return queue_connection_string(free_loopback_port())
