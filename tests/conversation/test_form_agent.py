"""The form-filling agent over a 4-field claim, from varied caller phrasings in English and French."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shared.conversation.engine import Conversation
from shared.models import AgentKind, Persona, ReminderOwner
from tests.conversation.support import Harness, make_harness

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))  # a Tuesday


def fixed_clock() -> datetime:
    return NOW


@dataclass(frozen=True)
class Dialog:
    lang: str
    answers: tuple[tuple[str, str, str], ...]  # (field, caller phrasing, expected value)


NAME, EMAIL, PHONE, WHEN = "caller_name", "caller_email", "caller_phone", "incident_datetime"
TOMORROW_3PM = "2026-11-25T15:00:00+01:00"

DIALOGS = [
    Dialog(
        "en-US",
        (
            (NAME, "My name is John Smith", "John Smith"),
            (EMAIL, "my email is john dot smith at example dot com", "john.smith@example.com"),
            (PHONE, "you can reach me at 06 12 34 56 78", "+33612345678"),
            (WHEN, "it happened yesterday around 3 pm", "2026-11-23T15:00:00+01:00"),
        ),
    ),
    Dialog(
        "en-US",
        (
            (NAME, "John Smith, that's S M I T H", "John Smith"),
            (EMAIL, "sure, it's john.smith@example.com", "john.smith@example.com"),
            (
                PHONE,
                "my number is plus three three six twelve thirty four fifty six seventy eight",
                "+33612345678",
            ),
            (WHEN, "tomorrow at three pm please", TOMORROW_3PM),
        ),
    ),
    Dialog(
        "en-US",
        (
            (NAME, "I'm Mary Jones", "Mary Jones"),
            (EMAIL, "mary underscore jones at outlook dot com", "mary_jones@outlook.com"),
            (PHONE, "+1 425 555 0100", "+14255550100"),
            (WHEN, "on March 3rd at 10 am", "2027-03-03T10:00:00+01:00"),
        ),
    ),
    Dialog(
        "en-US",
        (
            (NAME, "Peter Parker", "Peter Parker"),
            (EMAIL, "it is p dot parker at gmail dot com", "p.parker@gmail.com"),
            (PHONE, "zero six, twelve, thirty-four, fifty-six, seventy-eight", "+33612345678"),
            (WHEN, "last monday morning", "2026-11-23T09:00:00+01:00"),
        ),
    ),
    Dialog(
        "en-US",
        (
            (NAME, "the name is Ana Lopez", "Ana Lopez"),
            (EMAIL, "ana dash lopez at example dot org", "ana-lopez@example.org"),
            (PHONE, "it's 06.12.34.56.78", "+33612345678"),
            (WHEN, "2026-11-20 at 14:30", "2026-11-20T14:30:00+01:00"),
        ),
    ),
    Dialog(
        "en-US",
        (
            (NAME, "call me David Brown", "David Brown"),
            (EMAIL, "my address is david at brown dot co dot uk", "david@brown.co.uk"),
            (PHONE, "my phone number is 0033 6 12 34 56 78", "+33612345678"),
            (WHEN, "yesterday at noon", "2026-11-23T12:00:00+01:00"),
        ),
    ),
    Dialog(
        "fr-FR",
        (
            (NAME, "je m'appelle Jean Dupont", "Jean Dupont"),
            (EMAIL, "mon adresse c'est jean point dupont arobase orange point fr", "jean.dupont@orange.fr"),
            (
                PHONE,
                "mon numéro c'est le zéro six douze trente-quatre cinquante-six soixante-dix-huit",
                "+33612345678",
            ),
            (WHEN, "ça s'est passé hier vers 15h", "2026-11-23T15:00:00+01:00"),
        ),
    ),
    Dialog(
        "fr-FR",
        (
            (NAME, "c'est Marie Curie", "Marie Curie"),
            (EMAIL, "marie.curie@exemple.fr", "marie.curie@exemple.fr"),
            (PHONE, "06 12 34 56 78", "+33612345678"),
            (WHEN, "le 3 mars à 10h", "2027-03-03T10:00:00+01:00"),
        ),
    ),
    Dialog(
        "fr-FR",
        (
            (NAME, "Pierre Dupont, D U P O N T", "Pierre Dupont"),
            (EMAIL, "pierre tiret dupont arobase gmail point com", "pierre-dupont@gmail.com"),
            (PHONE, "vous pouvez me joindre au 07 98 76 54 32", "+33798765432"),
            (WHEN, "demain à 15h", TOMORROW_3PM),
        ),
    ),
    Dialog(
        "fr-FR",
        (
            (NAME, "moi c'est Sophie Martin", "Sophie Martin"),
            (EMAIL, "c'est sophie arobase free point fr", "sophie@free.fr"),
            (
                PHONE,
                "plus trois trois six douze trente-quatre cinquante-six soixante-dix-huit",
                "+33612345678",
            ),
            (WHEN, "lundi dernier", "2026-11-23T00:00:00+01:00"),  # a date alone means midnight
        ),
    ),
    Dialog(
        "fr-FR",
        (
            (NAME, "mon nom est Paul Durand", "Paul Durand"),
            (EMAIL, "paul underscore durand arobase laposte point net", "paul_durand@laposte.net"),
            (
                PHONE,
                "zéro sept quatre-vingt-dix-huit soixante-seize cinquante-quatre trente-deux",
                "+33798765432",
            ),
            (WHEN, "après-demain à 9h", "2026-11-26T09:00:00+01:00"),
        ),
    ),
    Dialog(
        "fr-FR",
        (
            (NAME, "Julie Bernard", "Julie Bernard"),
            (EMAIL, "julie point bernard arobase yahoo point fr", "julie.bernard@yahoo.fr"),
            (PHONE, "mon portable c'est le 06 12 34 56 78", "+33612345678"),
            (WHEN, "lundi prochain à 10h", "2026-11-30T10:00:00+01:00"),
        ),
    ),
]


async def _start(tmp_path: Path, lang: str, **options: object) -> tuple[Conversation, Harness]:
    harness = await make_harness(tmp_path, lang=lang, clock=fixed_clock, **options)  # type: ignore[arg-type]
    conversation = Conversation(harness.ctx, llm=None)
    await conversation.start(harness.speak)
    return conversation, harness


async def test_form_agent_fills_the_claim_from_varied_phrasings(tmp_path: Path) -> None:
    total = passed = 0
    failures: list[str] = []
    for number, dialog in enumerate(DIALOGS):
        conversation, harness = await _start(tmp_path / str(number), dialog.lang)
        await conversation.respond(
            "Hello, I need to report an incident"
            if dialog.lang == "en-US"
            else "Bonjour, je voudrais déclarer un sinistre",
            harness.speak,
        )
        for field, phrasing, expected in dialog.answers:
            assert harness.ctx.form.asking == field, f"dialog {number}: expected a question about {field}"
            await conversation.respond(phrasing, harness.speak)
            value = harness.ctx.call.claim.get(field)
            total += 1
            if value == expected:
                passed += 1
            else:
                failures.append(f"{dialog.lang} {field}: {phrasing!r} -> {value!r}, expected {expected!r}")
                # keep the dialog going so later fields are still measured
                harness.ctx.call.claim[field] = expected
                harness.ctx.form.asking = next(
                    (f for f, _, _ in dialog.answers if not harness.ctx.call.claim.get(f)), None
                )
        assert harness.ctx.form.done or failures
    print(f"form agent pass rate: {passed}/{total} ({100 * passed / total:.1f}%)")
    assert total >= 40
    assert not failures, "\n".join(failures)


async def test_form_agent_says_the_value_back_and_accepts_a_correction(tmp_path: Path) -> None:
    conversation, harness = await _start(tmp_path, "en-US")
    await conversation.respond("I had an accident", harness.speak)
    await conversation.respond("My name is John Smith", harness.speak)
    assert "John Smith" in harness.spoken[-2]
    await conversation.respond("no, that's wrong", harness.speak)
    assert harness.ctx.call.claim.get(NAME) is None
    assert harness.ctx.form.asking == NAME
    await conversation.respond("My name is Jon Smyth", harness.speak)
    assert harness.ctx.call.claim.get(NAME) == "Jon Smyth"


async def test_form_agent_repeats_the_last_question(tmp_path: Path) -> None:
    conversation, harness = await _start(tmp_path, "en-US")
    await conversation.respond("I had an accident", harness.speak)
    question = harness.spoken[-1]
    await conversation.respond("sorry, can you repeat?", harness.speak)
    assert harness.spoken[-1] == question


async def test_form_agent_reasks_after_an_unusable_answer_then_moves_on(tmp_path: Path) -> None:
    conversation, harness = await _start(tmp_path, "en-US")
    await conversation.respond("I had an accident", harness.speak)
    await conversation.respond("John Smith", harness.speak)
    assert harness.ctx.form.asking == EMAIL
    for _ in range(3):
        await conversation.respond("banana", harness.speak)
    assert harness.ctx.form.asking == PHONE  # gave up on the e-mail after three tries
    assert harness.ctx.call.claim.get(EMAIL) is None


async def test_form_agent_transfers_to_a_human_on_request(tmp_path: Path) -> None:
    conversation, harness = await _start(tmp_path, "fr-FR")
    await conversation.respond("je veux parler à un conseiller", harness.speak)
    assert conversation.ended
    assert [(a.kind, a.target) for a in harness.telephony.actions] == [("transfer", "+33699999999")]
    call = await harness.reload()
    assert call.messages[-1].tool_calls[0].name == "talk_to_human"


async def test_form_agent_says_goodbye_and_hangs_up(tmp_path: Path) -> None:
    conversation, harness = await _start(tmp_path, "en-US")
    await conversation.respond("that's all, goodbye", harness.speak)
    assert conversation.ended
    assert [a.kind for a in harness.telephony.actions] == ["hang_up"]


async def test_form_agent_creates_a_call_back_reminder(tmp_path: Path) -> None:
    conversation, harness = await _start(tmp_path, "en-US")
    await conversation.respond("please call me back tomorrow at 3 pm", harness.speak)
    call = await harness.reload()
    assert len(call.reminders) == 1
    reminder = call.reminders[0]
    assert reminder.owner is ReminderOwner.ASSISTANT
    assert reminder.due_date_time.isoformat() == TOMORROW_3PM


async def test_form_agent_asks_when_to_call_back(tmp_path: Path) -> None:
    conversation, harness = await _start(tmp_path, "en-US")
    await conversation.respond("can you call me back later?", harness.speak)
    assert not (await harness.reload()).reminders
    await conversation.respond("tomorrow at 3 pm", harness.speak)
    assert [r.due_date_time.isoformat() for r in (await harness.reload()).reminders] == [TOMORROW_3PM]


async def test_no_agent_number_offers_a_call_back(tmp_path: Path) -> None:
    conversation, harness = await _start(tmp_path, "en-US", agent_phone_number=None)
    await conversation.respond("I want to talk to a human", harness.speak)
    assert not conversation.ended
    await conversation.respond("yes, tomorrow at 3 pm", harness.speak)
    assert [r.due_date_time.isoformat() for r in (await harness.reload()).reminders] == [TOMORROW_3PM]


async def test_every_turn_is_stored_like_an_llm_turn(tmp_path: Path) -> None:
    conversation, harness = await _start(tmp_path, "en-US")
    await conversation.respond("I had an accident", harness.speak)
    await conversation.respond("My name is John Smith", harness.speak)
    call = await harness.reload()
    assert call.agent is AgentKind.FORM
    personas = [m.persona for m in call.messages]
    assert personas == [Persona.ASSISTANT, Persona.HUMAN, Persona.ASSISTANT, Persona.HUMAN, Persona.ASSISTANT]
    assert call.messages[-1].tool_calls[0].name == "updated_claim"


@pytest.mark.parametrize("lang", ["en-US", "fr-FR"])
async def test_completed_claim_then_no_ends_the_call(tmp_path: Path, lang: str) -> None:
    dialog = next(d for d in DIALOGS if d.lang == lang)
    conversation, harness = await _start(tmp_path, lang)
    await conversation.respond("hello", harness.speak)
    for _field, phrasing, _expected in dialog.answers:
        await conversation.respond(phrasing, harness.speak)
    assert harness.ctx.form.done
    await conversation.respond("no thanks" if lang == "en-US" else "non merci", harness.speak)
    assert conversation.ended
