"""Recording end to end on loopback: with `recording_enabled`, a connected call is recorded; when it is
hung up the simulator emits `RecordingFileStatusUpdated` through Event Grid, the function app fetches
the WAV from the simulator and keeps it as a blob, and the call ends with its `recording_url`."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any, TypeVar
from urllib.parse import urlsplit
from urllib.request import url2pathname
from uuid import UUID

import httpx
import pytest

from local.dev import LocalStack
from shared.composition import Services
from shared.models import Call, CallState
from tests.stack import eventually, local_stack

T = TypeVar("T")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    data = tmp_path_factory.mktemp("recording-stack")
    with local_stack(data, flags="recording_enabled: true\n") as running:
        yield running


async def test_a_recorded_call_ends_with_the_url_of_its_wav(stack: LocalStack, services: Services) -> None:
    assert stack.simulator is not None
    body: dict[str, Any] = {
        "bot_company": "Contoso",
        "bot_name": "Amélie",
        "phone_number": "+33644444444",
        "task": "Help with the claim.",
    }
    async with httpx.AsyncClient(base_url=stack.api_url, headers={"x-functions-key": stack.api_key}) as api:
        response = await api.post("/api/call", json=body)
    assert response.status_code == 201, response.text
    call_id = UUID(response.json()["call_id"])

    async def recording() -> Call | None:
        call = await services.store.get(call_id)
        ok = call and call.connection.state is CallState.CONNECTED and call.recording_id
        return call if ok else None

    call = await eventually(recording, "the connected call to be recorded")
    connection = call.connection.call_connection_id or ""
    heard_before = len(stack.simulator.bot_audio(connection))  # the recording starts from here
    await asyncio.to_thread(stack.simulator.wait_for_bot_audio, connection, heard_before + 6400, 10)
    await services.telephony.hang_up(call)

    async def stored() -> Call | None:
        current = await services.store.get(call_id)
        return current if current and current.recording_url else None

    ended = await eventually(stored, "the recording URL on the call")
    assert ended.connection.state is CallState.DISCONNECTED and ended.recording_stopped_at is not None
    assert ended.recording_url is not None and ended.recording_url.startswith("file://")
    path = url2pathname(urlsplit(ended.recording_url).path)
    assert path.startswith(str(stack.data_dir / "blobs" / "recordings" / str(call_id)))
    name = path.split("/recordings/", 1)[1]
    wav = await services.blobs.get(name)
    assert wav is not None and wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"
    assert len(wav) > 44 + 6400  # the header and the bot's greeting, recorded
    assert path.endswith(".wav")  # asked for audio/mixed/wav: ACS's own default would be audio+video mp4
    delivery = stack.simulator.wait_for_delivery("RecordingFileStatusUpdated", timeout=5)
    assert delivery.ok and delivery.url and "functionName=recording_file_status" in delivery.url
