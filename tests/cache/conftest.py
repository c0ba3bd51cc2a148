"""Fixtures for the cache tests: a real, throwaway ``redis-server`` on loopback."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cache.support import free_loopback_port

_START_TIMEOUT_SEC = 10.0
_START_ATTEMPTS = 3


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _start_redis(exe: str, workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Start redis-server on a free port; retry on a port race. Fails the test on error."""
    log_path = workdir / "redis-server.log"
    for _attempt in range(_START_ATTEMPTS):
        port = free_loopback_port()
        with log_path.open("ab") as log:
            proc = subprocess.Popen(
                [
                    exe,
                    "--port", str(port),
                    "--bind", "127.0.0.1",
                    "--save", "",
                    "--appendonly", "no",
                    "--dir", str(workdir),
                ],
                cwd=workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + _START_TIMEOUT_SEC
        while proc.poll() is None and time.monotonic() < deadline:
            if _answers_ping(port):
                return proc, port
            time.sleep(0.05)
        _stop(proc)
    log_text = log_path.read_text(errors="replace")[-2000:]
    pytest.fail(f"redis-server did not start and answer PING; its log:\n{log_text}", pytrace=False)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a real redis-server started for this test session (no persistence)."""
    if os.environ.get("SKIP_REDIS_TESTS") == "1":
        pytest.skip("SKIP_REDIS_TESTS=1: Redis tests skipped")
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.fail(
            "redis-server is not on PATH: install it (e.g. `apt-get install redis-server`) "
            "or set SKIP_REDIS_TESTS=1 to skip the Redis tests",
            pytrace=False,
        )
    workdir = tmp_path_factory.mktemp("redis")
    proc, port = _start_redis(exe, workdir)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(proc)
