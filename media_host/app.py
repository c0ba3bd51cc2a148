"""The media host: an always-on ASGI app serving `/ws/{call_id}`, the websocket ACS streams call audio to.

Each connection is admitted for one call (`media_host.admission`: the per-call token in the URL, or
the ACS bearer JWT bound to the call by its connection id), refused with a close code when the
credentials are wrong (4401, also for an unknown call), the call is unknown (4404, valid JWT only) or
finished (4410), bounded in message size and rate, and served by its own CallSession. A reconnect for
the same call replaces the previous session and closes the previous socket (4409), so nothing the
caller cannot hear is answered or stored; the conversation resumes from the store.

How it is served (one process or several on one port) is `media_host.serving`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable
from uuid import UUID

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from media_host.admission import (  # the close codes are read from here too
    CLOSE_FINISHED,  # noqa: F401
    CLOSE_NOT_FOUND,  # noqa: F401
    CLOSE_UNAUTHORIZED,
    SocketLimits,
    admit,
)
from media_host.session import CallSession
from shared import metrics
from shared.composition import Services, ServicesHolder
from shared.conversation.engine import open_conversation
from shared.settings import ProcessRole, Settings
from shared.speech.base import SpeechEngines

log = logging.getLogger(__name__)

CLOSE_BAD_REQUEST = 4400
CLOSE_REPLACED = 4409
CLOSE_ERROR = 1011


class MediaHost:
    """Process-wide: the services, the speech engines (loaded once), and the live sessions."""

    def __init__(self, holder: ServicesHolder, engines: Callable[[Services], SpeechEngines]) -> None:
        self.holder = holder
        self._engines_factory = engines
        self._engines: SpeechEngines | None = None
        self.sessions: dict[UUID, CallSession] = {}
        self.sockets: dict[UUID, WebSocket] = {}  # the socket each live session reads
        self.metrics = metrics.Metrics()

    async def engines(self, services: Services) -> SpeechEngines:
        if self._engines is None:
            self._engines = await asyncio.to_thread(self._engines_factory, services)
        return self._engines

    async def serve(self, websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            call_id = UUID(websocket.path_params["call_id"])
        except ValueError:
            await websocket.close(CLOSE_BAD_REQUEST, "call id is not a UUID")
            return
        services = await self.holder.get()
        admission = await admit(services, call_id, websocket.query_params, websocket.headers)
        if admission.call is None:
            await websocket.close(admission.code or CLOSE_UNAUTHORIZED, admission.reason)
            return
        call = admission.call
        previous = self.sessions.get(call_id)
        if previous is not None:  # a newer socket for this call: the old session ends, its socket closes
            await previous.close()
            old = self.sockets.get(call_id)
            if old is not None:
                with contextlib.suppress(Exception):
                    await old.close(CLOSE_REPLACED, "replaced by a newer socket")
        conversation = await open_conversation(services, call)
        session = CallSession(
            conversation, await self.engines(services), websocket.send_text, recorder=self.metrics
        )
        self.sessions[call_id] = session
        self.sockets[call_id] = websocket
        try:
            await session.run(_messages(websocket, SocketLimits()))
        except Exception:  # this call only: the other sessions go on
            self.metrics.count(metrics.MEDIA_SESSIONS_FAILED)
            log.exception("call %s: media session failed", call_id)
            with contextlib.suppress(Exception):
                await websocket.close(CLOSE_ERROR, "internal error")
        finally:
            if self.sessions.get(call_id) is session:
                del self.sessions[call_id]
            if self.sockets.get(call_id) is websocket:
                del self.sockets[call_id]


async def _messages(websocket: WebSocket, limits: SocketLimits) -> AsyncIterator[str | bytes]:
    while True:
        try:
            message = await websocket.receive()
        except WebSocketDisconnect:
            return
        if message["type"] == "websocket.disconnect":
            return
        payload = message.get("text") if message.get("text") is not None else message.get("bytes")
        if payload is not None:
            refusal = limits.check(payload)
            if refusal is not None:  # a flood or an oversized frame ends this socket, not the process
                with contextlib.suppress(Exception):
                    await websocket.close(*refusal)
                return
            yield payload


def create_media_app(
    settings: Settings | None = None,
    *,
    engines: Callable[[Services], SpeechEngines],
    holder: ServicesHolder | None = None,
) -> Starlette:
    host = MediaHost(holder or ServicesHolder(settings, role=ProcessRole.MEDIA), engines)

    async def liveness(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "alive", "sessions": len(host.sessions), "pid": os.getpid()})

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        for session in list(host.sessions.values()):
            await session.close()
        await host.holder.aclose()

    app = Starlette(
        routes=[Route("/health/liveness", liveness), WebSocketRoute("/ws/{call_id}", host.serve)],
        lifespan=lifespan,
    )
    app.state.host = host
    return app
