"""Inbound texts join the sender's latest call: the shared function, the Event Grid trigger, and the
Twilio webhook (signature checked against the public URL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import azure.functions as func
import httpx
import pytest

from blueprints import runtime, sms
from blueprints.api import create_api
from shared.composition import Services, ServicesHolder, build_services
from shared.models import Call, CallDirection, MessageAction, Persona
from shared.models.call import utc_now
from shared.settings import Settings, load_settings
from shared.sms.inbound import receive_sms
from tests.sms.test_sms_adapters import _sign

CALLER = "+33612345678"
BOT = "+33100000000"
TOKEN = "twilio-webhook-token"
PUBLIC_URL = "https://calls.example.org"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        api={"key": "k", "public_url": PUBLIC_URL},
        store={"sqlite": {"path": tmp_path / "calls.sqlite3"}},
        sms={"twilio": {"auth_token": TOKEN}},
    )


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    built = build_services(settings)
    yield built
    await built.aclose()


async def _two_calls(services: Services) -> tuple[Call, Call]:
    older = await services.store.create(Call(caller_phone=CALLER, created_at=utc_now() - timedelta(hours=2)))
    latest = await services.store.create(Call(caller_phone=CALLER))
    return older, latest


async def _texts(services: Services, call: Call) -> list[str]:
    stored = await services.store.get(call.call_id)
    assert stored is not None
    return [
        m.content for m in stored.messages if m.persona is Persona.HUMAN and m.action is MessageAction.SMS
    ]


async def test_a_text_joins_the_latest_call_once_per_message_id(services: Services) -> None:
    older, latest = await _two_calls(services)
    updated = await receive_sms(services, CALLER, BOT, "My policy number is 12345", message_id="m-1")
    assert updated is not None and updated.call_id == latest.call_id
    assert await receive_sms(services, CALLER, BOT, "My policy number is 12345", message_id="m-1") is None
    assert await _texts(services, latest) == ["My policy number is 12345"]
    assert await _texts(services, older) == []


@pytest.mark.parametrize(
    "spelled", [CALLER.removeprefix("+"), "00" + CALLER[1:], CALLER[:3] + " " + CALLER[3:]]
)
async def test_a_sender_number_without_the_plus_finds_the_callers_call(
    services: Services, spelled: str
) -> None:
    """ACS sends some numbers without the `+`: calls are partitioned under E.164 numbers."""
    _older, latest = await _two_calls(services)
    updated = await receive_sms(services, spelled, BOT, "Here is the photo", message_id=f"m-{spelled}")
    assert updated is not None and updated.call_id == latest.call_id
    assert await _texts(services, latest) == ["Here is the photo"]


async def test_a_sender_that_is_no_number_is_ignored(services: Services) -> None:
    await _two_calls(services)
    assert await receive_sms(services, "Contoso", BOT, "promo") is None


async def test_a_text_from_a_number_without_a_call_is_ignored(services: Services) -> None:
    assert await receive_sms(services, "+33799999999", BOT, "hello?") is None
    assert (await services.store.list_by_phone("+33799999999")).items == []


async def test_the_event_grid_trigger_hands_the_text_over(
    services: Services, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _older, latest = await _two_calls(services)
    holder = ServicesHolder(settings)
    monkeypatch.setattr(runtime, "_holder", holder)
    event = func.EventGridEvent(
        id="evt-1",
        data={
            "messageId": "Incoming_1",
            "from": CALLER,
            "to": BOT,
            "message": "Call me at 5",
            "receivedTimestamp": "",
        },
        topic="/acs",
        subject=f"/phonenumber/{BOT}",
        event_type="Microsoft.Communication.SMSReceived",
        event_time=None,
        data_version="1.0",
    )
    try:
        await sms.sms_received.build().get_user_function()(event)
        other = func.EventGridEvent(
            id="evt-2",
            data={},
            topic="/acs",
            subject="",
            event_type="Microsoft.Communication.SMSDeliveryReportReceived",
            event_time=None,
            data_version="1.0",
        )
        await sms.sms_received.build().get_user_function()(other)
    finally:
        await holder.aclose()
    assert await _texts(services, latest) == ["Call me at 5"]


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_api(settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://internal"
    ) as client:
        yield client
    await app.state.services.aclose()


def _form(**fields: str) -> dict[str, str]:
    return {"MessageSid": "SM1", "AccountSid": "AC1", "NumMedia": "0", **fields}


async def _post(api: httpx.AsyncClient, form: dict[str, Any], signature: str) -> httpx.Response:
    return await api.post(
        "/api/sms/twilio",
        content=urlencode(form),
        headers={"content-type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
    )


async def test_twilio_webhook_with_a_valid_signature_adds_the_text(
    api: httpx.AsyncClient, services: Services
) -> None:
    _older, latest = await _two_calls(services)
    form = _form(From=CALLER, To=BOT, Body="Here is my e-mail: jo@example.org")
    data = f"{PUBLIC_URL}/api/sms/twilio" + "".join(k + form[k] for k in sorted(form))
    response = await _post(api, form, _sign(TOKEN, data))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml") and "<Response>" in response.text
    assert await _texts(services, latest) == ["Here is my e-mail: jo@example.org"]


async def test_twilio_webhook_with_a_wrong_signature_is_403(
    api: httpx.AsyncClient, services: Services
) -> None:
    _older, latest = await _two_calls(services)
    form = _form(From=CALLER, To=BOT, Body="forged")
    data = "http://internal/api/sms/twilio" + "".join(k + form[k] for k in sorted(form))  # not the public URL
    for signature in (_sign(TOKEN, data), _sign("other-token", data), ""):
        response = await _post(api, form, signature)
        assert response.status_code == 403
    assert await _texts(services, latest) == []


async def test_twilio_webhook_is_404_without_a_twilio_token(tmp_path: Path) -> None:
    app = create_api(load_settings(store={"sqlite": {"path": tmp_path / "c.sqlite3"}}))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://internal"
    ) as client:
        response = await _post(client, _form(From=CALLER, To=BOT, Body="hi"), "x")
    await app.state.services.aclose()
    assert response.status_code == 404


async def test_a_text_to_another_number_is_not_added(services: Services) -> None:
    call = await services.store.create(Call(caller_phone=CALLER, direction=CallDirection.INBOUND))
    assert await receive_sms(services, CALLER, "+33199999999", "not for the bot", message_id="m-x") is None
    assert await receive_sms(services, CALLER, "no number", "not for the bot", message_id="m-y") is None
    stored = await services.store.get(call.call_id)
    assert stored is not None and not any(m.content == "not for the bot" for m in stored.messages)
