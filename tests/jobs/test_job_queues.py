"""Contract tests for the job-queue port: the in-process adapter and the Azure Storage one (on Azurite)."""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.storage.queue.aio import QueueClient

from shared.jobs.base import POST_CALL, Job, JobQueue, MemoryJobQueue
from shared.jobs.storage_queue import JobQueueError, StorageJobQueue


@dataclass
class Harness:
    """An adapter under test and a way to read back everything it has made visible to consumers."""

    queue: JobQueue
    drain: Callable[[], Awaitable[list[Job]]]


def unique_queue_name() -> str:
    return f"jobs-{uuid.uuid4().hex[:16]}"  # queue names: 3-63 chars of [a-z0-9-]


async def drain_memory(queue: MemoryJobQueue) -> list[Job]:
    jobs: list[Job] = []
    while (job := await queue.next(timeout_sec=0.05)) is not None:
        jobs.append(job)
    return jobs


async def drain_storage(client: QueueClient) -> list[Job]:
    """Receive every visible message and decode it the way the Functions queue trigger does (base64 JSON)."""
    jobs: list[Job] = []
    async for message in client.receive_messages(messages_per_page=32, visibility_timeout=60):
        jobs.append(Job.from_json(base64.b64decode(message.content, validate=True).decode()))
    return jobs


@pytest.fixture(params=["memory", "storage"])
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    if request.param == "memory":
        memory = MemoryJobQueue()
        yield Harness(memory, lambda: drain_memory(memory))
        await memory.close()
        return
    connection_string: str = request.getfixturevalue("azurite_connection_string")
    name = unique_queue_name()
    storage = StorageJobQueue(connection_string, name)
    async with QueueClient.from_connection_string(connection_string, name) as reader:
        try:
            yield Harness(storage, lambda: drain_storage(reader))
        finally:
            await storage.close()
            await reader.delete_queue()


# -- the contract: both adapters --------------------------------------------------------------------


async def test_enqueued_jobs_come_back_once_and_in_order(harness: Harness) -> None:
    jobs = [Job(kind=POST_CALL, call_id=f"call-{i}", payload={"attempt": i}) for i in range(5)]
    for job in jobs:
        await harness.queue.enqueue(job)

    assert await harness.drain() == jobs
    assert await harness.drain() == []  # nothing left over, nothing duplicated


async def test_payload_round_trips(harness: Harness) -> None:
    job = Job(
        kind=POST_CALL,
        call_id="call-7f3a",
        payload={
            "caller": "+33612345678",
            "summary": "Sinistre déclaré : dégât des eaux, « urgent »",
            "turns": 12,
            "score": 0.75,
            "flags": [True, False, None],
            "nested": {"claim": {"policy_number": "B01371946", "items": ["toit", "cuisine"]}},
        },
    )
    await harness.queue.enqueue(job)

    [received] = await harness.drain()
    assert received == job
    assert received.payload["nested"]["claim"]["items"] == ["toit", "cuisine"]


async def test_job_without_payload_round_trips(harness: Harness) -> None:
    job = Job(kind=POST_CALL, call_id="call-empty")
    await harness.queue.enqueue(job)

    assert await harness.drain() == [job]
    assert job.payload == {}


# -- adapter specifics -----------------------------------------------------------------------------


async def test_memory_queue_keeps_every_sent_job_after_consumption() -> None:
    queue = MemoryJobQueue()
    jobs = [Job(kind=POST_CALL, call_id="a"), Job(kind=POST_CALL, call_id="b")]
    for job in jobs:
        await queue.enqueue(job)

    assert await drain_memory(queue) == jobs
    assert queue.sent == jobs
    assert await queue.next(timeout_sec=0.01) is None


