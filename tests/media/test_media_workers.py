"""The media host as several worker processes behind one port (`media.workers`, `python -m media_host`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from local.dev import free_port
from local.speech_stubs import EnergyVad, ScriptedStt, ToneTts
from media_host.admission import CLOSE_UNAUTHORIZED
from media_host.serving import ENGINES_ENV, engines_factory
from shared.composition import Services, build_speech
from shared.settings import SettingsError, load_settings
from shared.speech.base import SpeechEngines


def worker_engines(_services: Services) -> SpeechEngines:
    """The workers' engines (named by reference: `module:function`)."""
    return SpeechEngines(vad=EnergyVad(), stt=ScriptedStt(), tts=ToneTts())


def test_media_workers_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().media.workers == 1
    monkeypatch.setenv("MEDIA__WORKERS", "3")
    assert load_settings().media.workers == 3
    monkeypatch.setenv("MEDIA__WORKERS", "0")
    with pytest.raises(SettingsError, match="MEDIA__WORKERS"):
        load_settings()


def test_engines_factory_reference() -> None:
    assert engines_factory(None) is build_speech
    assert engines_factory(f"{__name__}:worker_engines") is worker_engines
    with pytest.raises(ValueError, match=ENGINES_ENV):
        engines_factory(f"{__name__}:no_such_function")


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[int]:
    """`python -m media_host --workers 2` with stub engines on a free port; yields the port."""
    port = free_port()
    overrides = tmp_path / "media-host.json"
    overrides.write_text(json.dumps({"store": {"sqlite": {"path": str(tmp_path / "calls.sqlite3")}}}))
    command = [sys.executable, "-m", "media_host", "--port", str(port), "--workers", "2"]
    command += ["--overrides", str(overrides), "--engines", f"{__name__}:worker_engines"]
    process = subprocess.Popen(command, cwd=Path(__file__).parents[2])  # the repository: `tests` importable
    try:
        yield port
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0  # a clean stop of the supervisor and its workers


def _liveness_pids(port: int, wanted: int, within: float = 60.0) -> set[int]:
    """The worker pids answering the liveness probe, until `wanted` were seen (or the deadline)."""
    seen: set[int] = set()
    deadline = time.monotonic() + within
    while len(seen) < wanted and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/liveness", timeout=2) as response:
                seen.add(json.loads(response.read())["pid"])
        except OSError:
            time.sleep(0.1)
    return seen


async def test_two_workers_share_the_port_and_each_serves_the_media_app(workers: int) -> None:
    pids = _liveness_pids(workers, wanted=2)
    assert len(pids) == 2  # two processes answer on the one port (SO_REUSEPORT spreads connections)
    for _ in range(6):  # whichever worker gets the socket, the app behaves the same
        async with websockets.connect(f"ws://127.0.0.1:{workers}/ws/{uuid4()}?token=x") as socket:
            with pytest.raises(ConnectionClosed) as closed:
                await socket.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == CLOSE_UNAUTHORIZED  # unknown call


@pytest.mark.parametrize(
    ("arguments", "env", "said"),
    [
        (["--workers", "0"], {}, "--workers: must be at least 1"),
        (["--engines", "no_such_module:engines"], {}, "No module named 'no_such_module'"),
        ([], {"MEDIA__WORKERS": "0"}, "MEDIA__WORKERS"),
    ],
)
def test_the_command_refuses_bad_input_with_a_message(
    arguments: list[str], env: dict[str, str], said: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "media_host", "--port", "0", *arguments],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert said in done.stderr
    assert "Traceback" not in done.stderr
