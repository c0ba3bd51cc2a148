"""The 256 KiB request limit holds on the bytes read, whatever the framing (chunked or not), on every
route, before any authentication work: 413 with a reason."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from blueprints.api import MAX_BODY_BYTES, create_api
from local.threaded_server import ThreadedServer
from shared.settings import load_settings

CHUNK = 64 * 1024


def _app(tmp_path: Path) -> Any:
    return create_api(
        load_settings(
            api={"key": "k"},
            store={"sqlite": {"path": tmp_path / "calls.sqlite3"}},
            sms={"twilio": {"auth_token": "t"}},
        )
    )


async def _drive(app: Any, path: str, chunks: int) -> tuple[int, int, bytes]:
    """POST `chunks` chunks of 64 KiB with no content-length; returns (status, chunks read, body)."""
    read = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        if read >= chunks:
            return {"type": "http.disconnect"}
        read += 1
        return {"type": "http.request", "body": b"x" * CHUNK, "more_body": read < chunks}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"test"),
            (b"transfer-encoding", b"chunked"),
            (b"content-type", b"application/json"),
        ],
        "client": ("127.0.0.1", 1234),
        "server": ("127.0.0.1", 80),
    }
    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], read, body


@pytest.mark.parametrize(
    "path", ["/api/call", "/api/sms/twilio", "/api/call/events/7d5f1a4e-5d6b-4b6e-9f0e-2f3c1d2e3f4a"]
)
async def test_a_chunked_body_over_the_limit_is_413_after_reading_no_more_than_the_limit(
    tmp_path: Path, path: str
) -> None:
    app = _app(tmp_path)
    try:
        status, read, body = await _drive(app, path, chunks=256)  # 16 MiB offered
    finally:
        await app.state.services.aclose()
    assert status == 413
    assert b"larger than" in body
    assert read * CHUNK <= MAX_BODY_BYTES + CHUNK


async def test_a_chunked_body_under_the_limit_still_reaches_the_route(tmp_path: Path) -> None:
    app = _app(tmp_path)
    try:
        status, _read, _body = await _drive(app, "/api/call", chunks=2)
    finally:
        await app.state.services.aclose()
    assert status in (400, 401)  # the route ran (a body that is not JSON, no API key), no 413


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    server = ThreadedServer(_app(tmp_path), name="api", lifespan="off")
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


async def test_a_real_chunked_post_over_the_limit_gets_413_from_the_server(served: str) -> None:
    """Over a real socket, writing chunks while watching for the answer (as curl or a browser does):
    the 413 comes once the limit is passed, long before the 16 MiB offered are sent."""
    host, port = served.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        b"POST /api/call HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    sent, answer = 0, b""
    try:
        while sent < 16 * 1024 * 1024 and not answer:
            writer.write(b"%x\r\n%s\r\n" % (CHUNK, b"y" * CHUNK))
            sent += CHUNK
            try:
                await writer.drain()
                answer = await asyncio.wait_for(reader.read(4096), 0.01)
            except TimeoutError:
                continue
            except ConnectionError:
                answer = await reader.read(4096)
        answer += await asyncio.wait_for(reader.read(4096), 5)
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"larger than" in answer
    assert sent < 16 * 1024 * 1024
