"""SQLite conversation store: the embedded default.

One row per call holding the JSON document, plus the columns the queries need. WAL journal and a busy
timeout make it safe for the function app and the media host to write at once from two processes;
the etag check is a single conditional UPDATE, so a stale write can never overwrite a newer one.
Reads have a connection of their own: in WAL mode they never wait for a writer, so a write stalled
on another process's lock does not hold up the reads of this one.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from shared.models import Call
from shared.models.call import MAX_CALLBACK_ATTEMPTS
from shared.store.base import (
    ConflictError,
    Page,
    StoreError,
    clamp_due_limit,
    clamp_limit,
    decode_cursor,
    encode_cursor,
)

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    call_id TEXT PRIMARY KEY,
    caller_phone TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    etag TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS calls_by_phone ON calls (caller_phone, created_at DESC, call_id DESC);
CREATE INDEX IF NOT EXISTS calls_by_phone_updated ON calls (caller_phone, updated_at DESC);
CREATE INDEX IF NOT EXISTS calls_by_date ON calls (created_at DESC, call_id DESC);
"""

# Calls with an assistant reminder awaiting its call-back and due, earliest due first: the predicate of
# `Call.next_callback_due` over the JSON document (JSON1; julianday() compares ISO times with offsets).
_DUE_REMINDERS = """
SELECT calls.doc, calls.etag, MIN(julianday(json_extract(r.value, '$.due_date_time'))) AS due
FROM calls, json_each(calls.doc, '$.reminders') AS r
WHERE json_extract(calls.doc, '$.resumed_by_call_id') IS NULL
  AND json_extract(r.value, '$.owner') = 'assistant'
  AND json_extract(r.value, '$.callback_placed_at') IS NULL
  AND COALESCE(json_extract(r.value, '$.callback_attempts'), 0) < ?
  AND julianday(json_extract(r.value, '$.due_date_time')) <= julianday(?)
GROUP BY calls.call_id
ORDER BY due, calls.call_id
LIMIT ?
"""


