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
