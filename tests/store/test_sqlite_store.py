"""SQLite specifics: WAL mode and two OS processes writing the same call at once."""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
import sys
from pathlib import Path
from uuid import UUID

import pytest

from shared.models import Call, Message, Persona
from shared.store.base import StoreError, append_message
from shared.store.sqlite import SqliteCallStore

APPENDS_PER_PROCESS = 25


def _append_many(path: str, call_id: str, writer: str) -> None:
    async def run() -> None:
        store = SqliteCallStore(path)
        for i in range(APPENDS_PER_PROCESS):
            await append_message(
                store, UUID(call_id), Message(persona=Persona.HUMAN, content=f"{writer}-{i}")
            )
        await store.close()

    asyncio.run(run())


async def test_database_uses_wal_journal(tmp_path: Path) -> None:
    store = SqliteCallStore(tmp_path / "db.sqlite3")
    await store.ping()
    await store.close()
    mode = sqlite3.connect(tmp_path / "db.sqlite3").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


async def test_two_processes_appending_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    store = SqliteCallStore(path)
    call = await store.create(Call(caller_phone="+33612345678"))

    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_append_many, args=(str(path), str(call.call_id), name))
        for name in ("function-app", "media-host")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        await asyncio.to_thread(worker.join, 120)
        assert worker.exitcode == 0

    loaded = await store.get(call.call_id)
    assert loaded is not None
    contents = {m.content for m in loaded.messages}
    assert len(loaded.messages) == 2 * APPENDS_PER_PROCESS
    assert contents == {
        f"{w}-{i}" for w in ("function-app", "media-host") for i in range(APPENDS_PER_PROCESS)
    }
    await store.close()


async def test_unusable_database_path_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    store = SqliteCallStore(blocker / "calls.sqlite3")
    with pytest.raises(StoreError):
        await store.ping()


async def test_corrupt_cursor_is_rejected(tmp_path: Path) -> None:
    store = SqliteCallStore(tmp_path / "db.sqlite3")
    with pytest.raises(ValueError, match="cursor"):
        await store.list_by_phone("+33612345678", cursor="not-base64!")
    await store.close()


if sys.platform == "win32":  # pragma: no cover
    pytestmark = pytest.mark.skip("spawn-based multiprocess test targets Linux")
