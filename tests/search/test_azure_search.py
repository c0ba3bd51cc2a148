"""The AI Search adapter against the loopback stand-in: the index it creates has the reference schema,
its requests follow the REST contract (the stand-in refuses anything else, as these tests show), hybrid
queries carry the embedding of the query (OpenAI embeddings wire format, served on loopback) and
semantic ranking uses the reranker score for the threshold."""

from __future__ import annotations

import dataclasses
import hashlib
import math
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from local.ai_search import AiSearchService
from local.threaded_server import ThreadedServer
from shared.search.azure_search import AzureKnowledgeIndex
from shared.search.base import SearchIndexError
from shared.search.embeddings import OpenAiEmbedder
from shared.settings import EmbeddingSettings
from tests.search.test_search_contract import RECORDS

DIMENSIONS = 1536


def _vector(text: str) -> list[float]:
    """A deterministic bag-of-words vector (what the loopback embeddings endpoint answers)."""
    vector = [0.0] * DIMENSIONS
    for word in text.lower().split():
        vector[int(hashlib.sha256(word.strip("?.,").encode()).hexdigest(), 16) % DIMENSIONS] += 1.0
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


class EmbeddingsEndpoint:
    """POST /embeddings in the OpenAI wire format; keeps the request bodies."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

        async def embeddings(request: Request) -> JSONResponse:
            body = await request.json()
            self.bodies.append(body)
            inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
            data = [
                {"object": "embedding", "index": i, "embedding": _vector(t)} for i, t in enumerate(inputs)
            ]
            usage = {"prompt_tokens": 1, "total_tokens": 1}
            return JSONResponse({"object": "list", "data": data, "model": body["model"], "usage": usage})

        self.server = ThreadedServer(
            Starlette(routes=[Route("/v1/embeddings", embeddings, methods=["POST"])]), name="embeddings"
        )


@pytest.fixture(scope="module")
def embeddings() -> Iterator[EmbeddingsEndpoint]:
    endpoint = EmbeddingsEndpoint()
    endpoint.server.start()
    try:
        yield endpoint
    finally:
        endpoint.server.stop()


def _name() -> str:
    return f"kb-{uuid.uuid4().hex[:12]}"


async def test_the_created_index_has_the_reference_schema(ai_search: AiSearchService) -> None:
    name = _name()
    index = AzureKnowledgeIndex(ai_search.endpoint, name, key=ai_search.api_key)
    try:
        assert await index.ensure_index()
    finally:
        await index.close()
    fields = {f["name"]: f for f in ai_search.indexes[name].definition["fields"]}
    assert sorted(fields) == sorted(
        ["answer", "context", "created_at", "document_synthesis", "file_path", "id", "question", "vectors"]
    )
    assert fields["id"]["key"] is True
    assert all(fields[n]["type"] == "Edm.String" for n in fields if n != "vectors")
    assert all(fields[n]["searchable"] for n in ("answer", "context", "document_synthesis", "question"))
    assert fields["vectors"]["type"] == "Collection(Edm.Single)"
    assert fields["vectors"]["dimensions"] == DIMENSIONS
    assert fields["vectors"]["retrievable"] is False


async def test_a_hybrid_query_sends_the_query_embedding_and_finds_the_record(
    ai_search: AiSearchService, embeddings: EmbeddingsEndpoint
) -> None:
    name = _name()
    settings = EmbeddingSettings(base_url=f"http://127.0.0.1:{embeddings.server.port}/v1", api_key="test")
    index = AzureKnowledgeIndex(
        ai_search.endpoint, name, key=ai_search.api_key, embedder=OpenAiEmbedder(settings)
    )
    try:
        await index.ensure_index()
        await index.upsert(RECORDS)
        stored = ai_search.indexes[name].documents["a-1"]
        assert len(stored["vectors"]) == DIMENSIONS
        hits = await index.search("windscreen covered", top=2)
    finally:
        await index.close()
    assert hits[0].id == "a-1"
    search = [r for r in ai_search.requests if r["path"] == f"/indexes('{name}')/docs/search.post.search"][-1]
    (vector_query,) = search["body"]["vectorQueries"]
    assert vector_query["kind"] == "vector" and vector_query["fields"] == "vectors"
    assert vector_query["vector"] == pytest.approx(_vector("windscreen covered"), abs=1e-6)
    assert search["body"]["search"] == "windscreen covered"
    assert search["body"]["select"].split(",") == [
        "id", "file_path", "question", "answer", "context", "document_synthesis", "created_at"
    ]  # fmt: skip
    request = embeddings.bodies[-1]
    assert request["input"] == ["windscreen covered"]
    assert (request["model"], request["dimensions"]) == ("text-embedding-3-large", DIMENSIONS)


async def test_semantic_ranking_and_the_score_threshold(ai_search: AiSearchService) -> None:
    name = _name()
    index = AzureKnowledgeIndex(
        ai_search.endpoint, name, key=ai_search.api_key, semantic_configuration="default", min_score=2.5
    )
    try:
        await index.ensure_index()
        await index.upsert(RECORDS)
        hits = await index.search("windscreen covered", top=3)
    finally:
        await index.close()
    body = ai_search.requests[-1]["body"]
    assert (body["queryType"], body["semanticConfiguration"]) == ("semantic", "default")
    assert [h.id for h in hits] == ["a-1"]  # a-2 only has "covered": its reranker score is 2
    assert hits[0].score >= 2.5


async def test_a_wrong_key_is_a_clear_error(ai_search: AiSearchService) -> None:
    index = AzureKnowledgeIndex(ai_search.endpoint, _name(), key="wrong")
    try:
        with pytest.raises(SearchIndexError, match="api-key"):
            await index.ensure_index()
    finally:
        await index.close()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"search": "car", "topp": 3}, "unknown parameter 'topp'"),
        ({"search": "car", "top": "3"}, "'top' has the wrong type"),
        ({"search": "car", "select": "id,vectors"}, "'vectors' is not a retrievable field"),
        ({"search": "car", "queryType": "fuzzy"}, "'queryType' must be one of"),
        (
            {"search": "car", "vectorQueries": [{"kind": "vector", "vector": [0.1], "fields": "vectors"}]},
            "1536",
        ),
        (
            {"search": "car", "vectorQueries": [{"kind": "text", "text": "car", "fields": "vectors"}]},
            "unknown",
        ),
        ({"search": "car", "queryType": "semantic", "semanticConfiguration": "nope"}, "semantic"),
        ({"search": "car", "filter": "answer eq 'x' or id eq 'y'"}, "filter"),
    ],
)
async def test_the_stand_in_refuses_requests_outside_the_contract(
    ai_search: AiSearchService, body: dict[str, Any], reason: str
) -> None:
    name = _name()
    index = AzureKnowledgeIndex(ai_search.endpoint, name, key=ai_search.api_key)
    try:
        await index.ensure_index()
    finally:
        await index.close()
    async with httpx.AsyncClient(base_url=ai_search.endpoint) as client:
        response = await client.post(
            f"/indexes('{name}')/docs/search.post.search",
            params={"api-version": "2026-04-01"},
            headers={"api-key": ai_search.api_key},
            json=body,
        )
    assert response.status_code == 400
    assert reason in response.json()["error"]["message"]


async def test_documents_outside_the_schema_are_refused(ai_search: AiSearchService) -> None:
    name = _name()
    index = AzureKnowledgeIndex(ai_search.endpoint, name, key=ai_search.api_key)
    try:
        await index.ensure_index()
    finally:
        await index.close()
    async with httpx.AsyncClient(base_url=ai_search.endpoint) as client:
        for document, reason in [
            ({"@search.action": "upload", "id": "x", "title": "t"}, "not in the index: title"),
            ({"@search.action": "upload", "id": "a b"}, "characters keys cannot hold"),
            ({"@search.action": "upsert", "id": "x"}, "unknown @search.action"),
            ({"@search.action": "upload", "id": "x", "vectors": [1.0, 2.0]}, "needs 1536 numbers"),
        ]:
            response = await client.post(
                f"/indexes('{name}')/docs/search.index",
                params={"api-version": "2026-04-01"},
                headers={"api-key": ai_search.api_key},
                json={"value": [document]},
            )
            assert response.status_code == 400, document
            assert reason in response.json()["error"]["message"]


async def test_sources_page_through_the_index_by_key(
    ai_search: AiSearchService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("shared.search.azure_search.PAGE", 2)
    name = _name()
    index = AzureKnowledgeIndex(ai_search.endpoint, name, key=ai_search.api_key)
    records = [dataclasses.replace(RECORDS[0], id=f"r-{n}", file_path=f"kb/{n % 2}.md") for n in range(5)]
    try:
        await index.ensure_index()
        await index.upsert(records)
        assert await index.sources() == {"kb/0.md": {"r-0", "r-2", "r-4"}, "kb/1.md": {"r-1", "r-3"}}
    finally:
        await index.close()
    pages = [r["body"] for r in ai_search.requests if r["body"] and r["body"].get("select") == "id,file_path"]
    assert [p.get("filter") for p in pages[-3:]] == [None, "id gt 'r-1'", "id gt 'r-3'"]
