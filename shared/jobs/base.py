"""The job queue port and its in-process adapter.

A job is a small JSON message (`kind`, `call_id`, `payload`). Producers enqueue; the consumer is the
post-call worker (a queue trigger on Azure, an in-process loop locally). Delivery is at least once:
consumers must be idempotent, and producers avoid duplicates with a mark in the store.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

POST_CALL = "post_call"


@dataclass(frozen=True)
class Job:
    kind: str
    call_id: str
    payload: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Job:
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("kind"), str) or not data.get("call_id"):
            raise ValueError("a job needs a 'kind' and a 'call_id'")
        if not isinstance(data.get("payload") or {}, dict):
            raise ValueError("a job's payload must be an object")
        return cls(kind=data["kind"], call_id=str(data["call_id"]), payload=dict(data.get("payload") or {}))


class JobQueue(Protocol):
    async def enqueue(self, job: Job) -> None: ...

    async def close(self) -> None: ...


class MemoryJobQueue:
    """In-process queue. `sent` keeps every job ever enqueued (for the CLI and tests)."""

    def __init__(self) -> None:
        self.sent: list[Job] = []
        self._queue: asyncio.Queue[Job] = asyncio.Queue()

    async def enqueue(self, job: Job) -> None:
        self.sent.append(job)
        self._queue.put_nowait(job)

    async def next(self, timeout_sec: float | None = None) -> Job | None:
        try:
            return await asyncio.wait_for(self._queue.get(), timeout_sec)
        except TimeoutError:
            return None

    async def close(self) -> None:
        return None


class NoJobQueue:
    """The job queue of a process that hands off no jobs (the media host): enqueueing is a bug."""

    def __init__(self, role: str) -> None:
        self._role = role

    async def enqueue(self, job: Job) -> None:
        raise RuntimeError(
            f"the {self._role} process has no job queue: {job.kind} for {job.call_id} not sent"
        )

    async def close(self) -> None:
        return None
