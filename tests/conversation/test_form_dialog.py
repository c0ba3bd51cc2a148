"""The form agent holds a conversation: it uses everything the caller says, words its questions for a
caller, confirms what matters and understands corrections (issue: a caller noticed a script)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from shared.conversation.engine import Conversation
from shared.models import Call, CallDirection
from tests.conversation.support import Harness, make_harness

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))  # a Tuesday
BARE_FIELDS = [
    {"name": "contract_id", "type": "text"},
    {"name": "caller_name", "type": "text"},
    {"name": "caller_email", "type": "email"},
    {"name": "incident_datetime", "type": "datetime"},
]


async def _start(tmp_path: Path, *, lang: str = "en-US", **options: object) -> tuple[Conversation, Harness]:
    harness = await make_harness(tmp_path, lang=lang, clock=lambda: NOW, **options)  # type: ignore[arg-type]
    conversation = Conversation(harness.ctx, llm=None)
    return conversation, harness


async def _set(harness: Harness, **values: object) -> None:
    def apply(call: Call) -> None:
        for name, value in values.items():
            setattr(call, name, value)

    await harness.ctx.save(apply)


async def test_the_answer_to_the_greeting_is_used_without_a_description_field(tmp_path: Path) -> None:
    conversation, harness = await _start(tmp_path, claim=BARE_FIELDS)
    await conversation.start(harness.speak)
    await conversation.respond(
        "Hello, my name is Ana Lopez and my email is ana dot lopez at example dot com.", harness.speak
    )
    claim = harness.ctx.call.claim
    assert claim.get("caller_name") == "Ana Lopez"
    assert claim.get("caller_email") == "ana.lopez@example.com"


async def test_several_fields_in_one_breath_and_a_field_given_before_it_is_asked(tmp_path: Path) -> None:
    conversation, harness = await _start(tmp_path)
    await conversation.start(harness.speak)
    await conversation.respond("My car was scratched in a car park.", harness.speak)
    assert harness.ctx.form.asking == "caller_name"
    await conversation.respond(
        "I'm Tom Baker, it happened yesterday at 5 pm, you can reach me at 06 12 34 56 78", harness.speak
    )
    claim = harness.ctx.call.claim
    assert claim.get("caller_name") == "Tom Baker"
    assert claim.get("caller_phone") == "+33612345678"
    assert claim.get("incident_datetime") == "2026-11-23T17:00:00+01:00"
    assert harness.ctx.form.asking == "caller_email"


async def test_an_outbound_call_says_who_calls_and_why(tmp_path: Path) -> None:
    conversation, harness = await _start(tmp_path, claim=BARE_FIELDS)
    await _set(harness, direction=CallDirection.OUTBOUND)
    harness.ctx.call.initiate.task = "Help the employee with their broken laptop."
    await harness.ctx.save(lambda call: setattr(call, "initiate", harness.ctx.call.initiate))
    await conversation.start(harness.speak)
    opening = " ".join(harness.spoken)
    assert "Amélie" in opening and "Contoso" in opening
    assert "help you with your broken laptop" in opening
    assert "How can I help" not in opening
    assert harness.ctx.form.asking == "contract_id"
    assert "contract ID" in harness.spoken[-1]


async def test_questions_never_read_an_identifier_and_speak_the_call_language(tmp_path: Path) -> None:
    fields = [
        {"name": "contract_id", "type": "text"},
        {"name": "device_model", "type": "text", "description": "the model of the broken device"},
        {"name": "incident_datetime", "type": "datetime"},
    ]
    for lang in ("en-US", "fr-FR"):
        conversation, harness = await _start(tmp_path / lang, lang=lang, claim=fields)
        await conversation.start(harness.speak)
        for answer in (
            "Bonjour" if lang == "fr-FR" else "Hello",
            "A B C four two",
            "un HP EliteBook" if lang == "fr-FR" else "an HP EliteBook",
            "hier",
        ):
            await conversation.respond(answer, harness.speak)
        said = " ".join(harness.spoken)
        assert not re.search(r"\w_\w|\bdatetime\b", said), said
        if lang == "fr-FR":
            assert "broken device" not in said and "numéro du contrat" in said, said
    assert harness.ctx.call.claim.get("contract_id") == "ABC42"


async def test_an_email_is_confirmed_and_a_correction_carries_the_new_value(tmp_path: Path) -> None:
    conversation, harness = await _start(tmp_path)
    await conversation.start(harness.speak)
    await conversation.respond("I lost my wallet", harness.speak)
    await conversation.respond("I'm Maria Lopez", harness.speak)
    await conversation.respond("maria dot lopez at example dot com", harness.speak)
    assert "is that" in harness.spoken[-1].lower()
    await conversation.respond("no, it's m dot lopez at example dot net", harness.speak)
    assert not conversation.ended
    assert harness.ctx.call.claim.get("caller_email") == "m.lopez@example.net"
    await conversation.respond("yes", harness.speak)
    assert harness.ctx.form.asking == "caller_phone"
    assert "phone" in harness.spoken[-1].lower()


async def test_a_national_number_is_read_in_the_caller_region(tmp_path: Path) -> None:
    conversation, harness = await _start(tmp_path, claim=[{"name": "caller_phone", "type": "phone_number"}])
    await _set(harness, caller_phone="+14255550100")
    await conversation.start(harness.speak)
    await conversation.respond("Hi, I'd like a call back about my order.", harness.speak)
    await conversation.respond("four one five, five five five, zero one three two", harness.speak)
    assert harness.ctx.call.claim.get("caller_phone") == "+14155550132"


async def test_text_is_trimmed_to_its_content(tmp_path: Path) -> None:
    fields = [{"name": "device", "type": "text", "description": "the device concerned"}]
    conversation, harness = await _start(tmp_path, claim=fields)
    await conversation.start(harness.speak)
    await conversation.respond("Hello.", harness.speak)
    await conversation.respond("It's a laptop, an HP EliteBook.", harness.speak)
    assert harness.ctx.call.claim.get("device") == "laptop, an HP EliteBook"


async def test_a_question_asked_again_is_worded_differently(tmp_path: Path) -> None:
    conversation, harness = await _start(tmp_path)
    await conversation.start(harness.speak)
    await conversation.respond("I had an accident", harness.speak)
    await conversation.respond("John Smith", harness.speak)
    before = len(harness.spoken)
    await conversation.respond("banana", harness.speak)
    await conversation.respond("banana", harness.speak)
    retries = harness.spoken[before:]
    assert len(retries) == 2 and retries[0] != retries[1]
