"""Another process holds the SQLite store's write lock for longer than the busy timeout: the caller's
words and claim values are kept in memory and written once the lock is gone, and reads of this process
never queue behind the stalled write."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from shared.conversation.engine import Conversation
from shared.models import Call, Message, Persona
from shared.store import base as store_base
from shared.store.sqlite import SqliteCallStore
from tests.conversation.support import make_harness


@contextmanager
def locked(path: Path, seconds: float) -> Iterator[threading.Event]:
    """Hold an exclusive write lock on the database from another connection for `seconds`."""
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN EXCLUSIVE")
        taken.set()
        release.wait(seconds)
        other.execute("COMMIT")
        other.close()

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert taken.wait(5)
    try:
        yield release
    finally:
        release.set()
        holder.join(10)


async def test_a_turn_during_a_long_lock_is_kept_and_written_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_base, "UNAVAILABLE_BACKOFF_SEC", 0.05)  # keep the test short
    harness = await make_harness(tmp_path)
    store = SqliteCallStore(tmp_path / "calls.sqlite3", busy_timeout_ms=200)  # the lock outlasts it
    harness.ctx.ports = type(harness.ctx.ports)(**{**vars(harness.ctx.ports), "store": store})
    conv = Conversation(harness.ctx, llm=None)
    await conv.start(harness.speak)
    harness.spoken.clear()

    with locked(tmp_path / "calls.sqlite3", seconds=60) as release:
        await conv.respond("My name is John Smith", harness.speak)  # the store refuses every write now
        assert harness.spoken, "the caller heard nothing"
        assert harness.ctx.unsaved
        assert harness.ctx.call.claim.get("caller_name") == "John Smith"  # the conversation goes on
        assert not await harness.ctx.flush()  # still locked: kept
        release.set()
    assert await harness.ctx.flush()

    stored = await store.get(harness.ctx.call.call_id)
    assert stored is not None
    assert "My name is John Smith" in [m.content for m in stored.messages if m.persona is Persona.HUMAN]
    assert stored.claim.get("caller_name") == "John Smith"
    assert not harness.ctx.unsaved
    await store.close()


async def test_reads_do_not_queue_behind_a_write_stalled_on_the_lock(tmp_path: Path) -> None:
    harness = await make_harness(tmp_path)
    store = SqliteCallStore(tmp_path / "calls.sqlite3", busy_timeout_ms=3_000)
    call = await store.get(harness.ctx.call.call_id)
    assert call is not None
    with locked(tmp_path / "calls.sqlite3", seconds=1.5):
        write = asyncio.create_task(store.replace(call))  # waits on the other process's lock
        await asyncio.sleep(0.2)
        read = await store.get(call.call_id)
        assert read is not None
        assert not write.done()  # the read was answered while the write was still waiting
    await write
    await store.close()


async def test_overlapping_saves_apply_each_change_once(tmp_path: Path) -> None:
    """Two saves at once (an answer's message and a turn's record from another task): each change is
    written once, in order, even when the first is still being written when the second comes."""
    harness = await make_harness(tmp_path)
    ctx = harness.ctx
    before = len(ctx.call.messages)

    def said(text: str) -> Callable[[Call], None]:
        def add(call: Call) -> None:
            call.messages.append(Message(persona=Persona.ASSISTANT, content=text))

        return add

    await asyncio.gather(*(ctx.save(said(f"line {n}")) for n in range(5)))

    stored = await ctx.ports.store.get(ctx.call.call_id)
    assert stored is not None
    assert [m.content for m in stored.messages[before:]] == [f"line {n}" for n in range(5)]
    assert [m.content for m in ctx.call.messages[before:]] == [f"line {n}" for n in range(5)]
    assert not ctx.unsaved