def _timestamp(value: datetime) -> str:
    """A UTC timestamp whose text order is its time order."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _new_etag() -> str:
    return uuid.uuid4().hex


class SqliteCallStore:
    def __init__(self, path: Path | str, *, busy_timeout_ms: int = 10_000) -> None:
        self._path = Path(path)
        self._busy_timeout_ms = busy_timeout_ms
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._read_lock = threading.Lock()
        self._reader: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            self._connection = self._open()
        return self._connection

    def _read_connection(self) -> sqlite3.Connection:
        if str(self._path) == ":memory:":  # one private database: reads share the writer's connection
            return self._connect()
        if self._reader is None:
            self._reader = self._open()
        return self._reader

    def _open(self) -> sqlite3.Connection:
        if str(self._path) != ":memory:":
            self._path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(
            self._path,
            timeout=self._busy_timeout_ms / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        connection.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.executescript(_SCHEMA)
        return connection

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """A write, on the writer connection (one at a time in this process)."""

        def _locked() -> T:
            with self._lock:
                try:
                    return work(self._connect())
                except (sqlite3.Error, OSError) as exc:
                    raise StoreError(f"sqlite store {self._path}: {exc}") from exc

        return await asyncio.to_thread(_locked)

    async def _read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """A read, on the reader connection: never queued behind a write."""
        if str(self._path) == ":memory:":
            return await self._run(work)

        def _locked() -> T:
            with self._read_lock:
                try:
                    return work(self._read_connection())
                except (sqlite3.Error, OSError) as exc:
                    raise StoreError(f"sqlite store {self._path}: {exc}") from exc

        return await asyncio.to_thread(_locked)

    @staticmethod
    def _to_call(row: tuple[Any, ...]) -> Call:
        doc, etag = row
        call = Call.model_validate_json(doc)
        call.etag = etag
        return call

    async def get(self, call_id: UUID, *, caller_phone: str | None = None) -> Call | None:
        """With `caller_phone`, only in that partition, as a Cosmos DB point read finds it."""

        def work(db: sqlite3.Connection) -> Call | None:
            if caller_phone is None:
                row = db.execute("SELECT doc, etag FROM calls WHERE call_id = ?", (str(call_id),)).fetchone()
            else:
                row = db.execute(
                    "SELECT doc, etag FROM calls WHERE call_id = ? AND caller_phone = ?",
                    (str(call_id), caller_phone),
                ).fetchone()
            return None if row is None else self._to_call(row)

        return await self._read(work)

    async def create(self, call: Call) -> Call:
        etag = _new_etag()

        def work(db: sqlite3.Connection) -> None:
            try:
                db.execute(
                    "INSERT INTO calls (call_id, caller_phone, created_at, updated_at, etag, doc)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        str(call.call_id),
                        call.caller_phone,
                        _timestamp(call.created_at),
                        _timestamp(call.updated_at),
                        etag,
                        call.model_dump_json(exclude={"etag"}),
                    ),
                )
            except sqlite3.IntegrityError as exc:
                raise ConflictError(f"call {call.call_id} already exists") from exc

        await self._run(work)
        return call.model_copy(update={"etag": etag})

    async def replace(self, call: Call) -> Call:
        if call.etag is None:
            raise ConflictError(f"call {call.call_id}: replace needs the etag read with the call")
        etag = _new_etag()

        def work(db: sqlite3.Connection) -> int:
            cursor = db.execute(
                "UPDATE calls SET caller_phone = ?, updated_at = ?, etag = ?, doc = ?"
                " WHERE call_id = ? AND etag = ?",
                (
                    call.caller_phone,
                    _timestamp(call.updated_at),
                    etag,
                    call.model_dump_json(exclude={"etag"}),
                    str(call.call_id),
                    call.etag,
                ),
            )
            return cursor.rowcount

        if await self._run(work) != 1:
            raise ConflictError(f"call {call.call_id}: stale etag or deleted (someone else wrote first)")
        return call.model_copy(update={"etag": etag})

    async def delete(self, call_id: UUID, *, caller_phone: str) -> bool:
        def work(db: sqlite3.Connection) -> int:
            return db.execute("DELETE FROM calls WHERE call_id = ?", (str(call_id),)).rowcount

        return await self._run(work) == 1

    async def find_resumable(self, caller_phone: str, *, within: timedelta, now: datetime) -> Call | None:
        def work(db: sqlite3.Connection) -> Call | None:
            row = db.execute(
                "SELECT doc, etag FROM calls WHERE caller_phone = ? AND updated_at >= ?"
                " ORDER BY updated_at DESC LIMIT 1",
                (caller_phone, _timestamp(now - within)),
            ).fetchone()
            return None if row is None else self._to_call(row)

        return await self._read(work)

    async def list_by_phone(self, caller_phone: str, *, limit: int = 20, cursor: str | None = None) -> Page:
        return await self._page("caller_phone = ?", [caller_phone], limit, cursor)

    async def list_by_date(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> Page:
        clauses: list[str] = []
        params: list[str] = []
        if since is not None:
            clauses.append("created_at >= ?")
            params.append(_timestamp(since))
        if until is not None:
            clauses.append("created_at < ?")
            params.append(_timestamp(until))
        return await self._page(" AND ".join(clauses) or "1 = 1", params, limit, cursor)

    async def _page(self, where: str, params: list[str], limit: int, cursor: str | None) -> Page:
        size = clamp_limit(limit)
        query_params = list(params)
        if cursor is not None:
            position = decode_cursor(cursor)
            if set(position) != {"c", "i"}:
                raise ValueError("invalid cursor")
            where = f"({where}) AND (created_at < ? OR (created_at = ? AND call_id < ?))"
            query_params += [position["c"], position["c"], position["i"]]

        def work(db: sqlite3.Connection) -> list[tuple[Any, ...]]:
            return db.execute(
                f"SELECT doc, etag, created_at, call_id FROM calls WHERE {where}"  # noqa: S608 (fixed clauses)
                " ORDER BY created_at DESC, call_id DESC LIMIT ?",
                (*query_params, size + 1),
            ).fetchall()

        rows = await self._read(work)
        items = [self._to_call(row[:2]) for row in rows[:size]]
        next_cursor = None
        if len(rows) > size:
            last = rows[size - 1]
            next_cursor = encode_cursor({"c": last[2], "i": last[3]})
        return Page(items=items, next_cursor=next_cursor)

    async def list_due_reminders(self, now: datetime, limit: int) -> list[Call]:
        size = clamp_due_limit(limit)

        def work(db: sqlite3.Connection) -> list[tuple[Any, ...]]:
            return db.execute(_DUE_REMINDERS, (MAX_CALLBACK_ATTEMPTS, _timestamp(now), size)).fetchall()

        return [self._to_call(row[:2]) for row in await self._read(work)]

    async def find_by_recording(self, recording_id: str, *, server_call_id: str | None = None) -> Call | None:
        def work(db: sqlite3.Connection) -> Call | None:
            row = db.execute(
                "SELECT doc, etag FROM calls WHERE json_extract(doc, '$.recording_id') = ?"
                " ORDER BY created_at DESC LIMIT 1",
                (recording_id,),
            ).fetchone()
            if row is None and server_call_id:
                row = db.execute(
                    "SELECT doc, etag FROM calls WHERE json_extract(doc, '$.connection.server_call_id') = ?"
                    " ORDER BY created_at DESC LIMIT 1",
                    (server_call_id,),
                ).fetchone()
            return None if row is None else self._to_call(row)

        return await self._read(work)

    async def list_unfinished(self, updated_before: datetime, limit: int) -> list[Call]:
        size = clamp_due_limit(limit)

        def work(db: sqlite3.Connection) -> list[tuple[Any, ...]]:
            return db.execute(
                "SELECT doc, etag FROM calls WHERE updated_at < ?"
                " AND json_extract(doc, '$.connection.state') != 'disconnected'"
                " ORDER BY updated_at LIMIT ?",
                (_timestamp(updated_before), size),
            ).fetchall()

        return [self._to_call(row) for row in await self._read(work)]

    async def list_post_call_pending(self, enqueued_before: datetime, limit: int) -> list[Call]:
        size = clamp_due_limit(limit)

        def work(db: sqlite3.Connection) -> list[tuple[Any, ...]]:
            return db.execute(
                "SELECT doc, etag FROM calls WHERE json_extract(doc, '$.post_call_done_at') IS NULL"
                " AND julianday(json_extract(doc, '$.post_call_enqueued_at')) < julianday(?)"
                " ORDER BY updated_at LIMIT ?",
                (_timestamp(enqueued_before), size),
            ).fetchall()

        return [self._to_call(row) for row in await self._read(work)]

    async def ping(self) -> None:
        await self._run(lambda db: db.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        def work() -> None:
            with self._lock, self._read_lock:
                for connection in {
                    id(c): c for c in (self._connection, self._reader) if c is not None
                }.values():
                    connection.close()
                self._connection = self._reader = None

        await asyncio.to_thread(work)
