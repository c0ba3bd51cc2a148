"""A real, throwaway Azurite service (queue or blob) on loopback, for the tests of the Storage adapters.

Azurite 3.35.0 is installed by `make install` (`scripts/install-node-tools.sh`) into `.tools/`.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
BIN = REPO_ROOT / ".tools" / "node_modules" / ".bin"

# The well-known, public Azurite development account (documented by Microsoft; not a secret).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

START_TIMEOUT_SEC = 20.0
START_ATTEMPTS = 3

Service = Literal["queue", "blob"]


def free_loopback_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the time of the call)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def connection_string(service: Service, port: int) -> str:
    """Connection string for the development account's `service` on 127.0.0.1:port."""
    endpoint = f"{service.capitalize()}Endpoint=http://127.0.0.1:{port}/{AZURITE_ACCOUNT};"
    return f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};{endpoint}"


def _answers_as_azurite(service: Service, port: int) -> bool:
    """The port answers and the server there is Azurite (not whoever won a port race)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", f"/{AZURITE_ACCOUNT}?comp=list")
        response = connection.getresponse()
        response.read()
        return (response.getheader("Server") or "").startswith(f"Azurite-{service.capitalize()}/")
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _start(service: Service, workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Start azurite-<service> on a free port, retrying on a lost port race; fails the test on error."""
    log_path = workdir / f"azurite-{service}.log"
    for attempt in range(1, START_ATTEMPTS + 1):
        port = free_loopback_port()
        data_dir = workdir / f"data-{attempt}"
        data_dir.mkdir()
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [
                    str(BIN / f"azurite-{service}"),
                    "--skipApiVersionCheck",
                    "--disableTelemetry",
                    "--loose",
                    f"--{service}Host", "127.0.0.1",
                    f"--{service}Port", str(port),
                    "--location", str(data_dir),
                    "--silent",
                ],
                cwd=workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT_SEC
        while proc.poll() is None and time.monotonic() < deadline:
            if _answers_as_azurite(service, port):
                return proc, port
            time.sleep(0.1)
        code = proc.poll()
        stop(proc)
        output = log_path.read_text(errors="replace")
        if "EADDRINUSE" not in output or attempt == START_ATTEMPTS:  # only a lost port race is retried
            status = (
                f"exited with code {code}" if code is not None else f"timed out after {START_TIMEOUT_SEC:g} s"
            )
            pytest.fail(
                f"azurite-{service} did not start listening on 127.0.0.1:{port} ({status}); "
                f"its output:\n{output[-3000:] or '(none)'}",
                pytrace=False,
            )
    raise AssertionError("unreachable")


@contextmanager
def azurite(service: Service, workdir: Path) -> Iterator[str]:
    """A running Azurite `service` for the duration of the block; yields its connection string."""
    if os.environ.get("SKIP_AZURITE_TESTS") == "1":
        pytest.skip("SKIP_AZURITE_TESTS=1: Azurite tests skipped")
    binary = BIN / f"azurite-{service}"
    if not binary.exists():
        pytest.fail(
            f"Azurite is not installed ({binary.relative_to(REPO_ROOT)} is missing): run `make install` "
            "(or `bash scripts/install-node-tools.sh`), "
            "or set SKIP_AZURITE_TESTS=1 to skip the Azurite tests",
            pytrace=False,
        )
    proc, port = _start(service, workdir)
    try:
        yield connection_string(service, port)
    finally:
        stop(proc)
