"""One number, two calls at once: two live calls are two calls (neither resumes the other), a call-back
asked for in either is placed, and a later call resumes only a finished conversation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from uuid import UUID

import pytest

from local.dev import LocalStack
from shared.composition import Services
from shared.models import Call, CallState, Reminder
from shared.models.call import utc_now
from shared.reminders.callbacks import run_due_callbacks
from shared.store.base import update_call
from tests.stack import eventually, local_stack

CALLER = "+33733333333"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with local_stack(tmp_path_factory.mktemp("stack"), flags="callback_timeout_hour: 3\n") as running:
        yield running


async def _answered(stack: LocalStack, services: Services, known: set[UUID]) -> Call:
    """Ring the bot from CALLER; the new call once it is answered and stored."""
    assert stack.simulator is not None and stack.settings is not None
    connection = stack.simulator.call_id_for(stack.simulator.ring(CALLER, stack.settings.acs.phone_number))
    stack.simulator.wait_for_call_state(connection, "connected", timeout=10)

    async def stored() -> Call | None:
        page = await services.store.list_by_phone(CALLER, limit=5)
        found = [
            c for c in page.items if c.call_id not in known and c.connection.call_connection_id == connection
        ]
        return found[0] if found else None

    call: Call = await eventually(stored, "the inbound call stored")
    known.add(call.call_id)
    return call


async def _ask_call_back(services: Services, call: Call, title: str) -> None:
    """What the assistant's reminder tool writes when the caller asks to be called back."""

    def add(stored: Call) -> None:
        stored.reminders.append(Reminder(title=title, due_date_time=utc_now() - timedelta(minutes=1)))

    await update_call(services.store, call.call_id, add, caller_phone=call.caller_phone)


async def _ended(services: Services, call: Call) -> None:
    await services.telephony.hang_up(call)

    async def disconnected() -> bool:
        stored = await services.store.get(call.call_id)
        return stored is not None and stored.connection.state is CallState.DISCONNECTED

    await eventually(disconnected, f"call {call.call_id} disconnected")


async def test_two_live_calls_from_one_number_are_two_calls_and_both_call_backs_are_placed(
    stack: LocalStack, services: Services
) -> None:
    known: set[UUID] = set()
    first = await _answered(stack, services, known)
    second = await _answered(stack, services, known)  # while the first is still live
    assert second.previous_call_id is None  # a live call is not resumed
    await _ask_call_back(services, first, "Call back about the first claim")
    await _ask_call_back(services, second, "Call back about the second claim")
    reloaded_first = await services.store.get(first.call_id)
    assert reloaded_first is not None and reloaded_first.resumed_by_call_id is None

    await _ended(services, first)
    await _ended(services, second)
    run = await run_due_callbacks(services, now=utc_now() + timedelta(hours=2))
    assert set(run.placed) >= {first.call_id, second.call_id}
    for call in (first, second):
        stored = await services.store.get(call.call_id)
        assert stored is not None
        assert all(r.callback_placed_at is not None for r in stored.reminders)


async def test_a_call_after_a_finished_one_resumes_it(stack: LocalStack, services: Services) -> None:
    known: set[UUID] = set()
    page = await services.store.list_by_phone(CALLER, limit=50)
    known.update(c.call_id for c in page.items)
    earlier = await _answered(stack, services, known)
    await _ended(services, earlier)
    later = await _answered(stack, services, known)
    assert later.previous_call_id == earlier.call_id
    await _ended(services, later)
