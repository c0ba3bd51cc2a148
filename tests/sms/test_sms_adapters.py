"""SMS adapters against loopback servers: ACS (the simulator, real SDK client) and Twilio (a fake API)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.acs_simulator import AcsSimulator
from local.dev import free_port
from shared.composition import build_sms
from shared.conversation.tools import run_tool
from shared.models import MessageAction
from shared.settings import SettingsError, load_settings
from shared.sms.acs import AcsSms
from shared.sms.base import OutboxSms, SmsError, SmsUnavailableError
from shared.sms.twilio import TwilioSms, twilio_signature_valid
from tests.conversation.support import make_harness
from tests.sms.support import SID, TOKEN, FakeTwilio, fake_twilio

BOT = "+33100000000"
CALLER = "+33612345678"


@pytest.fixture(scope="module")
def sim() -> Iterator[AcsSimulator]:
    with AcsSimulator() as running:
        yield running


@pytest.fixture(scope="module")
def twilio() -> Iterator[FakeTwilio]:
    with fake_twilio() as fake:
        yield fake


async def test_acs_sms_sends_through_the_sdk_to_the_simulator(sim: AcsSimulator) -> None:
    sms = AcsSms(sim.endpoint, sim.access_key, BOT)
    try:
        receipt = await sms.send(CALLER, "Your claim is filed.")
    finally:
        await sms.close()
    sent = [m for m in sim.outbox if m.message_id == receipt.message_id]
    assert len(sent) == 1
    assert (sent[0].from_number, sent[0].to_number, sent[0].message) == (BOT, CALLER, "Your claim is filed.")
    assert receipt.to == CALLER and receipt.body == "Your claim is filed."


async def test_acs_sms_refused_recipient_is_an_sms_error_with_the_reason(sim: AcsSimulator) -> None:
    sms = AcsSms(sim.endpoint, sim.access_key, BOT)
    try:
        with pytest.raises(SmsError, match="Invalid To phone number") as caught:
            await sms.send("not-a-number", "hello")
    finally:
        await sms.close()
    assert not isinstance(caught.value, SmsUnavailableError)  # refused: retrying will not help


async def test_acs_sms_wrong_key_is_refused_and_unreachable_is_transient(sim: AcsSimulator) -> None:
    wrong = AcsSms(sim.endpoint, base64.b64encode(b"x" * 32).decode(), BOT)
    nobody = AcsSms(f"http://127.0.0.1:{free_port()}", sim.access_key, BOT)
    try:
        with pytest.raises(SmsError, match="401") as refused:
            await wrong.send(CALLER, "hello")
        assert not isinstance(refused.value, SmsUnavailableError)
        with pytest.raises(SmsUnavailableError):
            await nobody.send(CALLER, "hello")
    finally:
        await wrong.close()
        await nobody.close()


async def test_twilio_sms_posts_the_form_with_basic_auth(twilio: FakeTwilio) -> None:
    sms = TwilioSms(SID, TOKEN, BOT, base_url=twilio.url)
    try:
        receipt = await sms.send(CALLER, "Your claim is filed.")
    finally:
        await sms.close()
    assert receipt.message_id.startswith("SM")
    assert twilio.received[-1] == {
        "path": f"/2010-04-01/Accounts/{SID}/Messages.json",
        "To": CALLER,
        "From": BOT,
        "Body": "Your claim is filed.",
    }


@pytest.mark.parametrize(
    ("status", "body", "error", "transient"),
    [
        (400, {"code": 21211, "message": "The 'To' number is not valid.", "status": 400}, "21211", False),
        (429, {"code": 20429, "message": "Too Many Requests", "status": 429}, "429", True),
        (503, {"message": "Service Unavailable"}, "503", True),
    ],
)
async def test_twilio_errors_are_refusals_or_transient(
    twilio: FakeTwilio, status: int, body: dict[str, Any], error: str, transient: bool
) -> None:
    twilio.failures.append((status, body))
    sms = TwilioSms(SID, TOKEN, BOT, base_url=twilio.url)
    try:
        with pytest.raises(SmsError, match=error) as caught:
            await sms.send(CALLER, "hello")
    finally:
        await sms.close()
    assert isinstance(caught.value, SmsUnavailableError) is transient


async def test_twilio_wrong_token_is_refused_and_unreachable_is_transient(twilio: FakeTwilio) -> None:
    wrong = TwilioSms(SID, "wrong", BOT, base_url=twilio.url)
    nobody = TwilioSms(SID, TOKEN, BOT, base_url=f"http://127.0.0.1:{free_port()}")
    try:
        with pytest.raises(SmsError, match="Authenticate"):
            await wrong.send(CALLER, "hello")
        with pytest.raises(SmsUnavailableError):
            await nobody.send(CALLER, "hello")
    finally:
        await wrong.close()
        await nobody.close()


def _sign(token: str, data: str) -> str:
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def test_twilio_signature_matches_twilios_documented_example() -> None:
    # the example of Twilio's webhook security documentation
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    assert twilio_signature_valid("12345", url, params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    assert not twilio_signature_valid("12345", url, params, "1/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    assert not twilio_signature_valid("54321", url, params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    assert not twilio_signature_valid("12345", url + "&x=1", params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    assert not twilio_signature_valid("12345", url, {**params, "Digits": "1"}, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    assert not twilio_signature_valid("12345", url, params, None)


def test_twilio_signature_sorts_names_and_repeated_values() -> None:
    url = "https://example.org/api/sms/twilio"
    data = url + "Aa" + "Bx" + "By" + "Cz"
    signature = _sign(TOKEN, data)
    assert twilio_signature_valid(TOKEN, url, {"C": "z", "B": ["y", "x"], "A": "a"}, signature)
    assert not twilio_signature_valid(TOKEN, url, {"C": "z", "B": ["y"], "A": "a"}, signature)


async def test_build_sms_picks_the_adapter_from_settings() -> None:
    assert isinstance(build_sms(load_settings()), OutboxSms)
    acs = build_sms(load_settings(acs={"endpoint": "http://127.0.0.1:1", "access_key": "a2V5"}))
    twilio = build_sms(
        load_settings(
            sms={"backend": "twilio", "twilio": {"account_sid": SID, "auth_token": TOKEN, "from_number": BOT}}
        )
    )
    outbox = build_sms(load_settings(acs={"endpoint": "http://127.0.0.1:1"}, sms={"backend": "outbox"}))
    try:
        assert isinstance(acs, AcsSms) and isinstance(twilio, TwilioSms) and isinstance(outbox, OutboxSms)
    finally:
        for adapter in (acs, twilio, outbox):
            await adapter.close()


def test_twilio_backend_lists_its_missing_settings() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(sms={"backend": "twilio", "twilio": {"account_sid": SID}})
    assert sorted(caught.value.problems) == [
        "SMS__TWILIO__AUTH_TOKEN: required by the twilio SMS backend",
        "SMS__TWILIO__FROM_NUMBER: required by the twilio SMS backend",
    ]


async def test_the_send_sms_tool_reports_a_refused_delivery_to_the_agent(
    twilio: FakeTwilio, tmp_path: Path
) -> None:
    harness = await make_harness(tmp_path)
    sms = TwilioSms(SID, TOKEN, BOT, base_url=twilio.url)
    harness.ctx.ports = dataclasses.replace(harness.ctx.ports, sms=sms)
    twilio.failures.append((400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient"}))
    try:
        result = await run_tool(
            harness.ctx, "send_sms", json.dumps({"message": "Your file number"}), harness.speak
        )
        assert (
            not result.ok and "unsubscribed recipient" in result.content
        )  # stored as the tool call's result
        ok = await run_tool(
            harness.ctx, "send_sms", json.dumps({"message": "Your file number"}), harness.speak
        )
        assert ok.ok
    finally:
        await sms.close()
        await harness.store.close()
    texts = [m for m in (await harness.reload()).messages if m.action is MessageAction.SMS]
    assert [m.content for m in texts] == ["Your file number"]  # only the delivered one
