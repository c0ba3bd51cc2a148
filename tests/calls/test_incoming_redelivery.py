"""IncomingCall as Event Grid delivers it on Azure: at least once, retried on any 5xx for up to 24 hours.
A duplicate or retried delivery answers nothing twice and creates no document; ACS refusing the answer for
good (an expired or used context: 4xx) is final; a CloudEvents-schema delivery is logged, not a crash."""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import azure.functions as func
import httpx
import pytest

from blueprints.calls import incoming_call
from local.dev import LocalStack
from shared.composition import Services
from shared.models import CallState
from tests.stack import eventually, local_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with local_stack(tmp_path_factory.mktemp("incoming")) as running:
        yield running


def _incoming_event(stack: LocalStack, context: str) -> dict[str, object]:
    assert stack.simulator is not None
    (delivery,) = [
        d
        for d in stack.simulator.deliveries
        if d.channel == "eventgrid" and d.event["data"].get("incomingCallContext") == context
    ]
    return copy.deepcopy(delivery.event)


async def _deliver(stack: LocalStack, event: dict[str, object]) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(
            stack.event_grid_url("incoming_call"),
            json=[event],
            headers={"aeg-event-type": "Notification"},
        )


async def _calls_of(services: Services, phone: str) -> int:
    return len((await services.store.list_by_phone(phone, limit=20)).items)


async def test_a_redelivered_incoming_call_is_answered_once(stack: LocalStack, services: Services) -> None:
    assert stack.simulator is not None and stack.settings is not None
    caller = "+33612770001"
    context = stack.simulator.ring(caller, stack.settings.acs.phone_number)
    connection = stack.simulator.call_id_for(context)
    await eventually(
        lambda: stack.simulator is not None and stack.simulator.call(connection).state.value == "connected",
        "answered",
    )
    event = _incoming_event(stack, context)
    for _ in range(2):  # Event Grid redelivers (a lost acknowledgement), the same event id
        response = await _deliver(stack, event)
        assert response.status_code == 202, response.text
    assert await _calls_of(services, caller) == 1
    (call,) = (await services.store.list_by_phone(caller, limit=5)).items
    assert call.connection.state is CallState.CONNECTED


async def test_an_answer_refused_for_good_is_final_and_leaves_no_document(
    stack: LocalStack, services: Services
) -> None:
    """A used incomingCallContext under another ring id (the claim does not stop it): ACS answers 400,
    the delivery succeeds (no 24 h of retries) and no call document is left behind."""
    assert stack.simulator is not None and stack.settings is not None
    caller = "+33612770002"
    context = stack.simulator.ring(caller, stack.settings.acs.phone_number)
    await eventually(lambda: _calls_of(services, caller), "first answer stored")
    event = _incoming_event(stack, context)
    event["id"] = "another-event"
    event["data"]["serverCallId"] = "another-ring"  # type: ignore[index]
    response = await _deliver(stack, event)
    assert response.status_code == 202, response.text
    assert await _calls_of(services, caller) == 1


async def test_an_unknown_context_is_final_too(stack: LocalStack, services: Services) -> None:
    assert stack.simulator is not None and stack.settings is not None
    caller = "+33612770003"
    context = stack.simulator.ring(caller, stack.settings.acs.phone_number)
    await eventually(lambda: _calls_of(services, caller), "first answer stored")
    event = _incoming_event(stack, context)
    event["data"] = {**event["data"], "incomingCallContext": "sim.expired", "serverCallId": "x-1"}  # type: ignore[dict-item]
    response = await _deliver(stack, event)
    assert response.status_code == 202
    assert await _calls_of(services, caller) == 1


async def test_a_cloud_events_delivery_is_logged_with_the_fix(caplog: pytest.LogCaptureFixture) -> None:
    event = func.CloudEvent(
        id="1",
        source="/acs",
        type="Microsoft.Communication.IncomingCall",
        specversion="1.0",
        time=datetime.now(UTC),
        subject=None,
        datacontenttype=None,
        dataschema=None,
        data={"incomingCallContext": "x"},
    )
    with caplog.at_level(logging.ERROR, logger="blueprints.event_grid"):
        await incoming_call(event)
    assert "subscribe it with the Event Grid schema" in caplog.text
