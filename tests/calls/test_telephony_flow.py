"""Calls end to end on loopback: the function app (real ACS SDK client) against the ACS simulator, with
signed callbacks, the Event Grid stand-in, transfers, hang-ups, recording and the post-call job."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any, TypeVar
from uuid import UUID

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from blueprints import runtime
from local.dev import LocalStack
from shared.composition import Services
from shared.jobs.base import MemoryJobQueue
from shared.models import Call, CallState
from shared.store.base import update_call
from tests.stack import eventually, local_stack

T = TypeVar("T")
CALLER = "+33612345678"
AGENT = "+33699999999"
FAILING_AGENT = "+33688888888"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    data = tmp_path_factory.mktemp("stack")
    with local_stack(data, flags="recording_enabled: true\ncallback_timeout_hour: 3\n") as running:
        assert running.simulator is not None
        running.simulator.config.failing_transfer_targets.add(FAILING_AGENT)
        yield running


async def call_in_state(services: Services, call_id: UUID, state: CallState) -> Call:
    async def check() -> Call | None:
        call = await services.store.get(call_id)
        return call if call is not None and call.connection.state is state else None

    result: Call = await eventually(check, f"call {call_id} {state}")
    return result


def app_jobs() -> MemoryJobQueue:
    built = runtime.current().peek()
    assert built is not None and isinstance(built.jobs, MemoryJobQueue)
    return built.jobs


def post_call_jobs(call_id: UUID) -> int:
    return sum(1 for job in app_jobs().sent if job.call_id == str(call_id))


async def place(api: httpx.AsyncClient, **extra: Any) -> dict[str, Any]:
    body = {
        "bot_company": "Contoso",
        "bot_name": "Amélie",
        "phone_number": CALLER,
        "task": "Help with the claim.",
        "agent_phone_number": AGENT,
        **extra,
    }
    response = await api.post("/api/call", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_outbound_call_connects_through_signed_callbacks(
    stack: LocalStack, api: httpx.AsyncClient, services: Services
) -> None:
    placed = await place(api)
    call_id = UUID(placed["call_id"])
    connection_id = placed["connection"]["call_connection_id"]
    assert connection_id in stack.simulator.calls  # type: ignore[union-attr]
    call = await call_in_state(services, call_id, CallState.CONNECTED)
    assert call.connection.server_call_id
    delivery = stack.simulator.wait_for_delivery("CallConnected", call_id=connection_id)  # type: ignore[union-attr]
    assert (
        delivery.status_code == 200
        and delivery.authorization
        and delivery.authorization.startswith("Bearer ")
    )
    # recording_enabled is on in this stack's flags: the connected call is being recorded
    recorded = await call_in_state(services, call_id, CallState.CONNECTED)
    await eventually(lambda: services.store.get(call_id), "call readable")
    assert (await eventually(lambda: _recording(services, call_id), "recording id")) or recorded.recording_id


async def _recording(services: Services, call_id: UUID) -> str | None:
    call = await services.store.get(call_id)
    return call.recording_id if call else None


async def test_inbound_call_is_answered_and_a_call_back_resumes_it(
    stack: LocalStack, services: Services
) -> None:
    simulator = stack.simulator
    assert simulator is not None and stack.settings is not None
    caller = "+33711111111"
    first_connection = simulator.call_id_for(simulator.ring(caller, stack.settings.acs.phone_number))
    simulator.wait_for_call_state(first_connection, "connected", timeout=10)
    first = await eventually(lambda: _latest(services, caller), "first inbound call stored")
    assert first.direction == "inbound" and first.connection.call_connection_id == first_connection

    def fill(call: Call) -> None:
        call.claim["caller_name"] = "Jean Dupont"

    from shared.store.base import update_call

    await update_call(services.store, first.call_id, fill)
    await services.telephony.hang_up(first)  # only a finished call is resumed
    await call_in_state(services, first.call_id, CallState.DISCONNECTED)

    second_connection = simulator.call_id_for(simulator.ring(caller, stack.settings.acs.phone_number))
    simulator.wait_for_call_state(second_connection, "connected", timeout=10)

    async def resumed() -> Call | None:
        call = await _latest(services, caller)
        return call if call and call.call_id != first.call_id and call.previous_call_id else None

    second = await eventually(resumed, "second inbound call stored and resumed")
    assert second.previous_call_id == first.call_id
    assert second.claim["caller_name"] == "Jean Dupont"


async def _latest(services: Services, phone: str) -> Call | None:
    page = await services.store.list_by_phone(phone, limit=1)
    call = page.items[0] if page.items else None
    return call if call and call.connection.call_connection_id else None


async def test_a_call_to_another_number_is_not_answered(stack: LocalStack, services: Services) -> None:
    simulator = stack.simulator
    assert simulator is not None
    connection = simulator.call_id_for(simulator.ring("+33722222222", "+33155555555"))
    delivery = simulator.wait_for_delivery("IncomingCall", timeout=10, count=_count(stack, "IncomingCall"))
    assert delivery.status_code in (200, 202)
    assert simulator.call(connection).state != "connected"
    assert (await services.store.list_by_phone("+33722222222")).items == []


def _count(stack: LocalStack, event_type: str) -> int:
    assert stack.simulator is not None
    return len([d for d in stack.simulator.deliveries if d.event_type.endswith(event_type)])


async def test_transfer_accepted_then_the_bot_leg_ends_with_one_post_call_job(
    stack: LocalStack, api: httpx.AsyncClient, services: Services
) -> None:
    call_id = UUID((await place(api))["call_id"])
    call = await call_in_state(services, call_id, CallState.CONNECTED)
    await services.telephony.transfer(call, AGENT)
    transferred = await eventually(lambda: _has_transfer_message(services, call_id), "transfer accepted")
    assert transferred
    await call_in_state(services, call_id, CallState.DISCONNECTED)
    await eventually(lambda: post_call_jobs(call_id) == 1, "post-call job")


async def _has_transfer_message(services: Services, call_id: UUID) -> bool:
    call = await services.store.get(call_id)
    return bool(call and any(m.action == "transfer" for m in call.messages))


async def _streaming(services: Services, call_id: UUID) -> bool:
    stored = await services.store.get(call_id)
    return stored is not None and stored.connection.media_streaming


def _media_session(stack: LocalStack, call_id: UUID) -> Any:
    """The live media session of a call in the stack's media host (same process, its own thread)."""
    media: Any = stack._media_app
    return media.state.host.sessions.get(call_id)


