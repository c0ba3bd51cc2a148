"""One call document stays under its size limit (Cosmos DB refuses documents over 2 MB) whatever is
written to it: texts flooding the bot's number, long turns, a conversation resumed call after call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared.calls.resume import carry_over
from shared.composition import Services, build_services
from shared.models import Call, CallDirection, Message, Persona
from shared.models.size import MAX_DOCUMENT_BYTES, MAX_SMS_CHARS, document_bytes
from shared.settings import load_settings
from shared.sms.inbound import receive_sms
from shared.store.base import append_message

CALLER = "+33612345678"
COSMOS_LIMIT = 2 * 1024 * 1024


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    built = build_services(load_settings(store={"sqlite": {"path": tmp_path / "calls.sqlite3"}}))
    yield built
    await built.aclose()


async def _stored_size(services: Services, call: Call) -> tuple[Call, int]:
    stored = await services.store.get(call.call_id)
    assert stored is not None
    return stored, document_bytes(stored)


async def test_150_long_texts_keep_the_document_under_the_limit(services: Services) -> None:
    call = await services.store.create(Call(caller_phone=CALLER, direction=CallDirection.INBOUND))
    for number in range(150):
        text = f"text {number}: " + "x" * 20_000
        await receive_sms(services, CALLER, "+33100000000", text, message_id=f"sms-{number}")
    stored, size = await _stored_size(services, call)
    assert size < COSMOS_LIMIT
    assert all(len(m.content) <= MAX_SMS_CHARS for m in stored.messages)
    assert stored.messages[-1].content.startswith("text 149:")  # the newest is kept


async def test_a_document_driven_toward_2_mb_trims_its_oldest_messages(services: Services) -> None:
    call = await services.store.create(Call(caller_phone=CALLER, direction=CallDirection.INBOUND))
    call.claim["caller_name"] = "Jane Doe"
    total = 0
    for number in range(120):  # 120 x 20,000 characters: 2.4 MB of words
        persona = Persona.HUMAN if number % 2 == 0 else Persona.ASSISTANT
        message = Message(persona=persona, content=f"turn {number} " + "y" * 19_980)
        total += len(message.content)
        await append_message(services.store, call.call_id, message, caller_phone=CALLER)
    assert total > COSMOS_LIMIT
    stored, size = await _stored_size(services, call)
    assert size <= MAX_DOCUMENT_BYTES
    assert stored.messages[-1].content.startswith("turn 119 ")
    assert stored.messages_trimmed == 120 - len(stored.messages) > 0


async def test_a_resumed_call_carries_no_more_than_the_limit(services: Services) -> None:
    previous = Call(caller_phone=CALLER, direction=CallDirection.INBOUND)
    previous.messages = [Message(persona=Persona.HUMAN, content="z" * 20_000) for _ in range(100)]
    resumed = Call(caller_phone=CALLER, direction=CallDirection.INBOUND)
    carry_over(previous, into=resumed)
    created = await services.store.create(resumed)
    _stored, size = await _stored_size(services, created)
    assert size <= MAX_DOCUMENT_BYTES
    assert created.messages_trimmed > 0
