"""Fixtures for the fault scenarios: a time bound on every scenario, and a redis-server of the test's
own, to kill or to freeze."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cache.conftest import _start_redis, _stop

SCENARIO_LIMIT_SEC = 120  # a fault scenario that hangs fails here instead of stalling the suite


class ScenarioTimeout(Exception):
    pass


@pytest.fixture(autouse=True)
def bounded_in_time() -> Iterator[None]:
    """Each fault scenario fails after `SCENARIO_LIMIT_SEC` (SIGALRM in the test's own thread)."""

    def expire(_signum: int, _frame: object) -> None:
        raise ScenarioTimeout(f"fault scenario still running after {SCENARIO_LIMIT_SEC} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(SCENARIO_LIMIT_SEC)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class RedisProcess:
    proc: subprocess.Popen[bytes]
    url: str

    def kill(self) -> None:
        """A dead cache: the process is gone, connections are refused."""
        self.proc.kill()
        self.proc.wait(timeout=5)

    def freeze(self) -> None:
        """A hung cache: the process still holds its socket but never answers (SIGSTOP)."""
        os.kill(self.proc.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)


@pytest.fixture
def redis_process(tmp_path: Path) -> Iterator[RedisProcess]:
    if os.environ.get("SKIP_REDIS_TESTS") == "1":
        pytest.skip("SKIP_REDIS_TESTS=1: Redis tests skipped")
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.fail("redis-server is not on PATH (apt-get install redis-server)", pytrace=False)
    workdir = tmp_path / "redis"
    workdir.mkdir()
    proc, port = _start_redis(exe, workdir)
    running = RedisProcess(proc, f"redis://127.0.0.1:{port}/0")
    try:
        yield running
    finally:
        running.thaw()
        _stop(proc)
