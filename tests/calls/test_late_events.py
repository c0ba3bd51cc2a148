"""Late, out-of-order and malformed call events, signed by the simulator and posted to the function app:
nothing moves a finished call, and bad event data is a 400, never a 500."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import httpx
import pytest

from local.dev import LocalStack
from shared.composition import Services
from shared.models import Call, CallState
from shared.telephony.base import TelephonyError
from tests.calls.test_telephony_flow import call_in_state, place, post_call_jobs
from tests.stack import eventually, local_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with local_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


def _event(kind: str, connection_id: str, data: Any, number: int) -> dict[str, Any]:
    return {
        "id": f"late-{kind}-{number}-{connection_id}",
        "type": f"Microsoft.Communication.{kind}",
        "source": f"calling/callConnections/{connection_id}",
        "specversion": "1.0",
        "data": data,
    }


async def _post(
    stack: LocalStack, api: httpx.AsyncClient, call: Call, events: list[dict[str, Any]]
) -> httpx.Response:
    assert stack.simulator is not None
    url = f"/api/call/events/{call.call_id}?secret={call.secrets.callback}"
    headers = {"authorization": f"Bearer {stack.simulator.signer.token()}"}
    return await api.post(url, content=json.dumps(events), headers=headers)


async def test_events_after_the_disconnect_do_not_move_the_finished_call(
    stack: LocalStack, api: httpx.AsyncClient, services: Services
) -> None:
    call_id = UUID((await place(api))["call_id"])
    call = await call_in_state(services, call_id, CallState.CONNECTED)
    await services.telephony.hang_up(call)
    ended = await call_in_state(services, call_id, CallState.DISCONNECTED)
    await eventually(lambda: post_call_jobs(call_id) == 1, "post-call job")
    connection = ended.connection.call_connection_id or ""
    transfer = {"transferTarget": {"phoneNumber": {"value": "+33699999999"}}}
    failed = {"resultInformation": {"code": 500, "message": "declined"}}
    late = [
        _event("CallConnected", connection, {"callConnectionId": connection}, 1),
        _event("CallTransferAccepted", connection, transfer, 1),
        _event("CallTransferFailed", connection, failed, 1),
    ]
    response = await _post(stack, api, ended, late)
    assert response.status_code == 200
    assert response.json() == {"applied": []}
    after = await services.store.get(call_id)
    assert after is not None
    assert after.connection.state is CallState.DISCONNECTED
    assert len(after.messages) == len(ended.messages)
    assert post_call_jobs(call_id) == 1


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("CallTransferAccepted", {"transferTarget": "+33699999999"}),
        ("CallTransferAccepted", {"transferTarget": {"phoneNumber": ["+33699999999"]}}),
        ("CallTransferFailed", {"resultInformation": "declined"}),
        ("RecognizeCompleted", {"dtmfResult": {"tones": 5}}),
        ("RecognizeCompleted", {"dtmfResult": "1"}),
        ("PlayFailed", {"resultInformation": ["x"]}),
        ("CallConnected", {"callConnectionId": 12345, "serverCallId": {"x": 1}}),
        ("RecordingStateChanged", {"recordingId": 7}),
    ],
)
async def test_malformed_event_data_is_never_a_server_error(
    stack: LocalStack, api: httpx.AsyncClient, services: Services, kind: str, data: Any
) -> None:
    call_id = UUID((await place(api))["call_id"])
    call = await call_in_state(services, call_id, CallState.CONNECTED)
    response = await _post(
        stack, api, call, [_event(kind, call.connection.call_connection_id or "", data, 2)]
    )
    assert response.status_code in (200, 400), response.text
    stored = await services.store.get(call_id)
    assert stored is not None and stored.connection.call_connection_id == call.connection.call_connection_id
    with contextlib.suppress(TelephonyError):  # a failed transfer hangs up by itself
        await services.telephony.hang_up(stored)


async def test_a_declined_outbound_call_ends_with_one_post_call_job(
    stack: LocalStack, api: httpx.AsyncClient, services: Services
) -> None:
    assert stack.simulator is not None
    busy = "+33655555555"
    stack.simulator.config.busy_numbers.add(busy)
    placed = await api.post(
        "/api/call",
        json={"bot_company": "Contoso", "bot_name": "Amélie", "phone_number": busy, "task": "Say hello."},
    )
    assert placed.status_code == 201, placed.text
    call_id = UUID(placed.json()["call_id"])
    await call_in_state(services, call_id, CallState.DISCONNECTED)
    await eventually(lambda: post_call_jobs(call_id) == 1, "post-call job")


@pytest.mark.parametrize("code", [None, "", "guess"])
async def test_the_event_grid_webhook_wants_the_host_key(stack: LocalStack, code: str | None) -> None:
    query = "functionName=incoming_call" + (f"&code={code}" if code is not None else "")
    event = [{"id": "x", "eventType": "Microsoft.Communication.IncomingCall", "data": {}, "subject": "s"}]
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{stack.api_url}/runtime/webhooks/EventGrid?{query}", json=event)
    assert response.status_code == 401
