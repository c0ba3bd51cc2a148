"""The post-call SMS is written for the customer, in the call's language (not an internal note)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from shared.insights.customer_sms import customer_sms
from shared.models import Call, CallDirection, CallInitiate, LanguageSettings, Reminder, ReminderOwner
from shared.prompts import Prompts

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
LINK = "https://calls.example.org/api/report/1?expires=2&sig=3"


def _call(lang: str, claim: dict[str, str | None], **extra: object) -> Call:
    initiate = CallInitiate(lang=LanguageSettings(default_short_code=lang))
    return Call(
        caller_phone="+33612345678", direction=CallDirection.INBOUND, initiate=initiate, claim=claim, **extra
    )


def test_an_english_sms_says_what_was_noted_and_what_happens_next() -> None:
    reminder = Reminder(
        title="Call back", due_date_time=NOW + timedelta(days=1, hours=5), owner=ReminderOwner.ASSISTANT
    )
    call = _call(
        "en-US",
        {"caller_name": "John Smith", "incident_description": "my car was damaged in a parking lot"},
        reminders=[reminder],
    )
    body = customer_sms(call, Prompts.load(), link=LINK, now=NOW)
    assert body.startswith("Contoso: thank you for your call John.")
    assert '"my car was damaged in a parking lot"' in body
    assert "call you back Wednesday, November 25 at 3 PM" in body
    assert body.endswith(LINK)
    assert "of 5" not in body and "The caller" not in body


def test_a_french_call_gets_a_french_sms() -> None:
    call = _call("fr-FR", {"caller_name": "Camille Durand", "incident_description": "une fuite d'eau"})
    body = customer_sms(call, Prompts.load(), link=LINK, now=NOW)
    assert body.startswith("Contoso : merci pour votre appel Camille.")
    assert "« une fuite d'eau »" in body
    assert "nous vous recontacterons" in body  # fields are missing
    assert "Votre dossier : " + LINK in body
