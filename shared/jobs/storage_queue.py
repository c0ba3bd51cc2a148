"""Job queue on Azure Storage queues (`azure-storage-queue` aio); Azurite locally."""

from __future__ import annotations

import base64
import contextlib

from azure.core.exceptions import AzureError, ResourceExistsError
from azure.storage.queue.aio import QueueClient

from shared.jobs.base import Job


class JobQueueError(RuntimeError):
    pass


class StorageJobQueue:
    """Messages are base64 JSON: the encoding the Functions queue trigger expects by default."""

    def __init__(self, connection_string: str, queue_name: str, *, retry_total: int = 3) -> None:
        """`retry_total` caps the SDK's retries per request (3 is the SDK's own default; 0 fails at once)."""
        self._client = QueueClient.from_connection_string(
            connection_string, queue_name, retry_total=retry_total
        )
        self._created = False

    async def _ensure_queue(self) -> None:
        if not self._created:
            with contextlib.suppress(ResourceExistsError):
                await self._client.create_queue()
            self._created = True

    async def enqueue(self, job: Job) -> None:
        try:
            await self._ensure_queue()
            await self._client.send_message(base64.b64encode(job.to_json().encode()).decode())
        except AzureError as exc:
            raise JobQueueError(f"could not enqueue {job.kind} for call {job.call_id}: {exc}") from exc

    async def close(self) -> None:
        await self._client.close()
