"""The Functions host's queue trigger, locally: messages from a real Storage queue (Azurite) or from the
in-process job queue, handed to the registered function as the host would hand them.

As the host does (Storage queues extension defaults, overridable in host.json `extensions.queues`):
messages are base64, a failed invocation makes the message visible again after `visibilityTimeout`,
a message that failed `maxDequeueCount` times moves to `<queue>-poison`, and an empty queue is polled
with a backoff up to `maxPollingInterval`. A `durableClient` input binding gets the JSON context of the
local Durable client API (local/durable_rpc.py).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.functions.queue import QueueMessage
from azure.storage.queue.aio import QueueClient

from local.host_settings import StorageConnection
from shared.jobs.base import MemoryJobQueue

log = logging.getLogger(__name__)

Invoke = Callable[[QueueMessage], Awaitable[None]]


def _timespan_sec(text: str) -> float:
    """A host.json timespan `hh:mm:ss[.fff]` in seconds."""
    hours, minutes, seconds = text.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


@dataclass(frozen=True)
class QueueOptions:
    """The Storage queues extension options the local trigger honours (the host's defaults)."""

    max_dequeue_count: int = 5
    visibility_timeout_sec: float = 0.0
    max_polling_interval_sec: float = 60.0
    batch_size: int = 16

    @classmethod
    def from_host_json(cls, path: Path = Path("host.json")) -> QueueOptions:
        if not path.is_file():
            return cls()
        queues = json.loads(path.read_text(encoding="utf-8")).get("extensions", {}).get("queues", {})
        defaults = cls()
        return cls(
            max_dequeue_count=int(queues.get("maxDequeueCount", defaults.max_dequeue_count)),
            visibility_timeout_sec=_timespan_sec(queues["visibilityTimeout"])
            if "visibilityTimeout" in queues
            else defaults.visibility_timeout_sec,
            max_polling_interval_sec=_timespan_sec(queues["maxPollingInterval"])
            if "maxPollingInterval" in queues
            else defaults.max_polling_interval_sec,
            batch_size=int(queues.get("batchSize", defaults.batch_size)),
        )


def queue_client(connection: StorageConnection, queue_name: str) -> QueueClient:
    if connection.connection_string:
        return QueueClient.from_connection_string(connection.connection_string, queue_name)
    from azure.identity.aio import DefaultAzureCredential  # noqa: PLC0415 (identity-based only)

    assert connection.service_uri is not None
    credential = DefaultAzureCredential(managed_identity_client_id=connection.client_id)
    return QueueClient(connection.service_uri, queue_name, credential=credential)


async def pump_storage_queue(
    connection: StorageConnection,
    queue_name: str,
    invoke: Invoke,
    options: QueueOptions,
    *,
    min_polling_interval_sec: float = 0.1,
) -> None:
    """Deliver the queue's messages to `invoke` until cancelled."""
    async with (
        queue_client(connection, queue_name) as queue,
        queue_client(connection, f"{queue_name}-poison") as poison,
    ):
        wait = min_polling_interval_sec
        while True:
            try:
                received = [
                    m
                    async for m in queue.receive_messages(
                        max_messages=options.batch_size, visibility_timeout=600
                    )
                ]
            except ResourceNotFoundError:  # not created yet: the producer creates it on first use
                received = []
            if not received:
                await asyncio.sleep(wait)
                wait = min(wait * 2, options.max_polling_interval_sec)
                continue
            wait = min_polling_interval_sec
            for message in received:
                await _deliver(queue, poison, message, invoke, options)


async def _deliver(
    queue: QueueClient, poison: QueueClient, message: Any, invoke: Invoke, options: QueueOptions
) -> None:
    try:
        body = base64.b64decode(message.content, validate=True)
        await invoke(
            QueueMessage(  # type: ignore[no-untyped-call]
                id=message.id,
                body=body,
                dequeue_count=message.dequeue_count,
                expiration_time=message.expires_on,
                insertion_time=message.inserted_on,
                time_next_visible=message.next_visible_on,
                pop_receipt=message.pop_receipt,
            )
        )
    except Exception as exc:  # a bad body (binascii.Error) or a failed invocation
        if message.dequeue_count >= options.max_dequeue_count:
            log.error(
                "queue message %s failed %d times (%r): moved to %s",
                message.id,
                message.dequeue_count,
                exc,
                poison.queue_name,
            )
            with contextlib.suppress(ResourceExistsError):
                await poison.create_queue()
            await poison.send_message(message.content)
            await queue.delete_message(message)
        else:
            log.warning("queue message %s failed (attempt %d): %r", message.id, message.dequeue_count, exc)
            await queue.update_message(message, visibility_timeout=round(options.visibility_timeout_sec))
        return
    await queue.delete_message(message)


async def pump_memory_queue(jobs: MemoryJobQueue, invoke: Invoke, options: QueueOptions) -> None:
    """The embedded default: jobs from the in-process queue, retried as the host retries a message."""
    count = 0
    while True:
        job = await jobs.next(timeout_sec=1.0)
        if job is None:
            continue
        count += 1
        body = job.to_json().encode()
        for attempt in range(1, options.max_dequeue_count + 1):
            try:
                await invoke(
                    QueueMessage(id=f"local-{count}", body=body, dequeue_count=attempt)  # type: ignore[no-untyped-call]
                )
                break
            except Exception as exc:
                log.warning("job %s for call %s failed (attempt %d): %r", job.kind, job.call_id, attempt, exc)
                await asyncio.sleep(options.visibility_timeout_sec)
        else:
            log.error("job %s for call %s dropped after %d attempts", job.kind, job.call_id, attempt)