async def test_failed_transfer_apology_is_spoken_by_the_media_host_then_the_call_ends(
    stack: LocalStack, api: httpx.AsyncClient, services: Services
) -> None:
    """ACS reports CallTransferFailed to the function app; the media host, which owns the stream and the
    voice, says the apology (Call Automation's play needs Azure AI services) and hangs up."""
    call_id = UUID((await place(api))["call_id"])
    call = await call_in_state(services, call_id, CallState.CONNECTED)
    session = await eventually(lambda: _media_session(stack, call_id), "media session")
    await eventually(lambda: _streaming(services, call_id), "MediaStreamingStarted recorded")
    await eventually(lambda: session.idle, "the opening said")  # the tool transfers between turns
    session.conversation.ctx.outcome.transferred = True  # what the talk_to_human tool records
    assert stack.simulator is not None
    heard_before = len(stack.simulator.bot_audio(str(call.connection.call_connection_id)))
    await services.telephony.transfer(call, FAILING_AGENT)
    ended = await call_in_state(services, call_id, CallState.DISCONNECTED)
    apology = ended.messages[-1].content
    assert "sorry" in apology.lower() or "désolée" in apology.lower()
    assert ended.connection.farewell is None  # said, and kept in the transcript as heard
    assert len(stack.simulator.bot_audio(str(call.connection.call_connection_id))) > heard_before
    assert not [
        d
        for d in stack.simulator.deliveries
        if d.event_type.endswith("PlayCompleted")
        and d.call_connection_id == call.connection.call_connection_id
    ]  # no Call Automation play: nothing without the media host's voice
    await eventually(lambda: post_call_jobs(call_id) == 1, "post-call job")


async def test_without_a_media_stream_a_failed_transfer_ends_the_call(
    stack: LocalStack, api: httpx.AsyncClient, services: Services
) -> None:
    """No stream (the media host is gone) and no Azure AI services for Call Automation's play: the call
    ends with the apology in the transcript rather than hanging in silence."""
    call_id = UUID((await place(api))["call_id"])
    call = await call_in_state(services, call_id, CallState.CONNECTED)
    await eventually(lambda: _streaming(services, call_id), "MediaStreamingStarted recorded")

    def no_stream(stored: Call) -> None:  # as MediaStreamingFailed leaves it
        stored.connection.media_streaming = False

    await update_call(services.store, call_id, no_stream, caller_phone=call.caller_phone)
    await services.telephony.transfer(call, FAILING_AGENT)
    ended = await call_in_state(services, call_id, CallState.DISCONNECTED)
    assert "sorry" in ended.messages[-1].content.lower() or "désolée" in ended.messages[-1].content.lower()


