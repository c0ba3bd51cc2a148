"""A graceful stop fit for phone calls: on SIGTERM (scale-in, a rollout) the media host takes no new
call and fails readiness, the live calls go on until they end or `media.drain_timeout_sec` passes, then
the server stops. A second signal stops at once (uvicorn's own shutdown)."""

from __future__ import annotations

import asyncio
import logging
from types import FrameType
from typing import TYPE_CHECKING

import uvicorn

if TYPE_CHECKING:
    from media_host.app import MediaHost

log = logging.getLogger(__name__)


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, host: MediaHost, drain_timeout_sec: float) -> None:
        super().__init__(config)
        self._host = host
        self._drain_timeout_sec = drain_timeout_sec
        self._loop: asyncio.AbstractEventLoop | None = None
        self._drain: asyncio.Task[None] | None = None

    async def startup(self, sockets: list[object] | None = None) -> None:  # type: ignore[override]
        self._loop = asyncio.get_running_loop()
        await super().startup(sockets)  # type: ignore[arg-type]

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._loop is None or self._drain is not None or self.should_exit:
            super().handle_exit(sig, frame)  # not serving yet, or a second signal: stop now
            return
        self._captured_signals.append(sig)
        self._loop.call_soon_threadsafe(self._start_drain)

    def _start_drain(self) -> None:
        self._drain = asyncio.get_running_loop().create_task(self._drain_then_exit(), name="media-drain")

    async def _drain_then_exit(self) -> None:
        try:
            await self._host.drain(self._drain_timeout_sec)
        finally:
            self.should_exit = True
