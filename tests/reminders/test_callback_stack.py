"""The reminder call-back end to end on loopback: the timer function of the function app runs under the
Functions host stand-in (its admin route, as `func` offers for timers) and the ACS simulator receives
the outbound call-back, which connects and resumes the conversation."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from local.dev import LocalStack
from local.ncrontab import Schedule
from shared.composition import Services
from shared.models import CallState
from shared.models.call import utc_now
from tests.stack import local_stack

from .conftest import ended_call, reminder

CALLER = "+33633333333"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with local_stack(tmp_path_factory.mktemp("callback-stack")) as running:
        yield running


def test_the_timer_fires_every_minute(stack: LocalStack) -> None:
    assert stack.functions is not None
    timer = stack.functions.functions["reminder_callbacks"]
    assert timer.trigger == "timerTrigger" and timer.binding.get("runOnStartup") is False
    now = datetime(2026, 1, 1, 12, 0, 30, tzinfo=UTC)
    assert Schedule.parse(timer.binding["schedule"]).next_after(now) == datetime(
        2026, 1, 1, 12, 1, tzinfo=UTC
    )


async def test_a_due_reminder_is_called_back_through_the_simulator(
    stack: LocalStack, services: Services
) -> None:
    assert stack.simulator is not None
    source = ended_call(reminder("send the estimate", utc_now() - timedelta(days=2)), phone=CALLER)
    source = await services.store.create(source)

    async with httpx.AsyncClient(base_url=stack.api_url) as client:
        response = await client.post("/admin/functions/reminder_callbacks", json={"input": ""})
        assert response.status_code == 202, response.text
        assert (await client.post("/admin/functions/reminder_callbacks", json={})).status_code == 202  # again

    stored = await services.store.get(source.call_id)
    assert stored is not None and stored.resumed_by_call_id is not None
    callback = await services.store.get(stored.resumed_by_call_id)
    assert callback is not None and callback.previous_call_id == source.call_id
    outbound = [c for c in stack.simulator.calls.values() if c.direction == "outbound" and c.caller == CALLER]
    assert [c.call_connection_id for c in outbound] == [
        callback.connection.call_connection_id
    ]  # one call-back

    deadline = time.monotonic() + 10
    while callback.connection.state is not CallState.CONNECTED and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        callback = await services.store.get(callback.call_id) or callback
    assert callback.connection.state is CallState.CONNECTED
    assert callback.claim == {"caller_name": "Jean Dupont"}
