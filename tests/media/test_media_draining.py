"""Scale-in and rollouts do not cut live calls: `python -m media_host` on SIGTERM takes no new socket and
fails readiness while the live calls go on, up to `media.drain_timeout_sec`; readiness is green only once
the speech engines are loaded, which happens at start, not on the first call."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from local.dev import free_port
from local.speech_stubs import EnergyVad, ScriptedStt, ToneTts, silence
from local.threaded_server import ThreadedServer
from media_host.__main__ import default_bind_address
from media_host.app import CLOSE_TRY_AGAIN_LATER, create_media_app
from media_host.protocol import encode_audio_metadata
from shared.calls.routing import with_new_secrets
from shared.composition import Services, ServicesHolder
from shared.models import Call, CallState
from shared.settings import load_settings
from shared.speech.base import SpeechEngines
from shared.store.sqlite import SqliteCallStore
from tests.media.test_media_app import frames

REPO = Path(__file__).parents[2]


def _readiness(port: int) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/readiness", timeout=2) as response:
            return response.status, json.loads(response.read())["status"]
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())["status"]
    except OSError:
        return 0, "down"


def _wait_for(check: object, what: str, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class MediaProcess:
    """`python -m media_host` (one worker, stub engines) on a free port, with its own SQLite store."""

    def __init__(self, tmp: Path, drain_timeout_sec: float) -> None:
        self.port = free_port()
        self.db = tmp / "calls.sqlite3"
        overrides = tmp / "media.json"
        overrides.write_text(
            json.dumps(
                {
                    "store": {"sqlite": {"path": str(self.db)}},
                    "media": {"drain_timeout_sec": drain_timeout_sec},
                }
            )
        )
        command = [
            sys.executable,
            "-m",
            "media_host",
            "--port",
            str(self.port),
            "--overrides",
            str(overrides),
        ]
        command += ["--engines", "tests.media.test_media_workers:worker_engines"]
        self.process = subprocess.Popen(command, cwd=REPO)
        _wait_for(lambda: _readiness(self.port)[0] == 200, "the media host ready")

    def url(self, call: Call) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/{call.call_id}?token={call.secrets.media}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def media(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[MediaProcess]:
    running = MediaProcess(tmp_path, drain_timeout_sec=getattr(request, "param", 60.0))
    try:
        yield running
    finally:
        running.stop()


async def _live_call(media: MediaProcess) -> Call:
    store = SqliteCallStore(media.db)
    try:
        call = with_new_secrets(Call(caller_phone="+33612345678"))
        call.connection.state = CallState.CONNECTED
        return await store.create(call)
    finally:
        await store.close()


async def _open(url: str) -> websockets.ClientConnection:
    socket = await websockets.connect(url, close_timeout=1)
    await socket.send(encode_audio_metadata("sub"))
    return socket


async def test_sigterm_drains_live_calls_and_refuses_new_ones(media: MediaProcess) -> None:
    first, second = await _live_call(media), await _live_call(media)
    live = await _open(media.url(first))
    await asyncio.sleep(0.5)  # the session runs
    media.process.send_signal(signal.SIGTERM)
    await asyncio.to_thread(_wait_for, lambda: _readiness(media.port) == (503, "draining"), "readiness red")
    refused = await websockets.connect(media.url(second), close_timeout=1)
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(refused.recv(), 5)
    assert refused.close_code == CLOSE_TRY_AGAIN_LATER
    for frame in frames(silence(1.0)):  # the live call goes on, for as long as the caller stays
        await live.send(frame)
    await asyncio.sleep(1.0)
    assert media.process.poll() is None
    await live.close()
    started = time.monotonic()
    await asyncio.to_thread(media.process.wait, 20)
    assert time.monotonic() - started < 15  # stops once the last call ended, not at the drain timeout


@pytest.mark.parametrize("media", [1.5], indirect=True)
async def test_calls_left_at_the_drain_timeout_are_closed(media: MediaProcess) -> None:
    call = await _live_call(media)
    live = await _open(media.url(call))
    await asyncio.sleep(0.5)
    media.process.send_signal(signal.SIGTERM)
    with pytest.raises(ConnectionClosed):
        while True:  # the socket stays open through the drain time, then the host closes it
            await asyncio.wait_for(live.recv(), 20)
    await asyncio.to_thread(media.process.wait, 20)


@pytest.fixture
async def slow_engines(tmp_path: Path) -> AsyncIterator[tuple[int, threading.Event]]:
    release = threading.Event()

    def factory(_services: Services) -> SpeechEngines:
        release.wait(30)
        return SpeechEngines(vad=EnergyVad(), stt=ScriptedStt(), tts=ToneTts())

    settings = load_settings(store={"sqlite": {"path": tmp_path / "calls.sqlite3"}})
    app = create_media_app(engines=factory, holder=ServicesHolder(settings))
    server = ThreadedServer(app, name="media host", lifespan="on")
    port = server.bind()
    server.start()
    try:
        yield port, release
    finally:
        release.set()
        server.stop(timeout=10)


async def test_readiness_waits_for_the_engines_loaded_at_start(
    slow_engines: tuple[int, threading.Event],
) -> None:
    port, release = slow_engines
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        loading = await client.get("/health/readiness")
        assert (loading.status_code, loading.json()["status"]) == (503, "loading")
        assert (await client.get("/health/liveness")).status_code == 200
        release.set()  # the engines finish loading without any call having come
        for _ in range(100):
            ready = await client.get("/health/readiness")
            if ready.status_code == 200:
                break
            await asyncio.sleep(0.05)
        assert ready.json()["status"] == "ready"


def test_the_container_listens_on_every_interface(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONTAINER_APP_NAME", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    assert default_bind_address() == "127.0.0.1"
    monkeypatch.setenv("CONTAINER_APP_NAME", "media")
    assert default_bind_address() == "0.0.0.0"
