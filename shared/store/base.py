"""The conversation store port: one JSON document per call, optimistic concurrency on an etag."""

from __future__ import annotations

import asyncio
import base64
import json
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from shared.models import Call, Message
from shared.models.size import fit_document

MAX_PAGE_SIZE = 100
APPEND_RETRIES = 25
RETRY_BACKOFF_SEC = 0.005  # grows with each attempt, jittered, so busy writers stop colliding
UNAVAILABLE_RETRIES = 3  # a locked or unreachable store: tried again after 0.25, 0.5 and 1 s
UNAVAILABLE_BACKOFF_SEC = 0.25


class StoreError(RuntimeError):
    """The store could not be reached or answered unexpectedly."""


class CallNotFoundError(StoreError):
    def __init__(self, call_id: UUID) -> None:
        super().__init__(f"call {call_id} not found")
        self.call_id = call_id


class ConflictError(StoreError):
    """A write carried a stale etag (someone else wrote first) or the call already exists."""


@dataclass(frozen=True)
class Page:
    items: list[Call]
    next_cursor: str | None = field(default=None)


class CallStore(Protocol):
    async def get(self, call_id: UUID, *, caller_phone: str | None = None) -> Call | None:
        """The call, or None. `caller_phone` (the partition key) makes the Cosmos read a point read."""
        ...

    async def create(self, call: Call) -> Call:
        """Insert a new call; returns it with its etag. ConflictError if the id exists."""
        ...

    async def replace(self, call: Call) -> Call:
        """Write the call if its etag is still current; ConflictError otherwise. Returns the new etag."""
        ...

    async def delete(self, call_id: UUID, *, caller_phone: str) -> bool:
        """Remove the call (a call that could not be placed); True when it existed."""
        ...

    async def find_resumable(self, caller_phone: str, *, within: timedelta, now: datetime) -> Call | None:
        """The caller's latest call updated after `now - within`, to resume the conversation."""
        ...

    async def list_by_phone(self, caller_phone: str, *, limit: int = 20, cursor: str | None = None) -> Page:
        """The caller's calls, newest first."""
        ...

    async def list_by_date(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> Page:
        """All calls created in [since, until), newest first."""
        ...

    async def list_due_reminders(self, now: datetime, limit: int) -> list[Call]:
        """Calls with an assistant reminder due at `now` awaiting its call-back (`Call.next_callback_due`),
        the earliest due first. Calls taken over by a later call (`resumed_by_call_id`) are left out."""
        ...

    async def find_by_recording(self, recording_id: str, *, server_call_id: str | None = None) -> Call | None:
        """The call whose `recording_id` matches, else the latest whose server call id matches."""
        ...

    async def list_post_call_pending(self, enqueued_before: datetime, limit: int) -> list[Call]:
        """Calls whose post-call job was enqueued before `enqueued_before` and has not finished."""
        ...

    async def list_unfinished(self, updated_before: datetime, limit: int) -> list[Call]:
        """Calls not `disconnected` and not updated since `updated_before`, the least recently updated
        first: the calls whose last events may have been lost (the reconciliation sweep)."""
        ...

    async def ping(self) -> None:
        """Raise StoreError when the store is not usable (readiness probe)."""
        ...

    async def close(self) -> None: ...


async def update_call(
    store: CallStore,
    call_id: UUID,
    mutate: Callable[[Call], Awaitable[None] | None],
    *,
    caller_phone: str | None = None,
    retries: int = APPEND_RETRIES,
    unavailable_retries: int = UNAVAILABLE_RETRIES,
) -> Call:
    """Read-modify-write with retry on conflict: the way to change a call without losing a write.

    `mutate` is applied to a fresh copy on every attempt, so it must be a pure function of the call.
    A store that cannot take the write (locked, unreachable) is tried again with a growing backoff,
    `unavailable_retries` times, before its StoreError is raised.
    """
    unavailable = 0
    for attempt in range(retries):
        call = await store.get(call_id, caller_phone=caller_phone)
        if call is None:
            raise CallNotFoundError(call_id)
        outcome = mutate(call)
        if outcome is not None:
            await outcome
        fit_document(call)  # one document stays under its size limit whatever is written to it
        call.touch()
        try:
            return await store.replace(call)
        except ConflictError:
            await asyncio.sleep(random.uniform(0, RETRY_BACKOFF_SEC * (attempt + 1)))  # noqa: S311
        except CallNotFoundError:
            raise
        except StoreError:
            if unavailable >= unavailable_retries:
                raise
            await asyncio.sleep(UNAVAILABLE_BACKOFF_SEC * 2**unavailable)
            unavailable += 1
    raise ConflictError(f"call {call_id}: still conflicting after {retries} attempts")


async def append_message(
    store: CallStore, call_id: UUID, message: Message, *, caller_phone: str | None = None
) -> Call:
    """Append one message to the call's transcript, retrying on concurrent writes."""

    def _append(call: Call) -> None:
        call.messages.append(message.model_copy())

    return await update_call(store, call_id, _append, caller_phone=caller_phone)


MAX_DUE_LIMIT = 1000


def clamp_due_limit(limit: int) -> int:
    if limit < 1:
        raise ValueError("limit must be at least 1")
    return min(limit, MAX_DUE_LIMIT)


def clamp_limit(limit: int) -> int:
    if limit < 1:
        raise ValueError("limit must be at least 1")
    return min(limit, MAX_PAGE_SIZE)


def encode_cursor(payload: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str) -> dict[str, str]:
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as exc:
        raise ValueError("invalid cursor") from exc
    if not isinstance(payload, dict) or not all(isinstance(v, str) for v in payload.values()):
        raise ValueError("invalid cursor")
    return payload
