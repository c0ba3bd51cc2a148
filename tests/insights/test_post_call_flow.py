"""After the call, end to end on loopback: the local stack (function app + Functions host stand-in +
durabletask worker) and the ACS simulator. A hang-up enqueues the post-call job; the orchestration
writes the synthesis and next action and texts the caller a verifiable report link, once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from uuid import UUID

import httpx
import pytest

from blueprints import runtime
from local.dev import LocalStack
from shared.composition import Services
from shared.insights.activities import run_activity
from shared.insights.links import verify_report_link
from shared.insights.orchestration import PostCallInput
from shared.jobs.base import POST_CALL, Job, MemoryJobQueue
from shared.models import Call, CallState, Message, MessageAction, Persona
from shared.store.base import append_message
from tests.sms.test_sms_adapters import _sign
from tests.stack import eventually, local_stack

TWILIO_TOKEN = "stack-twilio-token"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    data = tmp_path_factory.mktemp("post-call")
    overrides = {"flags": {"yaml_path": data / "flags.yaml"}, "sms": {"twilio": {"auth_token": TWILIO_TOKEN}}}
    with local_stack(data, overrides=overrides) as running:
        yield running


async def _connected_call(api: httpx.AsyncClient, services: Services, phone: str) -> Call:
    body = {
        "bot_company": "Contoso",
        "bot_name": "Amélie",
        "phone_number": phone,
        "task": "Help with the claim.",
    }
    response = await api.post("/api/call", json=body)
    assert response.status_code == 201, response.text
    call_id = UUID(response.json()["call_id"])

    async def connected() -> Call | None:
        call = await services.store.get(call_id)
        return call if call is not None and call.connection.state is CallState.CONNECTED else None

    result: Call = await eventually(connected, "call connected")
    return result


def _summaries(stack: LocalStack, phone: str) -> list[str]:
    assert stack.simulator is not None
    return [m.message for m in stack.simulator.outbox if m.to_number == phone and m.successful]


async def _on_app_loop(stack: LocalStack, make: Callable[[], Any]) -> Any:
    """Run a coroutine on the function app's loop (where its in-process queue and runner live)."""
    assert stack.post_call is not None
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(make(), stack.post_call.loop))


async def test_after_a_hang_up_the_caller_gets_one_summary_sms_with_a_valid_report_link(
    stack: LocalStack, api: httpx.AsyncClient, services: Services
) -> None:
    phone = "+33612340001"
    call = await _connected_call(api, services, phone)
    said = Message(persona=Persona.HUMAN, content="My car was stolen last night, my name is Jean Dupont.")
    await append_message(services.store, call.call_id, said)
    await services.telephony.hang_up(call)

    async def finished() -> Call | None:
        stored = await services.store.get(call.call_id)
        done = stored is not None and stored.post_call_done_at is not None
        return stored if done else None

    done: Call = await eventually(finished, "post-call job done")
    assert done.synthesis is not None and done.next is not None and done.summary_sms_sent_at is not None
    (text,) = _summaries(stack, phone)
    assert text.startswith("Contoso: thank you") and "still missing" in text  # written for the customer
    assert done.synthesis.short[:40] not in text  # not the company's internal summary
    url = text[text.index("http") :]
    link = urlsplit(url)
    assert link.path == f"/api/report/{call.call_id}"
    query = parse_qs(link.query)
    assert stack.settings is not None
    assert verify_report_link(stack.settings, call.call_id, query["expires"][0], query["sig"][0])
    async with httpx.AsyncClient() as browser:  # the link opens the call's report page
        page = await browser.get(url)
    assert page.status_code == 200 and done.synthesis.short[:20] in page.text

    # the queue redelivers the job, the orchestration's activity is replayed: still one SMS
    job = Job(kind=POST_CALL, call_id=str(call.call_id))
    assert stack.post_call is not None
    runner = stack.post_call
    assert await _on_app_loop(stack, lambda: runner.submit(job)) is None
    app_services = runtime.current().peek()  # the function app's own services (its in-process queue)
    assert app_services is not None and isinstance(app_services.jobs, MemoryJobQueue)
    queue = app_services.jobs
    await _on_app_loop(stack, lambda: queue.enqueue(job))
    payload: PostCallInput = {"call_id": str(call.call_id), "caller_phone": phone, "interaction": True}
    assert await run_activity(services, "sms_summary", payload) == {"status": "already_sent"}
    await asyncio.sleep(1.5)
    assert len(_summaries(stack, phone)) == 1


async def test_a_call_nobody_talked_in_gets_no_sms(
    stack: LocalStack, api: httpx.AsyncClient, services: Services
) -> None:
    phone = "+33612340002"
    call = await _connected_call(api, services, phone)
    await services.telephony.hang_up(call)

    async def finished() -> Call | None:
        stored = await services.store.get(call.call_id)
        return stored if stored is not None and stored.post_call_done_at is not None else None

    done: Call = await eventually(finished, "post-call job done")
    assert done.synthesis is None and done.summary_sms_sent_at is None
    assert _summaries(stack, phone) == []


async def _texts(services: Services, phone: str) -> list[str]:
    page = await services.store.list_by_phone(phone, limit=1)
    return [
        m.content
        for m in (page.items[0].messages if page.items else [])
        if m.persona is Persona.HUMAN and m.action is MessageAction.SMS
    ]


async def test_an_inbound_sms_lands_on_the_callers_latest_call(
    stack: LocalStack, api: httpx.AsyncClient, services: Services
) -> None:
    phone = "+33612340003"
    call = await _connected_call(api, services, phone)
    await services.telephony.hang_up(call)
    assert stack.simulator is not None and stack.settings is not None
    stack.simulator.receive_sms(phone, stack.settings.acs.phone_number, "Here is my policy number: 778899")
    assert await eventually(lambda: _texts(services, phone), "inbound SMS stored") == [
        "Here is my policy number: 778899"
    ]


async def test_the_twilio_webhook_on_the_stack_checks_its_signature(
    stack: LocalStack, api: httpx.AsyncClient, services: Services
) -> None:
    phone = "+33612340004"
    call = await _connected_call(api, services, phone)
    await services.telephony.hang_up(call)
    form = {"MessageSid": "SM42", "From": phone, "To": "+33100000000", "Body": "Sent through Twilio"}
    data = f"{stack.api_url}/api/sms/twilio" + "".join(k + form[k] for k in sorted(form))
    headers = {"content-type": "application/x-www-form-urlencoded"}
    async with httpx.AsyncClient(base_url=stack.api_url) as plain:
        bad = await plain.post(
            "/api/sms/twilio", content=urlencode(form), headers={**headers, "X-Twilio-Signature": "bad"}
        )
        good = await plain.post(
            "/api/sms/twilio",
            content=urlencode(form),
            headers={**headers, "X-Twilio-Signature": _sign(TWILIO_TOKEN, data)},
        )
    assert bad.status_code == 403 and good.status_code == 200
    assert await _texts(services, phone) == ["Sent through Twilio"]
