"""Media sockets against the local stack (simulator JWTs): the JWT is bound to its call, credentials are
checked before a call's existence is revealed, a replaced socket is closed, and each socket is bounded
in message size and rate."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import websockets
from azure.communication.callautomation.aio import CallAutomationClient
from azure.core.credentials import AzureKeyCredential
from websockets.exceptions import ConnectionClosed

from local.dev import LocalStack
from media_host.admission import CLOSE_NOT_FOUND, CLOSE_POLICY, CLOSE_TOO_BIG, CLOSE_UNAUTHORIZED
from media_host.app import CLOSE_REPLACED
from shared.composition import Services
from shared.models import Call, CallState
from tests.calls.test_telephony_flow import call_in_state, place
from tests.stack import local_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with local_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


def _url(stack: LocalStack, call_id: UUID, token: str | None = None) -> str:
    return f"ws://127.0.0.1:{stack.media_port}/ws/{call_id}" + (f"?token={token}" if token else "")


def _jwt(stack: LocalStack, connection_id: str | None = None) -> dict[str, str]:
    assert stack.simulator is not None
    headers = {"Authorization": f"Bearer {stack.simulator.signer.token()}"}
    if connection_id is not None:
        headers["x-ms-call-connection-id"] = connection_id
    return headers


async def _close_code(url: str, headers: dict[str, str] | None = None, within: float = 5) -> int | None:
    """The close code the server ends the socket with, or None if it stays open for `within` s."""
    async with websockets.connect(url, additional_headers=headers or {}, close_timeout=1) as socket:
        try:
            while True:
                await asyncio.wait_for(socket.recv(), within)
        except ConnectionClosed:
            return socket.close_code
        except TimeoutError:
            return None


async def _stop_the_phones_stream(stack: LocalStack, call: Call) -> None:
    """Stop ACS's (the simulator's) own media stream of the call through Call Automation."""
    assert stack.simulator is not None and call.connection.call_connection_id
    client = CallAutomationClient(stack.simulator.endpoint, AzureKeyCredential(stack.simulator.access_key))
    async with client:
        await client.get_call_connection(call.connection.call_connection_id).stop_media_streaming()


async def _live_call(api: httpx.AsyncClient, services: Services) -> Call:
    placed = await place(api)
    return await call_in_state(services, UUID(placed["call_id"]), CallState.CONNECTED)


async def test_an_acs_jwt_opens_only_the_call_it_names(
    stack: LocalStack, api: httpx.AsyncClient, services: Services
) -> None:
    first, second = await _live_call(api, services), await _live_call(api, services)
    other_connection = second.connection.call_connection_id
    assert other_connection and other_connection != first.connection.call_connection_id
    assert await _close_code(_url(stack, first.call_id), _jwt(stack)) == CLOSE_UNAUTHORIZED
    assert await _close_code(_url(stack, first.call_id), _jwt(stack, other_connection)) == CLOSE_UNAUTHORIZED
    for call in (first, second):
        await services.telephony.hang_up(call)


async def test_credentials_are_checked_before_saying_a_call_does_not_exist(stack: LocalStack) -> None:
    unknown = uuid4()
    assert await _close_code(_url(stack, unknown, token="guess")) == CLOSE_UNAUTHORIZED
    assert await _close_code(_url(stack, unknown)) == CLOSE_UNAUTHORIZED
    assert await _close_code(_url(stack, unknown), _jwt(stack, "any")) == CLOSE_NOT_FOUND  # ACS itself


async def test_a_second_socket_closes_the_first_with_4409(
    stack: LocalStack, api: httpx.AsyncClient, services: Services
) -> None:
    call = await _live_call(api, services)
    headers = _jwt(stack, call.connection.call_connection_id)
    async with websockets.connect(_url(stack, call.call_id, call.secrets.media), close_timeout=1) as first:
        await asyncio.sleep(0.3)  # its session is up
        async with websockets.connect(_url(stack, call.call_id), additional_headers=headers, close_timeout=1):
            with pytest.raises(ConnectionClosed):
                while True:
                    await asyncio.wait_for(first.recv(), 5)
            assert first.close_code == CLOSE_REPLACED
    await services.telephony.hang_up(call)


@pytest.mark.parametrize("flood", ["oversized", "rate"])
async def test_a_socket_over_its_size_or_rate_is_closed(
    stack: LocalStack, api: httpx.AsyncClient, services: Services, flood: str
) -> None:
    call = await _live_call(api, services)
    await _stop_the_phones_stream(stack, call)  # else its restarted stream may replace this socket (4409)
    async with websockets.connect(
        _url(stack, call.call_id, call.secrets.media), close_timeout=1, max_size=None
    ) as socket:
        with pytest.raises(ConnectionClosed):
            if flood == "oversized":
                audio = base64.b64encode(bytes(10 * 1024 * 1024)).decode()  # a 10 MB AudioData frame
                await socket.send(json.dumps({"kind": "AudioData", "audioData": {"data": audio}}))
            else:
                small: Any = json.dumps({"kind": "DtmfData", "dtmfData": {"data": "1"}})
                for _ in range(5_000):
                    await socket.send(small)
            while True:
                await asyncio.wait_for(socket.recv(), 5)
        assert socket.close_code == (CLOSE_TOO_BIG if flood == "oversized" else CLOSE_POLICY)
    await services.telephony.hang_up(call)
