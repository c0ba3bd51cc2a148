"""One uvicorn server on its own thread and event loop: how the local stand-ins (the ACS simulator,
the scripted LLM server) and the local stack's function app and media host run side by side in one
process, as separate processes would."""

from __future__ import annotations

import abc
import asyncio
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

import uvicorn


class ThreadedServer:
    """`app` served by uvicorn on `host:port` (0: a free port, known once started) in a daemon
    thread. `options` are more `uvicorn.Config` options (ws, lifespan, ...)."""

    def __init__(
        self, app: Any, *, name: str, host: str = "127.0.0.1", port: int = 0, **options: Any
    ) -> None:
        self.name = name
        self.host = host
        self.port = port
        config = {
            "log_level": "warning",
            "log_config": None,  # the process's log lines (shared.telemetry.logs), not uvicorn's handlers
            "access_log": False,
            "timeout_graceful_shutdown": 1,
            **options,
        }
        self.server = uvicorn.Server(uvicorn.Config(app, **config))
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def bind(self) -> int:
        """Take the port now (before `start`, for a server that must know its own address)."""
        if self._socket is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((self.host, self.port))
            except OSError as exc:
                sock.close()
                where = f"{self.host}:{self.port}"
                raise RuntimeError(f"the {self.name} cannot listen on {where}: {exc}") from exc
            self._socket = sock
            self.port = sock.getsockname()[1]
        return self.port

    def start(self, timeout: float = 10.0, *, ready: Callable[[], bool] = lambda: True) -> None:
        """Bind (if not yet), serve, and return once uvicorn has started and `ready()` holds; on
        failure the server is stopped and RuntimeError names it."""
        if self._thread is not None:
            raise RuntimeError(f"the {self.name} is already started")
        self.bind()
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self._socket]}, name=self.name, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not (self.server.started and ready()):
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the {self.name} did not start on {self.host}:{self.port}")
            time.sleep(0.01)

    def stop(self, timeout: float = 5.0) -> None:
        """Ask uvicorn to exit (graceful first, forced if it lingers) and join the thread."""
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            if self._thread.is_alive():
                self.server.force_exit = True
                self._thread.join(timeout=2)


class Background(abc.ABC):
    """A stand-in that runs in the background between `start()` and `stop()`, usable as a sync or an
    async context manager (the async one starts and stops it in a worker thread)."""

    @abc.abstractmethod
    def start(self, timeout: float = 10.0) -> Self: ...

    @abc.abstractmethod
    def stop(self) -> None: ...

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self.stop)
