"""A tiny Twilio Messages API on loopback, for the Twilio adapter tests."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from local.threaded_server import ThreadedServer

SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "twilio-test-token"


@dataclass
class FakeTwilio:
    """Answers 201 with a message sid, or the next scripted failure `(status, body)`."""

    received: list[dict[str, Any]] = field(default_factory=list)
    failures: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    url: str = ""

    async def messages(self, request: Request) -> Response:
        expected = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return JSONResponse({"code": 20003, "message": "Authenticate", "status": 401}, status_code=401)
        form = dict(parse_qsl((await request.body()).decode()))
        self.received.append({"path": request.url.path, **form})
        if self.failures:
            status, body = self.failures.pop(0)
            return JSONResponse(body, status_code=status)
        sid = f"SM{len(self.received):032d}"
        return JSONResponse({"sid": sid, "status": "queued", "to": form.get("To")}, status_code=201)


@contextmanager
def fake_twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    app = Starlette(
        routes=[Route("/2010-04-01/Accounts/{sid}/Messages.json", fake.messages, methods=["POST"])]
    )
    server = ThreadedServer(app, name="fake Twilio")
    server.start()
    fake.url = f"http://127.0.0.1:{server.port}"
    try:
        yield fake
    finally:
        server.stop()
