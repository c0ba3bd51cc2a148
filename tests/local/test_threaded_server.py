"""A uvicorn server on a thread: a free port, a clear error when the port is taken, a clean stop."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from local.threaded_server import ThreadedServer
from shared.mappings import deep_merge


def _app() -> Starlette:
    async def hello(_request: object) -> PlainTextResponse:
        return PlainTextResponse("hello")

    return Starlette(routes=[Route("/", hello)])


def test_serves_on_a_free_port_then_stops() -> None:
    server = ThreadedServer(_app(), name="test server")
    server.start()
    try:
        assert server.running and server.port > 0
        assert httpx.get(f"http://127.0.0.1:{server.port}/").text == "hello"
    finally:
        server.stop()
    assert not server.running


def test_a_taken_port_is_a_clear_error() -> None:
    first = ThreadedServer(_app(), name="first server")
    first.start()
    try:
        second = ThreadedServer(_app(), name="second server", port=first.port)
        with pytest.raises(RuntimeError, match=rf"second server cannot listen on 127.0.0.1:{first.port}"):
            second.start()
        with pytest.raises(RuntimeError, match="already started"):
            first.start()
    finally:
        first.stop()


def test_deep_merge_lays_mappings_over_each_other() -> None:
    base = {"store": {"backend": "sqlite", "sqlite": {"path": "a"}}, "mode": "local", "keep": [1]}
    extra = {"store": {"sqlite": {"path": "b"}}, "mode": "azure", "keep": [2]}
    assert deep_merge(base, extra) == {
        "store": {"backend": "sqlite", "sqlite": {"path": "b"}},
        "mode": "azure",
        "keep": [2],
    }
    assert base["store"] == {"backend": "sqlite", "sqlite": {"path": "a"}}  # inputs untouched
