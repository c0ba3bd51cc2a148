"""A browser softphone on the simulator: talk to the bot with a microphone (loopback only, no CDN).

GET /softphone       the page; its script, stylesheet and audio worklet are files beside this module
                     (`static/`), served with a CSP that allows same-origin scripts only
WS  /softphone/ws    ?from=<E.164>&key=<digit>: the caller's number (empty: a new one each call) rings
                     `config.softphone_to` (the bot), and once the media flows the key is pressed (DTMF:
                     1 = the first language offered, 2 = the second...); then:
                     browser -> server: binary 20 ms frames of 16 kHz mono PCM16LE (the microphone), fed
                     to the call's phone as live caller audio; text {"type": "hangup"} hangs up;
                     server -> browser: binary 16 kHz PCM16LE (the bot audio the phone hears), and JSON
                     text events {type: "status", text, connected?} / {type: "transcript", persona, text} /
                     {type: "interim", text} / {type: "sms", persona, text} / {type: "claim", claim: [{field,
                     label, text, missing}]} / {type: "ended", report_url?} (the call document, polled
                     through `config.softphone_events` every 300 ms). After the call the socket stays open
                     for `SMS_WAIT_S` so the post-call text shows, then the server closes it. Closing the
                     socket during the call hangs up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from local.acs_simulator.audio import resample
from local.acs_simulator.errors import AcsError
from local.acs_simulator.phone import Phone
from local.acs_simulator.state import SimCall

if TYPE_CHECKING:
    from local.acs_simulator.switchboard import Switchboard

__all__ = ["SOFTPHONE_RATE", "softphone_routes"]

SOFTPHONE_RATE = 16000
_POLL_S = 0.3
SMS_WAIT_S = 90.0  # after the call: how long the page still hears of new texts (the post-call SMS)
_MAX_QUEUED_FRAMES = 500  # 10 s of bot audio waiting for a slow browser
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_STATIC = Path(__file__).with_name("static")
_FILES = {  # path -> (file, media type)
    "/softphone/softphone.js": ("softphone.js", "text/javascript; charset=utf-8"),
    "/softphone/pcm16k-worklet.js": ("pcm16k-worklet.js", "text/javascript; charset=utf-8"),
    "/softphone/softphone.css": ("softphone.css", "text/css; charset=utf-8"),
}
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_log = logging.getLogger(__name__)


def _caller_number() -> str:
    return f"+1555{secrets.randbelow(10**7):07d}"


class _Session:
    """One browser on one call."""

    def __init__(self, board: Switchboard, websocket: WebSocket, call: SimCall) -> None:
        self.board, self.websocket, self.call = board, websocket, call
        self.audio: asyncio.Queue[bytes] = asyncio.Queue(maxsize=_MAX_QUEUED_FRAMES)
        self.phone: Phone | None = None
        self._listener: Callable[[bytes], None] | None = None
        self._send_lock = asyncio.Lock()
        self._messages_sent = 0
        self._sms_sent = 0
        self._claim: list[Any] | None = None
        self._interim = ""
        self.report_url: str | None = None
        self.key: str | None = None  # the DTMF key to press once the media flows (language choice)

    async def send_json(self, event: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.websocket.send_text(json.dumps(event))

    def current_phone(self) -> Phone | None:
        phone = self.board.streams.phones.get(self.call.call_connection_id)
        if phone is not self.phone:
            self.detach()
            if phone is not None:
                rate = phone.sample_rate

                def heard(pcm: bytes) -> None:
                    with contextlib.suppress(asyncio.QueueFull):
                        self.audio.put_nowait(resample(pcm, rate, SOFTPHONE_RATE))

                phone.listeners.append(heard)
                self._listener = heard
            self.phone = phone
        return phone

    def detach(self) -> None:
        if self.phone is not None and self._listener is not None:
            with contextlib.suppress(ValueError):
                self.phone.listeners.remove(self._listener)
        self.phone, self._listener = None, None

    async def relay_audio(self) -> None:
        while True:
            pcm = await self.audio.get()
            async with self._send_lock:
                await self.websocket.send_bytes(pcm)

    async def publish(self) -> None:
        """Push the call document's new messages and claim changes; `ended` when the call is over."""
        fetch = self.board.config.softphone_events
        if fetch is None:
            return
        try:
            document = await fetch(self.call.call_connection_id)
        except Exception:  # the page keeps working without its transcript
            _log.exception("softphone: reading call %s failed", self.call.call_connection_id)
            return
        if not document:
            return
        messages = document.get("messages") or []
        for message in messages[self._messages_sent :]:
            await self.send_json({"type": "transcript", **message})
        self._messages_sent = max(self._messages_sent, len(messages))
        texts = document.get("sms") or []
        for text in texts[self._sms_sent :]:
            await self.send_json({"type": "sms", **text})
        self._sms_sent = max(self._sms_sent, len(texts))
        interim = str(document.get("interim") or "")
        if interim != self._interim:
            self._interim = interim
            await self.send_json({"type": "interim", "text": interim})
        claim = document.get("claim")
        if isinstance(claim, list) and claim != self._claim:
            self._claim = list(claim)
            await self.send_json({"type": "claim", "claim": claim})
        report_url = document.get("report_url")
        self.report_url = report_url if isinstance(report_url, str) else None

    async def watch(self) -> None:
        state = None
        while True:
            phone = self.current_phone()
            if phone is not None and self.key is not None:
                key, self.key = self.key, None
                with contextlib.suppress(AcsError):
                    self.board.send_dtmf(self.call.call_connection_id, key)
            if self.call.state.value != state:
                state = self.call.state.value
                connected = state == "connected"
                await self.send_json({"type": "status", "text": f"call {state}", "connected": connected})
            await self.publish()
            if self.call.ended:
                await asyncio.sleep(_POLL_S)
                await self.publish()  # the last words
                await self.send_json({"type": "ended", "report_url": self.report_url})
                await self.linger()
                return
            await asyncio.sleep(_POLL_S)

    async def linger(self) -> None:
        """After the call: the texts that follow it (the post-call SMS), then the server closes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SMS_WAIT_S
        while loop.time() < deadline:
            await asyncio.sleep(1.0)
            await self.publish()
        with contextlib.suppress(RuntimeError):
            await self.websocket.close()


def softphone_routes(board: Switchboard) -> list[BaseRoute]:
    async def page(_request: Request) -> Response:
        return HTMLResponse((_STATIC / "softphone.html").read_text(encoding="utf-8"), headers=HEADERS)

    async def asset(request: Request) -> Response:
        name, media_type = _FILES[request.url.path]
        return FileResponse(_STATIC / name, media_type=media_type, headers=HEADERS)

    async def refuse(websocket: WebSocket, error: str) -> None:
        await websocket.send_text(json.dumps({"type": "ended", "error": error}))
        await websocket.close(code=1008)

    async def socket(websocket: WebSocket) -> None:
        await websocket.accept()
        to_number = board.config.softphone_to
        if not to_number:
            await refuse(websocket, "no softphone_to configured")
            return
        caller = websocket.query_params.get("from") or _caller_number()
        key = websocket.query_params.get("key") or None
        if not _E164.match(caller):
            await refuse(websocket, f"{caller!r} is not an E.164 number such as +33612345678")
            return
        if key is not None and not (len(key) == 1 and key.isdigit()):
            await refuse(websocket, "the language key must be one digit")
            return
        call = board.ring(caller, to_number, "Softphone")
        session = _Session(board, websocket, call)
        session.key = key
        await session.send_json(
            {"type": "status", "text": f"ringing {to_number} from {caller}", "call": call.call_connection_id}
        )
        tasks = [asyncio.create_task(session.relay_audio()), asyncio.create_task(session.watch())]
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                data = message.get("bytes")
                if data:
                    phone = session.current_phone()
                    if phone is not None:
                        phone.feed_live(data, SOFTPHONE_RATE)
                elif message.get("text") and _is_hangup(message["text"]) and not call.ended:
                    with contextlib.suppress(AcsError):
                        board.hang_up_as_caller(call.call_connection_id)
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            session.detach()
            if not call.ended:
                with contextlib.suppress(AcsError):
                    board.hang_up_as_caller(call.call_connection_id)

    return [
        Route("/softphone", page, methods=["GET"]),
        *(Route(path, asset, methods=["GET"]) for path in _FILES),
        WebSocketRoute("/softphone/ws", socket),
    ]


def _is_hangup(text: str) -> bool:
    try:
        event = json.loads(text)
    except ValueError:
        return False
    return isinstance(event, dict) and event.get("type") == "hangup"
