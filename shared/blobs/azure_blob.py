"""Blobs in Azure Blob Storage (or Azurite) over `azure-storage-blob` aio.

The container is created on first write if it does not exist. URLs are the blobs' own URLs (the
container stays private: reading one needs the account's credentials or a SAS). `share_url` signs a
short-lived read-only SAS: with the account key when the store has one (a connection string), else
with a user delegation key (Entra ID; the identity needs "Storage Blob Delegator" or a data role).
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobSasPermissions, ContentSettings, generate_blob_sas
from azure.storage.blob.aio import BlobServiceClient, ContainerClient, ExponentialRetry

from shared.blobs.base import SHARE_TTL_SEC, BlobData, BlobError, check_blob_name, chunks_of


class AzureBlobStore:
    def __init__(
        self,
        container: str,
        *,
        connection_string: str | None = None,
        account_url: str | None = None,
        credential: AsyncTokenCredential | None = None,
        retries: int = 3,
        connect_timeout_sec: float = 10.0,
    ) -> None:
        """`retries`: short backoffs (1, 3, 9 s), not the SDK's 15 s and up: the caller (an Event Grid
        delivery) is retried as a whole anyway."""
        self._credential: AsyncTokenCredential | None = None
        options: dict[str, Any] = {
            "retry_policy": ExponentialRetry(initial_backoff=1, increment_base=3, retry_total=retries),
            "connection_timeout": connect_timeout_sec,
        }
        if connection_string:
            self._service = BlobServiceClient.from_connection_string(connection_string, **options)
        elif account_url:
            if credential is None:
                from azure.identity.aio import DefaultAzureCredential  # noqa: PLC0415 (Entra ID only)

                credential = self._credential = DefaultAzureCredential()
            self._service = BlobServiceClient(account_url, credential=credential, **options)
        else:
            raise ValueError("AzureBlobStore needs a connection string or an account URL")
        self._container: ContainerClient = self._service.get_container_client(container)
        self._container_ready = False

    async def _ensure_container(self) -> None:
        if not self._container_ready:
            with contextlib.suppress(ResourceExistsError):
                await self._container.create_container()
            self._container_ready = True

    async def put(self, name: str, data: BlobData, *, content_type: str = "application/octet-stream") -> str:
        blob = self._container.get_blob_client(check_blob_name(name))
        try:
            await self._ensure_container()
            await blob.upload_blob(
                chunks_of(data), overwrite=True, content_settings=ContentSettings(content_type=content_type)
            )
        except AzureError as exc:
            raise BlobError(f"blob {name!r} could not be written: {exc}") from exc
        return str(blob.url)

    async def share_url(self, name: str, *, ttl_sec: int = SHARE_TTL_SEC) -> str | None:
        blob = self._container.get_blob_client(check_blob_name(name))
        now = datetime.now(UTC)
        start, expiry = now - timedelta(minutes=5), now + timedelta(seconds=ttl_sec)  # 5 min of clock skew
        signing: dict[str, Any] = {}
        account_key = getattr(self._service.credential, "account_key", None)
        try:
            if account_key:
                signing["account_key"] = account_key
            else:
                signing["user_delegation_key"] = await self._service.get_user_delegation_key(start, expiry)
        except AzureError as exc:
            raise BlobError(f"no shared URL for blob {name!r}: {exc}") from exc
        sas = generate_blob_sas(
            blob.account_name or "",
            blob.container_name,
            blob.blob_name,
            permission=BlobSasPermissions(read=True),
            start=start,
            expiry=expiry,
            **signing,
        )
        return f"{blob.url}?{sas}"

    async def get(self, name: str) -> bytes | None:
        try:
            downloader = await self._container.download_blob(check_blob_name(name))
            return await downloader.readall()
        except ResourceNotFoundError:
            return None
        except AzureError as exc:
            raise BlobError(f"blob {name!r} could not be read: {exc}") from exc

    async def delete(self, name: str) -> bool:
        try:
            await self._container.delete_blob(check_blob_name(name))
        except ResourceNotFoundError:
            return False
        except AzureError as exc:
            raise BlobError(f"blob {name!r} could not be removed: {exc}") from exc
        return True

    async def ping(self) -> None:
        try:
            await self._container.exists()  # a missing container is fine: created on first write
        except AzureError as exc:
            raise BlobError(f"blob service not reachable: {exc}") from exc

    async def close(self) -> None:
        await self._service.close()
        if self._credential is not None:
            await self._credential.close()
