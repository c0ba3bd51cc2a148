"""Serving the media host: one uvicorn server in this process, or `media.workers` worker processes
on one port, each with its own SO_REUSEPORT listening socket (the kernel spreads new connections over
them; with one shared socket, whichever worker wakes first accepts a whole burst). Calls are
independent, so a worker is one more event loop and GIL. What workers do not share is the table of
live sessions: a reconnect that lands on another worker does not close the previous session (its
socket is normally gone already; it ends when that socket closes).

Each worker builds its app with `media_app()` from the environment, plus a JSON file of settings
overrides and a `module:function` speech-engine factory when the launcher (the local stack, the
benchmarks) names them.
"""

from __future__ import annotations

import importlib
import json
import logging
import multiprocessing
import multiprocessing.process
import os
import signal
import socket
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette

from media_host.app import create_media_app
from media_host.draining import DrainingServer
from shared.composition import Services, ServicesHolder, build_speech
from shared.settings import ProcessRole, Settings, load_settings
from shared.speech.base import SpeechEngines
from shared.telemetry.setup import MEDIA_HOST, configure_process

log = logging.getLogger(__name__)

MEDIA_APP = "media_host.serving:media_app"
OVERRIDES_ENV = "MEDIA_HOST_OVERRIDES"
"""A JSON file of settings overrides for every worker (for launchers whose settings are not in the
environment: the local stack, the benchmarks)."""
ENGINES_ENV = "MEDIA_HOST_ENGINES"
"""`module:function` building the speech engines from the services (default: the settings' engines)."""


def engines_factory(reference: str | None) -> Callable[[Services], SpeechEngines]:
    """The speech-engine factory a `module:function` reference names (None: `build_speech`)."""
    if not reference:
        return build_speech
    module, _, name = reference.partition(":")
    factory = getattr(importlib.import_module(module), name, None)
    if not callable(factory):
        raise ValueError(f"{ENGINES_ENV}={reference!r} names no function")
    return factory  # type: ignore[no-any-return]


def _settings() -> Settings:
    """The media host's settings: the environment plus the overrides file."""
    overrides_file = os.environ.get(OVERRIDES_ENV)
    overrides: dict[str, Any] = json.loads(Path(overrides_file).read_text()) if overrides_file else {}
    return load_settings(**{"process_role": ProcessRole.MEDIA, **overrides})


def media_app(settings: Settings | None = None) -> Starlette:
    """The ASGI app every worker builds (also a factory: `uvicorn --factory media_host.serving:media_app`):
    settings from `_settings()`, engines from `MEDIA_HOST_ENGINES`."""
    return create_media_app(
        engines=engines_factory(os.environ.get(ENGINES_ENV)), holder=ServicesHolder(settings or _settings())
    )


def _server(log_level: str, **options: Any) -> uvicorn.Server:
    """uvicorn with the media host's graceful stop (drain the live calls on SIGTERM)."""
    configure_process(MEDIA_HOST, log_level=log_level)  # in each worker process: logs and telemetry
    settings = _settings()
    app = media_app(settings)
    config = _uvicorn_config(log_level, app=app, **options)
    return DrainingServer(config, app.state.host, settings.media.drain_timeout_sec)


def _listening_socket(host: str, port: int) -> socket.socket:
    """A listening socket with SO_REUSEPORT: each worker has its own, and the kernel spreads new
    connections over them (a shared socket lets whichever worker wakes first accept a whole burst)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def _uvicorn_config(log_level: str, **options: Any) -> uvicorn.Config:
    options.setdefault("app", MEDIA_APP)
    return uvicorn.Config(
        factory=isinstance(options["app"], str),
        log_level=log_level,
        log_config=None,  # our log lines (shared.telemetry.logs), not uvicorn's own handlers
        lifespan="on",
        timeout_graceful_shutdown=2,
        ws_per_message_deflate=False,  # 20 ms PCM frames in base64 barely compress; deflate cost 9-26% CPU
        **options,
    )


def _worker(host: str, port: int, log_level: str) -> None:
    """One worker process: its own listening socket on the shared port, its own event loop."""
    _server(log_level).run(sockets=[_listening_socket(host, port)])


def _supervise(host: str, port: int, workers: int, log_level: str) -> None:
    """Run `workers` worker processes until SIGTERM/SIGINT; a worker that dies is started again."""
    spawn = multiprocessing.get_context("spawn")
    stopping = threading.Event()

    def start(index: int) -> multiprocessing.process.BaseProcess:
        process = spawn.Process(target=_worker, args=(host, port, log_level), name=f"media-worker-{index}")
        process.start()
        return process

    previous = {sig: signal.signal(sig, lambda *_: stopping.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    processes = [start(index) for index in range(workers)]
    try:
        while not stopping.wait(0.5):
            for index, process in enumerate(processes):
                if not process.is_alive():
                    log.warning("media worker %s exited (%s): starting it again", index, process.exitcode)
                    processes[index] = start(index)
    finally:
        for process in processes:
            process.terminate()  # SIGTERM: each worker drains its live calls, then stops
        grace = _settings().media.drain_timeout_sec + 10
        for process in processes:
            process.join(grace)
            if process.is_alive():
                process.kill()
                process.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def serve_media(
    *,
    host: str,
    port: int,
    workers: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    overrides_file: Path | None = None,
    engines: str | None = None,
    log_level: str = "info",
) -> None:
    """Serve the media host until stopped (SIGINT/SIGTERM) with `workers` processes (default: the
    settings' `media.workers`); `overrides` are written to `overrides_file` for the workers to read.
    One worker is served in this process; several are child processes on the same port."""
    configure_process(MEDIA_HOST, log_level=log_level)
    if overrides is not None:
        if overrides_file is None:
            raise ValueError("overrides need an overrides_file the workers can read")
        overrides_file.write_text(json.dumps(overrides, default=str))
    if overrides_file is not None:
        os.environ[OVERRIDES_ENV] = str(overrides_file.resolve())
    if engines:
        engines_factory(engines)  # fail here, not once per worker
        os.environ[ENGINES_ENV] = engines
    if workers is None:
        extra = json.loads(overrides_file.read_text()) if overrides_file else {}
        workers = load_settings(**{"process_role": ProcessRole.MEDIA, **extra}).media.workers
    if workers <= 1:
        _server(log_level, host=host, port=port).run()
    else:
        _supervise(host, port, workers, log_level)
