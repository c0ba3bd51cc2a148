"""The media host: an always-on ASGI app serving `/ws/{call_id}`, the websocket ACS streams call audio to.

Each connection is admitted for one call (`media_host.admission`: the per-call token in the URL, or
the ACS bearer JWT bound to the call by its connection id), refused with a close code when the
credentials are wrong (4401, also for an unknown call), the call is unknown (4404, valid JWT only) or
finished (4410), bounded in message size and rate, and served by its own CallSession. A reconnect for
the same call replaces the previous session and closes the previous socket (4409), so nothing the
caller cannot hear is answered or stored; the conversation resumes from the store.

`/twilio/ws` serves Twilio Media Streams the same way (`media_host.twilio_codec`): Twilio's <Stream>
URL carries no query string, so the socket names its call and credentials in the `start` event's
custom parameters (`callId`, `token`: the call's media secret, optionally `pk`: the caller's number).
A socket whose first messages are not `connected` then `start` within `TWILIO_START_WAIT_SEC`, or
whose start names no call, is closed with 4400 and a reason; wrong credentials get 4401 as on the ACS
route. The route picks the codec; the session never knows which protocol it speaks.

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

from media_host import twilio_codec
from media_host.admission import CLOSE_UNAUTHORIZED, SocketLimits, admit
from media_host.codec import AcsCodec, Codec
from media_host.farewell import say_farewell_when_left
from media_host.session import CallSession
from media_host.twilio_codec import TwilioCodec
from shared.calls.routing import PARTITION_PARAM, TWILIO_CALL_ID_PARAM, TWILIO_PATH, TWILIO_TOKEN_PARAM
from shared.composition import Services, ServicesHolder
from shared.conversation.engine import open_conversation
from shared.models import Call
from shared.settings import ProcessRole, Settings
from shared.speech.base import SpeechEngines
from shared.telemetry import names, record, spans
from shared.telemetry.logs import set_call_id

log = logging.getLogger(__name__)

CLOSE_BAD_REQUEST = 4400
CLOSE_REPLACED = 4409
CLOSE_ERROR = 1011
CLOSE_TRY_AGAIN_LATER = 1013  # draining: ACS's next call goes to a replica that is ready
TWILIO_START_WAIT_SEC = 10.0


class MediaHost:
    """Process-wide: the services, the speech engines (loaded once), and the live sessions."""

    def __init__(self, holder: ServicesHolder, engines: Callable[[Services], SpeechEngines]) -> None:
        self.holder = holder
        self._engines_factory = engines
        self._engines: SpeechEngines | None = None
        self._engines_lock = asyncio.Lock()
        self._loading: asyncio.Task[None] | None = None
        self.loading_error: str | None = None
        self.draining = False
        self._idle = asyncio.Event()  # set when the last live session ends
        self.sessions: dict[UUID, CallSession] = {}
        self.sockets: dict[UUID, WebSocket] = {}  # the socket each live session reads

    async def engines(self, services: Services) -> SpeechEngines:
        async with self._engines_lock:
            if self._engines is None:
                self._engines = await asyncio.to_thread(self._engines_factory, services)
        return self._engines

    def start_loading(self) -> None:
        """Load the speech engines now, not on the first call (readiness waits for them)."""

        async def load() -> None:
            try:
                await self.engines(await self.holder.get())
            except Exception as exc:  # readiness says why; the first call will try again
                self.loading_error = f"{type(exc).__name__}: {exc}"
                log.exception("speech engines failed to load")

        self._loading = asyncio.get_running_loop().create_task(load(), name="media-engines")

    async def stop_loading(self) -> None:
        if self._loading is not None:
            self._loading.cancel()
            await asyncio.gather(self._loading, return_exceptions=True)

    def readiness(self) -> tuple[bool, str]:
        if self.draining:
            return False, "draining"
        if self._engines is None:
            return False, f"engines failed: {self.loading_error}" if self.loading_error else "loading"
        return True, "ready"

    async def drain(self, timeout_sec: float) -> None:
        """Take no new call; let the live ones end, up to `timeout_sec`; then close those left."""
        self.draining = True
        log.warning("media host draining: %d live call(s), up to %g s", len(self.sessions), timeout_sec)
        if self.sessions:
            self._idle.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), timeout_sec)
        if self.sessions:
            log.warning("drain time over: closing %d live call(s)", len(self.sessions))
        for session in list(self.sessions.values()):
            await session.close()

    async def serve(self, websocket: WebSocket) -> None:
        await websocket.accept()
        if self.draining:
            await websocket.close(CLOSE_TRY_AGAIN_LATER, "draining")
            return
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
        await self._serve_call(
            websocket, services, call, AcsCodec(call_id), _messages(websocket, SocketLimits())
        )

    async def serve_twilio(self, websocket: WebSocket) -> None:
        """A Twilio Media Streams socket: the call and its credentials come with the `start` event."""
        await websocket.accept()
        if self.draining:
            await websocket.close(CLOSE_TRY_AGAIN_LATER, "draining")
            return
        messages = _messages(websocket, SocketLimits())
        start = await _twilio_start(messages)
        if isinstance(start, str):
            with contextlib.suppress(Exception):  # gone already when the limits closed it
                await websocket.close(CLOSE_BAD_REQUEST, start)
            return
        try:
            call_id = UUID(start.parameters.get(TWILIO_CALL_ID_PARAM, ""))
        except ValueError:
            await websocket.close(
                CLOSE_BAD_REQUEST, f"customParameters.{TWILIO_CALL_ID_PARAM} is not a call id"
            )
            return
        credentials = {  # as the ACS route's query string
            "token": start.parameters.get(TWILIO_TOKEN_PARAM, ""),
            PARTITION_PARAM: start.parameters.get(PARTITION_PARAM, ""),
        }
        services = await self.holder.get()
        admission = await admit(services, call_id, credentials, {})  # the token only: the JWT path is ACS's
        if admission.call is None:
            await websocket.close(admission.code or CLOSE_UNAUTHORIZED, admission.reason)
            return
        codec = TwilioCodec(call_id)
        codec.stream_sid = start.stream_sid
        await self._serve_call(websocket, services, admission.call, codec, messages)

    async def _serve_call(
        self,
        websocket: WebSocket,
        services: Services,
        call: Call,
        codec: Codec,
        messages: AsyncIterator[str | bytes],
    ) -> None:
        """One admitted socket serving its call to the end, whatever its wire protocol (the codec)."""
        call_id = call.call_id
        set_call_id(call.call_id)  # this connection's task, and every task it starts, logs the call id
        previous = self.sessions.get(call_id)
        if previous is not None:  # a newer socket for this call: the old session ends, its socket closes
            await previous.close()
            old = self.sockets.get(call_id)
            if old is not None:
                with contextlib.suppress(Exception):
                    await old.close(CLOSE_REPLACED, "replaced by a newer socket")
        conversation = await open_conversation(services, call)
        session = CallSession(conversation, await self.engines(services), websocket.send_text, codec=codec)
        self.sessions[call_id] = session
        self.sockets[call_id] = websocket
        farewell = asyncio.create_task(
            say_farewell_when_left(session, services.store), name=f"farewell-{call_id}"
        )
        try:
            with spans.call_part(
                names.SPAN_MEDIA, call
            ) as span:  # the call id in every log line of its tasks
                try:
                    await session.run(messages)
                finally:
                    record.media_session_ended(
                        span,
                        frames_in=session.stats.frames_in,
                        frames_out=session.playback.frames_sent,
                        late_frames=session.playback.late_frames,
                        turns=session.stats.turns,
                        barge_ins=session.stats.barge_ins,
                    )
        except Exception:  # this call only: the other sessions go on
            record.session_failed()
            log.exception("call %s: media session failed", call_id)
            with contextlib.suppress(Exception):
                await websocket.close(CLOSE_ERROR, "internal error")
        finally:
            farewell.cancel()
            await asyncio.gather(farewell, return_exceptions=True)
            if self.sessions.get(call_id) is session:
                del self.sessions[call_id]
            if self.sockets.get(call_id) is websocket:
                del self.sockets[call_id]
            if not self.sessions:
                self._idle.set()


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


async def _twilio_start(messages: AsyncIterator[str | bytes]) -> twilio_codec.TwilioStart | str:
    """The stream's `start` event (after `connected`), or why the socket is refused."""
    try:
        async with asyncio.timeout(TWILIO_START_WAIT_SEC):
            message = await anext(messages, None)
            if message is not None and twilio_codec.is_connected(message):
                message = await anext(messages, None)
    except TimeoutError:
        return f"no start event within {TWILIO_START_WAIT_SEC:g} s"
    if message is None:
        return "closed before the start event"
    try:
        return twilio_codec.read_start(message)
    except ValueError as exc:
        return str(exc)


def create_media_app(
    settings: Settings | None = None,
    *,
    engines: Callable[[Services], SpeechEngines],
    holder: ServicesHolder | None = None,
) -> Starlette:
    host = MediaHost(holder or ServicesHolder(settings, role=ProcessRole.MEDIA), engines)

    async def liveness(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "alive", "sessions": len(host.sessions), "pid": os.getpid()})

    async def readiness(_request: Request) -> JSONResponse:
        ready, status = host.readiness()
        return JSONResponse(
            {"status": status, "sessions": len(host.sessions)}, status_code=200 if ready else 503
        )

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        host.start_loading()
        yield
        await host.stop_loading()
        for session in list(host.sessions.values()):
            await session.close()
        await host.holder.aclose()

    app = Starlette(
        routes=[
            Route("/health/liveness", liveness),
            Route("/health/readiness", readiness),
            WebSocketRoute("/ws/{call_id}", host.serve),
            WebSocketRoute(TWILIO_PATH, host.serve_twilio),
        ],
        lifespan=lifespan,
    )
    app.state.host = host
    return app
