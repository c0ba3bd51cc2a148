"""The cache dies or hangs: call events and inbound texts are still applied (the dedupe is only an
optimisation), each post-call job is still enqueued exactly once, and nothing waits for ever."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared.calls.events import handle_call_events
from shared.calls.routing import with_new_secrets
from shared.composition import Services, build_services
from shared.jobs.base import MemoryJobQueue
from shared.models import Call, CallDirection, CallState, MessageAction, Persona
from shared.settings import load_settings
from shared.sms.inbound import receive_sms
from tests.faults.conftest import RedisProcess

CALLER = "+33612345678"
BOT = "+33100000000"


@pytest.fixture
async def services(tmp_path: Path, redis_process: RedisProcess) -> AsyncIterator[Services]:
    settings = load_settings(
        store={"sqlite": {"path": tmp_path / "calls.sqlite3"}},
        cache={"backend": "redis", "redis": {"url": redis_process.url}},
    )
    built = build_services(settings)
    yield built
    await built.aclose()


async def _connected_call(services: Services) -> Call:
    call = with_new_secrets(Call(caller_phone=CALLER, bot_phone=BOT, direction=CallDirection.OUTBOUND))
    call.connection.state = CallState.CONNECTED
    call.connection.call_connection_id = "connection-1"
    return await services.store.create(call)


def _disconnected(event_id: str) -> dict[str, object]:
    return {
        "id": event_id,
        "type": "Microsoft.Communication.CallDisconnected",
        "data": {"callConnectionId": "connection-1"},
    }


@pytest.mark.parametrize("fault", ["dead", "hung"])
async def test_call_events_are_applied_and_the_post_call_job_enqueued_once_without_the_cache(
    services: Services, redis_process: RedisProcess, fault: str
) -> None:
    call = await _connected_call(services)
    await services.cache.set("warm", b"1")  # the cache worked when the call started
    redis_process.kill() if fault == "dead" else redis_process.freeze()

    applied = await handle_call_events(services, call.call_id, call.secrets.callback, [_disconnected("ev-1")])
    assert applied == ["CallDisconnected"]
    again = await handle_call_events(services, call.call_id, call.secrets.callback, [_disconnected("ev-1")])
    assert again == ["CallDisconnected"]  # the cache cannot say it was seen: applied again, harmlessly

    stored = await services.store.get(call.call_id)
    assert stored is not None and stored.connection.state is CallState.DISCONNECTED
    assert isinstance(services.jobs, MemoryJobQueue)
    assert [job.call_id for job in services.jobs.sent] == [str(call.call_id)]


@pytest.mark.parametrize("fault", ["dead", "hung"])
async def test_an_inbound_text_joins_the_call_without_the_cache(
    services: Services, redis_process: RedisProcess, fault: str
) -> None:
    call = await _connected_call(services)
    redis_process.kill() if fault == "dead" else redis_process.freeze()

    joined = await receive_sms(services, CALLER, BOT, "My policy number is 123", message_id="sms-1")
    assert joined is not None and joined.call_id == call.call_id
    stored = await services.store.get(call.call_id)
    assert stored is not None
    texts = [
        m.content for m in stored.messages if m.persona is Persona.HUMAN and m.action is MessageAction.SMS
    ]
    assert texts == ["My policy number is 123"]
