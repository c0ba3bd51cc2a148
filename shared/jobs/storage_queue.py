"""Job queue on Azure Storage queues (`azure-storage-queue` aio); Azurite locally."""

from __future__ import annotations

import base64
import contextlib

from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import AzureError, ResourceExistsError
from azure.storage.queue.aio import QueueClient

from shared.jobs.base import Job


class JobQueueError(RuntimeError):
    pass


class StorageJobQueue:
    """Messages are base64 JSON: the encoding the Functions queue trigger expects by default."""

    def __init__(
        self,
        connection_string: str | None,
        queue_name: str,
        *,
        account_url: str | None = None,
        credential: AsyncTokenCredential | None = None,
        retry_total: int = 3,
    ) -> None:
        """A connection string (keys, Azurite), or the queue service URL with Entra ID (a managed
        identity: DefaultAzureCredential reads AZURE_CLIENT_ID). `retry_total` caps the SDK's retries
        per request (3 is the SDK's own default; 0 fails at once)."""
        self._credential: AsyncTokenCredential | None = None
        if connection_string:
            self._client = QueueClient.from_connection_string(
                connection_string, queue_name, retry_total=retry_total
            )
        elif account_url:
            if credential is None:
                from azure.identity.aio import DefaultAzureCredential  # noqa: PLC0415 (Entra ID only)

                credential = self._credential = DefaultAzureCredential()
            self._client = QueueClient(
                account_url, queue_name, credential=credential, retry_total=retry_total
            )
        else:
            raise ValueError("StorageJobQueue needs a connection string or a queue service URL")
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
        if self._credential is not None:
            await self._credential.close()
