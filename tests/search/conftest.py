"""The two knowledge indexes the contract suite runs on: the local SQLite one and the AI Search adapter
(the real async SDK) against the loopback AI Search stand-in."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from local.ai_search import AiSearchService
from shared.search.azure_search import AzureKnowledgeIndex
from shared.search.base import KnowledgeIndex
from shared.search.sqlite_index import SqliteKnowledgeIndex

REPO = Path(__file__).resolve().parents[2]
KNOWLEDGE = REPO / "knowledge"


@pytest.fixture(scope="session")
def ai_search() -> Iterator[AiSearchService]:
    with AiSearchService() as service:
        yield service


@pytest.fixture(params=["sqlite", "azure"])
async def knowledge_index(
    request: pytest.FixtureRequest, tmp_path: Path, ai_search: AiSearchService
) -> AsyncIterator[KnowledgeIndex]:
    index: KnowledgeIndex
    if request.param == "sqlite":
        index = SqliteKnowledgeIndex(tmp_path / "search.sqlite3")
    else:  # a fresh index per test on the shared stand-in
        index = AzureKnowledgeIndex(ai_search.endpoint, f"kb-{uuid.uuid4().hex[:12]}", key=ai_search.api_key)
    try:
        yield index
    finally:
        await index.close()