async def test_bot_hang_up_and_a_redelivered_disconnect_enqueue_one_job(
    stack: LocalStack, api: httpx.AsyncClient, services: Services
) -> None:
    placed = await place(api)
    call_id = UUID(placed["call_id"])
    call = await call_in_state(services, call_id, CallState.CONNECTED)
    await services.telephony.hang_up(call)
    await call_in_state(services, call_id, CallState.DISCONNECTED)
    await eventually(lambda: post_call_jobs(call_id) == 1, "post-call job")

    assert stack.simulator is not None
    disconnected = stack.simulator.wait_for_delivery(
        "CallDisconnected", call_id=call.connection.call_connection_id
    )
    stored = await services.store.get(call_id)
    assert stored is not None
    url = f"/api/call/events/{call_id}?secret={stored.secrets.callback}"
    headers = {"authorization": f"Bearer {stack.simulator.signer.token()}"}
    again = await api.post(url, content=json.dumps([disconnected.event]), headers=headers)
    assert again.status_code == 200 and again.json() == {"applied": []}
    fresh_id = dict(disconnected.event, id="another-delivery-id")  # a redelivery with a new event id
    again = await api.post(url, content=json.dumps([fresh_id]), headers=headers)
    assert again.status_code == 200
    await asyncio.sleep(0.2)
    assert post_call_jobs(call_id) == 1


def _forged_token(stack: LocalStack, **claims: Any) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert stack.simulator is not None
    now = int(time.time())
    body = {
        "iss": stack.simulator.issuer,
        "aud": stack.simulator.audience,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
    }
    return jwt.encode({**body, **claims}, key, algorithm="RS256", headers={"kid": stack.simulator.signer.kid})


def _signed_by_simulator(stack: LocalStack, **claims: Any) -> str:
    assert stack.simulator is not None
    now = int(time.time())
    signer = stack.simulator.signer
    body = {
        "iss": stack.simulator.issuer,
        "aud": stack.simulator.audience,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
    }
    return jwt.encode({**body, **claims}, signer._key, algorithm="RS256", headers={"kid": signer.kid})


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "forged",
        "expired",
        "wrong_audience",
        "wrong_issuer",
        "not_a_jwt",
        "wrong_secret",
        "no_secret",
    ],
)
async def test_unauthenticated_callbacks_are_401_and_change_nothing(
    stack: LocalStack, api: httpx.AsyncClient, services: Services, case: str
) -> None:
    call_id = UUID((await place(api))["call_id"])
    await call_in_state(services, call_id, CallState.CONNECTED)
    assert stack.simulator is not None
    await asyncio.to_thread(stack.simulator.wait_for_deliveries_idle, 10)
    before = await services.store.get(call_id)
    assert before is not None
    tokens = {
        "forged": _forged_token(stack),
        "expired": _signed_by_simulator(stack, exp=int(time.time()) - 3600, iat=int(time.time()) - 7200),
        "wrong_audience": _signed_by_simulator(stack, aud="someone-else"),
        "wrong_issuer": _signed_by_simulator(stack, iss="https://evil.example"),
        "not_a_jwt": "abc.def",
    }
    assert stack.simulator is not None
    token = tokens.get(case, stack.simulator.signer.token())
    headers = {} if case == "missing" else {"authorization": f"Bearer {token}"}
    secret = {"wrong_secret": "nope", "no_secret": None}.get(case, before.secrets.callback)
    url = f"/api/call/events/{call_id}" + (f"?secret={secret}" if secret else "")
    event = {"id": f"forged-{case}", "type": "Microsoft.Communication.CallDisconnected", "data": {}}
    response = await api.post(url, content=json.dumps([event]), headers=headers)
    assert response.status_code == 401
    after = await services.store.get(call_id)
    assert after is not None and after.connection.state is CallState.CONNECTED  # the media host may write
    assert after.post_call_enqueued_at is None and before.post_call_enqueued_at is None  # (its greeting)
    assert post_call_jobs(call_id) == 0
    await services.telephony.hang_up(after)
