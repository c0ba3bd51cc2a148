"""Signed report links, and the synthesis / next action computed without an LLM."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

import pytest

from shared.insights.links import (
    DEV_SIGNING_KEY,
    _warn_dev_key,
    report_link,
    signing_key,
    verify_report_link,
)
from shared.insights.synthesis import deterministic_next_action, deterministic_synthesis
from shared.models import (
    Call,
    CallInitiate,
    CallState,
    Message,
    MessageAction,
    NextActionKind,
    Persona,
    ReminderOwner,
    Satisfaction,
)
from shared.settings import Settings, SettingsError, load_settings
from tests.insights.support import CALLER, CLAIM, reminder

NOW = 1_800_000_000.0


def _parts(link: str) -> tuple[str, str, str, str]:
    url = urlsplit(link)
    query = parse_qs(url.query)
    return f"{url.scheme}://{url.netloc}", url.path, query["expires"][0], query["sig"][0]


def _settings(api_key: str | None = None, **overrides: object) -> Settings:
    return load_settings(api={"public_url": "https://calls.example.org/", "key": api_key}, **overrides)


def test_a_report_link_has_the_agreed_shape_and_verifies() -> None:
    settings = _settings(report={"signing_key": "s3cret", "link_ttl_hours": 2})
    call = Call(caller_phone=CALLER)
    base, path, expires, sig = _parts(report_link(settings, call, now=NOW))
    assert base == "https://calls.example.org" and path == f"/api/report/{call.call_id}"
    assert int(expires) == int(NOW + 2 * 3600) and len(sig) == 64
    assert verify_report_link(settings, call.call_id, expires, sig, now=NOW)
    assert verify_report_link(settings, str(call.call_id), int(expires), sig.upper(), now=NOW + 7199)


@pytest.mark.parametrize(
    "case", ["other call", "later expiry", "tampered", "expired", "garbage", "other key"]
)
def test_a_report_link_does_not_verify_when_anything_changed(case: str) -> None:
    settings = _settings(report={"signing_key": "s3cret"})
    call = Call(caller_phone=CALLER)
    _base, _path, expires, sig = _parts(report_link(settings, call, now=NOW))
    call_id, at, checked = str(call.call_id), NOW, settings
    if case == "other call":
        call_id = str(uuid4())
    elif case == "later expiry":
        expires = str(int(expires) + 3600)
    elif case == "tampered":
        sig = ("0" if sig[0] != "0" else "1") + sig[1:]
    elif case == "expired":
        at = int(expires) + 1
    elif case == "garbage":
        call_id, expires = "not-a-uuid", "soon"
    else:
        checked = _settings(report={"signing_key": "another"})
    assert not verify_report_link(checked, call_id, expires, sig, now=at)


def test_without_a_signing_key_links_are_signed_with_a_key_derived_from_the_api_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    first, again, other = (_settings(api_key=key) for key in ("key-1", "key-1", "key-2"))
    assert signing_key(first) == signing_key(again) != signing_key(other)
    assert signing_key(first) not in (b"key-1", DEV_SIGNING_KEY)
    call = Call(caller_phone=CALLER)
    _b, _p, expires, sig = _parts(report_link(first, call, now=time.time()))
    assert verify_report_link(again, call.call_id, expires, sig) and not verify_report_link(
        other, call.call_id, expires, sig
    )
    _warn_dev_key.cache_clear()
    with caplog.at_level(logging.WARNING, logger="shared.insights.links"):
        assert signing_key(load_settings()) == DEV_SIGNING_KEY  # no key at all: fixed, so links survive
        assert signing_key(load_settings()) == DEV_SIGNING_KEY
    assert len([r for r in caplog.records if "REPORT__SIGNING_KEY" in r.getMessage()]) == 1


def test_azure_mode_requires_a_signing_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MODE", "azure")
    with pytest.raises(SettingsError, match="REPORT__SIGNING_KEY"):
        load_settings()


def _call(said: list[str] | None = None, extra: list[Message] | None = None, **fields: object) -> Call:
    messages = [Message(persona=Persona.HUMAN, content=text) for text in (said or [])]
    return Call(
        caller_phone=CALLER,
        initiate=CallInitiate.model_validate({"claim": CLAIM}),
        messages=messages + (extra or []),
        **fields,
    )


def test_rules_synthesis_is_short_then_long_from_claim_reminders_and_transcript() -> None:
    call = _call(
        ["I would like to report a stolen car, it happened last night."],
        claim={"caller_name": "Jean Dupont", "caller_email": "jean@example.org"},
        reminders=[reminder("Call back about the police report", ReminderOwner.ASSISTANT)],
    )
    synthesis = deterministic_synthesis(call)
    assert (
        synthesis.short
        == "Jean Dupont was called by Contoso: 2 of 3 claim details collected, 1 follow-up planned."
    )
    assert synthesis.short.count(".") == 1
    assert "stolen car" in synthesis.long and "Missing: incident description." in synthesis.long
    assert (
        "caller email: jean@example.org" in synthesis.long and "Call back about the police" in synthesis.long
    )
    assert synthesis.satisfaction is Satisfaction.UNKNOWN
    assert "incident description" in synthesis.improvement_suggestions


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        (["Thank you so much, perfect!"], Satisfaction.HIGH),
        (["This is unacceptable."], Satisfaction.LOW),
        (["Merci beaucoup, c'est parfait"], Satisfaction.HIGH),
        (["Perfect, but honestly this process is terrible"], Satisfaction.UNKNOWN),
        (["OK. Bye."], Satisfaction.UNKNOWN),
    ],
)
def test_satisfaction_is_unknown_unless_clear(said: list[str], expected: Satisfaction) -> None:
    assert deterministic_synthesis(_call(said)).satisfaction is expected


def test_rules_next_action_from_transfer_reminders_and_claim_completeness() -> None:
    complete = {"caller_name": "Jo", "caller_email": "jo@example.org", "incident_description": "theft"}
    transferred = _call(
        ["human please"],
        claim=complete,
        extra=[Message(persona=Persona.ASSISTANT, action=MessageAction.TRANSFER, content="transferred")],
    )
    assert deterministic_next_action(transferred).action is NextActionKind.REQUIRES_HUMAN_AGENT
    state = _call(claim=complete)
    state.connection.state = CallState.TRANSFERRING
    assert deterministic_next_action(state).action is NextActionKind.REQUIRES_HUMAN_AGENT
    agent = _call(claim=complete, reminders=[reminder("Check the contract", ReminderOwner.AGENT)])
    assert deterministic_next_action(agent).action is NextActionKind.REQUIRES_HUMAN_AGENT
    customer = _call(claim=complete, reminders=[reminder("send the invoice", ReminderOwner.CUSTOMER)])
    assert deterministic_next_action(customer).action is NextActionKind.CUSTOMER_WILL_SEND_INFO
    missing = deterministic_next_action(_call(claim={"caller_name": "Jo"}))
    assert missing.action is NextActionKind.CUSTOMER_WILL_SEND_INFO
    assert missing.justification == "The claim misses caller email, incident description."
    closed = deterministic_next_action(
        _call(claim=complete, reminders=[reminder("Confirm the repair date", ReminderOwner.ASSISTANT)])
    )
    assert closed.action is NextActionKind.CASE_CLOSED and "Confirm the repair date" in closed.justification
