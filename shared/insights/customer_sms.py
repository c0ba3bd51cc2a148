"""The words of the post-call SMS: written for the customer, in the call's language.

Not the company's summary ("The caller called Contoso: 1 of 5 claim details collected") but what the
customer wants to read after hanging up: thanks, what was noted (their request in their own words),
what happens next (a call back at a time, an adviser, what is still missing), and the link to their
file. The sentences come from the prompts file (`sms_*` phrases), so they are localised and can be
overridden like every spoken phrase. Pure functions.
"""

from __future__ import annotations

from datetime import datetime

from shared.claim.schema import ClaimField
from shared.conversation.reading import describes_need
from shared.conversation.speakable import say_datetime
from shared.conversation.understanding import is_name_field
from shared.models import Call, CallDirection, NextActionKind, ReminderOwner
from shared.prompts import PhraseSource, fill

REQUEST_CHARS = 90


def _phrase(prompts: PhraseSource, phrase: str, lang: str, **values: object) -> str:
    return fill(prompts.phrase_choices(phrase, lang)[0], values)


def _first_name(call: Call) -> str | None:
    for claim_field in call.initiate.claim:
        value = call.claim.get(claim_field.name)
        hint = f"{claim_field.name} {claim_field.description or ''}"
        if value and claim_field.type == "text" and is_name_field(hint) and "caller" in hint.lower():
            return value.split()[0]
    return None


def _request(call: Call) -> str | None:
    field: ClaimField | None = next((f for f in call.initiate.claim if describes_need(f)), None)
    value = call.claim.get(field.name) if field is not None else None
    if not value:
        return None
    value = " ".join(value.split())
    return value if len(value) <= REQUEST_CHARS else value[: REQUEST_CHARS - 1].rstrip() + "…"


def _call_back(call: Call, now: datetime) -> datetime | None:
    due = [
        r.due_date_time
        for r in call.reminders
        if r.owner in (ReminderOwner.ASSISTANT, ReminderOwner.AGENT) and r.due_date_time >= now
    ]
    return min(due) if due else None


def customer_sms(call: Call, prompts: PhraseSource, *, link: str | None, now: datetime) -> str:
    """The SMS body: thanks, what was noted, what happens next, the link to the customer's file."""
    lang = call.current_lang
    company = call.initiate.bot_company
    name = _first_name(call)
    thanks = "sms_thanks_outbound" if call.direction is CallDirection.OUTBOUND else "sms_thanks"
    parts = [_phrase(prompts, thanks, lang, company=company, name=f" {name}" if name else "")]
    request = _request(call)
    collected = [f for f in call.initiate.claim if call.claim.get(f.name)]
    if request:
        parts.append(_phrase(prompts, "sms_noted_request", lang, request=request))
    elif collected:
        parts.append(_phrase(prompts, "sms_noted_details", lang))
    call_back = _call_back(call, now)
    transferred = call.next is not None and call.next.action is NextActionKind.REQUIRES_HUMAN_AGENT
    if call_back is not None:
        when = say_datetime(call_back.astimezone(now.tzinfo), lang)
        parts.append(_phrase(prompts, "sms_next_call_back", lang, when=when))
    elif transferred:
        parts.append(_phrase(prompts, "sms_next_adviser", lang))
    elif len(collected) < len(call.initiate.claim):
        parts.append(_phrase(prompts, "sms_next_missing", lang))
    else:
        parts.append(_phrase(prompts, "sms_next_done", lang))
    if link:
        parts.append(_phrase(prompts, "sms_link", lang, link=link))
    return " ".join(part.strip() for part in parts if part.strip())
