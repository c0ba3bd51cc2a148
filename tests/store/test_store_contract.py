"""One contract for every conversation store adapter (SQLite always, Cosmos when COSMOS_ENDPOINT is set)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared.models import Call, Message, Persona
from shared.store.base import CallStore, ConflictError, append_message, update_call

PHONE = "+33612345678"
OTHER_PHONE = "+14255550100"


def make_call(phone: str = PHONE, *, created_at: datetime | None = None) -> Call:
    at = created_at or datetime.now(UTC)
    return Call(caller_phone=phone, created_at=at, updated_at=at)


async def test_create_then_get_returns_the_same_document_with_an_etag(store: CallStore) -> None:
    call = make_call()
    call.claim = {"caller_name": "Jean Dupont"}
    created = await store.create(call)
    assert created.etag

    loaded = await store.get(call.call_id)
    assert loaded is not None
    assert loaded.etag == created.etag
    assert loaded.model_dump(exclude={"etag"}) == call.model_dump(exclude={"etag"})
    by_partition = await store.get(call.call_id, caller_phone=PHONE)
    assert by_partition is not None and by_partition.call_id == call.call_id
    assert await store.get(call.call_id, caller_phone="+14155550199") is None  # a point read elsewhere


async def test_get_unknown_call_is_none(store: CallStore) -> None:
    assert await store.get(uuid.uuid4()) is None


async def test_create_twice_is_a_conflict(store: CallStore) -> None:
    call = make_call()
    await store.create(call)
    with pytest.raises(ConflictError):
        await store.create(call)


async def test_replace_with_current_etag_changes_the_etag(store: CallStore) -> None:
    created = await store.create(make_call())
    created.claim["caller_name"] = "Ana"
    replaced = await store.replace(created)
    assert replaced.etag and replaced.etag != created.etag
    loaded = await store.get(created.call_id)
    assert loaded is not None and loaded.claim == {"caller_name": "Ana"}


async def test_stale_etag_is_a_conflict_and_changes_nothing(store: CallStore) -> None:
    created = await store.create(make_call())
    first = created.model_copy(deep=True)
    second = created.model_copy(deep=True)

    first.messages.append(Message(persona=Persona.HUMAN, content="from writer one"))
    await store.replace(first)

    second.messages.append(Message(persona=Persona.HUMAN, content="from writer two"))
    with pytest.raises(ConflictError):
        await store.replace(second)

    loaded = await store.get(created.call_id)
    assert loaded is not None
    assert [m.content for m in loaded.messages] == ["from writer one"]


async def test_replace_without_etag_is_refused(store: CallStore) -> None:
    created = await store.create(make_call())
    created.etag = None
    with pytest.raises(ConflictError):
        await store.replace(created)


async def test_two_concurrent_writers_one_stale_etag_one_conflict_no_lost_message(store: CallStore) -> None:
    """Both writers read the same version; the stale one gets a conflict, retries, and nothing is lost."""
    created = await store.create(make_call())
    reader_a = await store.get(created.call_id)
    reader_b = await store.get(created.call_id)
    assert reader_a is not None and reader_b is not None

    reader_a.messages.append(Message(persona=Persona.HUMAN, content="A"))
    reader_b.messages.append(Message(persona=Persona.ASSISTANT, content="B"))
    outcomes = await asyncio.gather(store.replace(reader_a), store.replace(reader_b), return_exceptions=True)
    conflicts = [o for o in outcomes if isinstance(o, ConflictError)]
    assert len(conflicts) == 1
    loser = reader_b if outcomes[1] is conflicts[0] else reader_a

    # the loser does what every writer in the system does: re-read and re-apply
    await append_message(store, created.call_id, loser.messages[-1])
    loaded = await store.get(created.call_id)
    assert loaded is not None
    assert sorted(m.content for m in loaded.messages) == ["A", "B"]


async def test_concurrent_appends_all_land(store: CallStore) -> None:
    created = await store.create(make_call())
    await asyncio.gather(
        *(
            append_message(store, created.call_id, Message(persona=Persona.HUMAN, content=f"m{i}"))
            for i in range(12)
        )
    )
    loaded = await store.get(created.call_id)
    assert loaded is not None
    assert sorted(m.content for m in loaded.messages) == sorted(f"m{i}" for i in range(12))


async def test_update_call_applies_the_change_and_touches_updated_at(store: CallStore) -> None:
    created = await store.create(make_call(created_at=datetime.now(UTC) - timedelta(minutes=5)))

    def set_claim(call: Call) -> None:
        call.claim["caller_email"] = "ana@example.com"

    updated = await update_call(store, created.call_id, set_claim)
    assert updated.claim["caller_email"] == "ana@example.com"
    assert updated.updated_at > created.updated_at


async def test_find_resumable_returns_the_latest_call_within_the_window(store: CallStore) -> None:
    now = datetime.now(UTC)
    old = make_call(created_at=now - timedelta(hours=5))
    recent = make_call(created_at=now - timedelta(hours=1))
    other = make_call(OTHER_PHONE, created_at=now - timedelta(minutes=1))
    for call in (old, recent, other):
        await store.create(call)

    found = await store.find_resumable(PHONE, within=timedelta(hours=3), now=now)
    assert found is not None and found.call_id == recent.call_id
    assert await store.find_resumable(PHONE, within=timedelta(minutes=30), now=now) is None
    assert await store.find_resumable("+33700000000", within=timedelta(hours=3), now=now) is None


async def test_list_by_phone_pages_newest_first_without_duplicates(store: CallStore) -> None:
    now = datetime.now(UTC)
    calls = [make_call(created_at=now - timedelta(minutes=i)) for i in range(5)]
    for call in calls:
        await store.create(call)
    await store.create(make_call(OTHER_PHONE, created_at=now))

    seen: list[uuid.UUID] = []
    cursor: str | None = None
    sizes: list[int] = []
    while True:
        page = await store.list_by_phone(PHONE, limit=2, cursor=cursor)
        sizes.append(len(page.items))
        seen += [c.call_id for c in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [c.call_id for c in calls]  # newest first
    assert sum(sizes) == 5 and max(sizes) <= 2


async def test_list_by_date_filters_on_creation_time(store: CallStore) -> None:
    base = datetime(2026, 1, 10, 12, tzinfo=UTC)
    days = [make_call(created_at=base + timedelta(days=d)) for d in range(4)]
    for call in days:
        await store.create(call)
    page = await store.list_by_date(since=base + timedelta(days=1), until=base + timedelta(days=3), limit=10)
    assert [c.call_id for c in page.items] == [days[2].call_id, days[1].call_id]
    assert page.next_cursor is None


async def test_bad_paging_arguments_are_clear_errors(store: CallStore) -> None:
    with pytest.raises(ValueError, match="limit"):
        await store.list_by_phone(PHONE, limit=0)


async def test_delete_removes_the_call_once(store: CallStore) -> None:
    call = await store.create(make_call())
    assert await store.delete(call.call_id, caller_phone=PHONE) is True
    assert await store.get(call.call_id) is None
    assert await store.delete(call.call_id, caller_phone=PHONE) is False


async def test_secrets_are_stored_but_not_public(store: CallStore) -> None:
    call = make_call()
    call.secrets.callback = "s3cret"
    await store.create(call)
    loaded = await store.get(call.call_id)
    assert loaded is not None and loaded.secrets.callback == "s3cret"
    assert "s3cret" not in str(loaded.public())


async def test_ping_succeeds(store: CallStore) -> None:
    await store.ping()


# Due reminders (reminder call-backs) and recordings.


def _with_reminders(phone: str, *reminders: tuple[str, datetime, str]) -> Call:
    from shared.models import Reminder, ReminderOwner

    call = make_call(phone)
    call.reminders = [
        Reminder(title=title, due_date_time=due, owner=ReminderOwner(owner))
        for title, due, owner in reminders
    ]
    return call


async def test_list_due_reminders_returns_calls_awaiting_a_call_back_earliest_due_first(
    store: CallStore,
) -> None:
    from datetime import timezone

    from shared.models.call import MAX_CALLBACK_ATTEMPTS

    now = datetime.now(UTC)
    paris = timezone(timedelta(hours=2))
    late = await store.create(_with_reminders(PHONE, ("late", now - timedelta(days=2), "assistant")))
    # due one hour ago, written with a +02:00 offset: compared as a time, not as text
    offset = await store.create(
        _with_reminders(OTHER_PHONE, ("offset", (now - timedelta(hours=1)).astimezone(paris), "assistant"))
    )
    mixed = await store.create(
        _with_reminders(
            PHONE,
            ("future", now + timedelta(minutes=5), "assistant"),
            ("customer's", now - timedelta(days=5), "customer"),
            ("due", now - timedelta(minutes=1), "assistant"),
        )
    )
    placed = _with_reminders(PHONE, ("placed", now - timedelta(hours=3), "assistant"))
    placed.reminders[0].callback_placed_at = now
    exhausted = _with_reminders(PHONE, ("exhausted", now - timedelta(hours=3), "assistant"))
    exhausted.reminders[0].callback_attempts = MAX_CALLBACK_ATTEMPTS
    taken_over = _with_reminders(PHONE, ("resumed", now - timedelta(hours=3), "assistant"))
    taken_over.resumed_by_call_id = uuid.uuid4()
    for call in (placed, exhausted, taken_over):
        await store.create(call)
    await store.create(_with_reminders(PHONE, ("agent's", now - timedelta(hours=3), "agent")))
    await store.create(_with_reminders(OTHER_PHONE))

    due = await store.list_due_reminders(now, limit=10)
    assert [c.call_id for c in due] == [late.call_id, offset.call_id, mixed.call_id]
    assert due[0].etag  # ready for update_call
    assert [c.call_id for c in await store.list_due_reminders(now, limit=2)] == [late.call_id, offset.call_id]
    assert await store.list_due_reminders(now - timedelta(days=3), limit=10) == []
    with pytest.raises(ValueError):
        await store.list_due_reminders(now, limit=0)


async def test_a_marked_reminder_leaves_the_due_list(store: CallStore) -> None:
    now = datetime.now(UTC)
    call = await store.create(_with_reminders(PHONE, ("call back", now - timedelta(minutes=1), "assistant")))
    assert [c.call_id for c in await store.list_due_reminders(now, limit=10)] == [call.call_id]

    def mark(stored: Call) -> None:
        stored.reminders[0].callback_placed_at = now
        stored.reminders[0].callback_attempts += 1

    await update_call(store, call.call_id, mark)
    assert await store.list_due_reminders(now, limit=10) == []


async def test_find_by_recording_matches_the_recording_id_then_the_server_call_id(store: CallStore) -> None:
    recorded = make_call()
    recorded.recording_id = "recording-1"
    recorded.connection.server_call_id = "server-1"
    await store.create(recorded)
    unrecorded = make_call(OTHER_PHONE)
    unrecorded.connection.server_call_id = "server-2"
    await store.create(unrecorded)

    found = await store.find_by_recording("recording-1")
    assert found is not None and found.call_id == recorded.call_id and found.etag
    found = await store.find_by_recording("recording-2", server_call_id="server-2")
    assert found is not None and found.call_id == unrecorded.call_id
    assert await store.find_by_recording("recording-2") is None
    assert await store.find_by_recording("recording-2", server_call_id="server-3") is None
