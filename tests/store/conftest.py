from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared.store.base import CallStore
from shared.store.sqlite import SqliteCallStore

ADAPTERS = [
    "sqlite",
    pytest.param(
        "cosmos",
        marks=[
            pytest.mark.cosmos,
            pytest.mark.skipif(not os.environ.get("COSMOS_ENDPOINT"), reason="COSMOS_ENDPOINT not set"),
        ],
    ),
]


async def _cosmos_store() -> CallStore:
    from azure.cosmos import PartitionKey
    from azure.cosmos.aio import CosmosClient

    from shared.store.cosmos import CosmosCallStore

    endpoint = os.environ["COSMOS_ENDPOINT"]
    key = os.environ.get("COSMOS_KEY") or None
    database = os.environ.get("COSMOS_DATABASE", "call-center-ai-tests")
    container = f"calls-{uuid.uuid4().hex[:8]}"
    if key:
        async with CosmosClient(endpoint, credential=key) as client:
            db = await client.create_database_if_not_exists(database)
            await db.create_container_if_not_exists(container, partition_key=PartitionKey("/caller_phone"))
    return CosmosCallStore(endpoint, database=database, container=container, key=key)


@pytest.fixture(params=ADAPTERS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[CallStore]:
    adapter: CallStore = (
        SqliteCallStore(tmp_path / "calls.sqlite3") if request.param == "sqlite" else await _cosmos_store()
    )
    yield adapter
    await adapter.close()
