"""The media host: an always-on ASGI app serving `/ws/{call_id}`, the websocket ACS streams call audio to.

Each connection is authenticated (the per-call token in the URL, or the ACS bearer JWT on the
upgrade), refused with a close code when the call is unknown (4404) or finished (4410), and served by
its own CallSession. A reconnect for the same call replaces the previous session and resumes the
conversation from the store.

How it is served (one process or several on one port) is `media_host.serving`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
from collections.abc import AsyncIterator, Callable
from uuid import UUID

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from media_host.session import CallSession
from shared import metrics
from shared.composition import Services, ServicesHolder
from shared.conversation.engine import open_conversation
from shared.models import CallState
from shared.settings import ProcessRole, Settings
from shared.speech.base import SpeechEngines
from shared.telephony.callback_auth import CallbackAuthError

log = logging.getLogger(__name__)

CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_NOT_FOUND = 4404
CLOSE_FINISHED = 4410
CLOSE_REPLACED = 4409
CLOSE_ERROR = 1011


class MediaHost:
    """Process-wide: the services, the speech engines (loaded once), and the live sessions."""

    def __init__(self, holder: ServicesHolder, engines: Callable[[Services], SpeechEngines]) -> None:
        self.holder = holder
        self._engines_factory = engines
        self._engines: SpeechEngines | None = None
        self.sessions: dict[UUID, CallSession] = {}
        self.metrics = metrics.Metrics()

    async def engines(self, services: Services) -> SpeechEngines:
        if self._engines is None:
            self._engines = await asyncio.to_thread(self._engines_factory, services)
        return self._engines

    async def _authorized(self, websocket: WebSocket, services: Services, expected: str | None) -> bool:
        token = websocket.query_params.get("token")
        if token and expected and hmac.compare_digest(token.encode(), expected.encode()):
            return True
        try:
            await services.callback_verifier.verify(websocket.headers.get("authorization"))
        except CallbackAuthError:
            return False
        return True

    async def serve(self, websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            call_id = UUID(websocket.path_params["call_id"])
        except ValueError:
            await websocket.close(CLOSE_BAD_REQUEST, "call id is not a UUID")
            return
        services = await self.holder.get()
        call = await services.store.get(call_id)
        if call is None:
            await websocket.close(CLOSE_NOT_FOUND, "unknown call")
            return
        if not await self._authorized(websocket, services, call.secrets.media):
            await websocket.close(CLOSE_UNAUTHORIZED, "unauthorized")
            return
        if call.connection.state is CallState.DISCONNECTED:
            await websocket.close(CLOSE_FINISHED, "call finished")
            return
        previous = self.sessions.get(call_id)
        if previous is not None:
            await previous.close()
        conversation = await open_conversation(services, call)
        session = CallSession(
            conversation, await self.engines(services), websocket.send_text, recorder=self.metrics
        )
        self.sessions[call_id] = session
        try:
            await session.run(_messages(websocket))
        except Exception:  # this call only: the other sessions go on
            self.metrics.count(metrics.MEDIA_SESSIONS_FAILED)
            log.exception("call %s: media session failed", call_id)
            with contextlib.suppress(Exception):
                await websocket.close(CLOSE_ERROR, "internal error")
        finally:
            if self.sessions.get(call_id) is session:
                del self.sessions[call_id]


async def _messages(websocket: WebSocket) -> AsyncIterator[str | bytes]:
    while True:
        try:
            message = await websocket.receive()
        except WebSocketDisconnect:
            return
        if message["type"] == "websocket.disconnect":
            return
        payload = message.get("text") if message.get("text") is not None else message.get("bytes")
        if payload is not None:
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