async def test_storage_queue_is_created_on_first_use(azurite_connection_string: str) -> None:
    name = unique_queue_name()
    async with QueueClient.from_connection_string(azurite_connection_string, name) as reader:
        with pytest.raises(ResourceNotFoundError):
            await reader.get_queue_properties()

        queue = StorageJobQueue(azurite_connection_string, name)
        try:
            await queue.enqueue(Job(kind=POST_CALL, call_id="call-first"))
        finally:
            await queue.close()

        properties = await reader.get_queue_properties()
        assert properties.name == name
        assert properties.approximate_message_count == 1
        await reader.delete_queue()


async def test_storage_queue_enqueues_into_an_existing_queue(azurite_connection_string: str) -> None:
    """A second producer (a new process, a new instance) finds the queue already there: no error."""
    name = unique_queue_name()
    first = StorageJobQueue(azurite_connection_string, name)
    second = StorageJobQueue(azurite_connection_string, name)
    try:
        await first.enqueue(Job(kind=POST_CALL, call_id="call-1"))
        await second.enqueue(Job(kind=POST_CALL, call_id="call-2"))
    finally:
        await first.close()
        await second.close()

    async with QueueClient.from_connection_string(azurite_connection_string, name) as reader:
        assert [job.call_id for job in await drain_storage(reader)] == ["call-1", "call-2"]
        await reader.delete_queue()


async def test_storage_message_is_base64_of_the_job_json(azurite_connection_string: str) -> None:
    """The wire format the Functions queue trigger decodes by default."""
    name = unique_queue_name()
    job = Job(kind=POST_CALL, call_id="call-wire", payload={"n": 1})
    queue = StorageJobQueue(azurite_connection_string, name)
    try:
        await queue.enqueue(job)
    finally:
        await queue.close()

    async with QueueClient.from_connection_string(azurite_connection_string, name) as reader:
        message = await reader.receive_message()
        assert message is not None
        assert base64.b64decode(message.content, validate=True).decode() == job.to_json()
        await reader.delete_queue()


async def test_storage_queue_on_a_dead_endpoint_raises_job_queue_error(dead_connection_string: str) -> None:
    queue = StorageJobQueue(dead_connection_string, unique_queue_name(), retry_total=0)
    started = time.monotonic()
    try:
        async with asyncio.timeout(15):
            with pytest.raises(JobQueueError) as caught:
                await queue.enqueue(Job(kind=POST_CALL, call_id="call-unreachable"))
    finally:
        await queue.close()

    assert time.monotonic() - started < 5
    assert "call-unreachable" in str(caught.value)
    assert POST_CALL in str(caught.value)
    assert isinstance(caught.value.__cause__, AzureError)


# -- Job.from_json ---------------------------------------------------------------------------------


def test_job_json_round_trips() -> None:
    job = Job(kind=POST_CALL, call_id="call-1", payload={"a": [1, 2], "b": "é"})
    assert Job.from_json(job.to_json()) == job


def test_from_json_tolerates_a_missing_payload_and_a_numeric_call_id() -> None:
    assert Job.from_json('{"kind": "post_call", "call_id": 42}') == Job(kind=POST_CALL, call_id="42")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("{not json", id="malformed"),
        pytest.param('{"kind": "post_call", "call_id": "c1"', id="truncated"),
        pytest.param("[1, 2]", id="not-an-object"),
        pytest.param('"post_call"', id="a-string"),
        pytest.param("null", id="null"),
        pytest.param('{"call_id": "c1"}', id="missing-kind"),
        pytest.param('{"kind": "post_call"}', id="missing-call-id"),
        pytest.param('{"kind": "post_call", "call_id": ""}', id="empty-call-id"),
        pytest.param('{"kind": "post_call", "call_id": null}', id="null-call-id"),
        pytest.param('{"kind": 3, "call_id": "c1"}', id="non-string-kind"),
    ],
)
def test_from_json_rejects_malformed_or_incomplete_jobs(text: str) -> None:
    with pytest.raises(ValueError):  # json.JSONDecodeError is a ValueError too
        Job.from_json(text)
