"""Azure AI Search: the knowledge index of the reference system's schema, through the async
`azure-search-documents` clients (API key or Entra ID).

A query is keyword (BM25) plus, with an embedding model, a vector query on `vectors` (the service fuses
both by reciprocal rank), re-ranked by the semantic ranker when a semantic configuration is set.
Hits below `min_score` (the reranker score when semantic ranking is on) are dropped. The index is
created with the schema when missing: `id` (key), `question`, `answer`, `context`,
`document_synthesis` (searchable), `file_path` (filterable), `created_at`, `vectors` (1536 floats,
HNSW, not retrievable).
"""

from __future__ import annotations

from typing import Any

from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import AzureError, ResourceNotFoundError

from shared.search.base import Embedder, KnowledgeRecord, SearchHit, SearchIndexError
from shared.search.text import coverage, terms, unique
from shared.settings import SearchSettings

RETRIEVED = ["id", "file_path", "question", "answer", "context", "document_synthesis", "created_at"]
VECTOR_FIELD = "vectors"
VECTOR_PROFILE = "vectors-profile"
VECTOR_ALGORITHM = "vectors-hnsw"
SEMANTIC_CONFIGURATION = "default"
PAGE = 1000


class AzureKnowledgeIndex:
    def __init__(
        self,
        endpoint: str,
        index: str,
        *,
        key: str | None = None,
        embedder: Embedder | None = None,
        semantic_configuration: str | None = None,
        min_score: float = 0.0,
        dimensions: int = 1536,
    ) -> None:
        from azure.search.documents.aio import SearchClient  # noqa: PLC0415
        from azure.search.documents.indexes.aio import SearchIndexClient  # noqa: PLC0415

        credential: Any
        if key:
            credential = AzureKeyCredential(key)
        else:
            from azure.identity.aio import DefaultAzureCredential  # noqa: PLC0415

            credential = DefaultAzureCredential()
        self._credential = credential
        self._name = index
        self._client = SearchClient(endpoint, index, credential)
        self._indexes = SearchIndexClient(endpoint, credential)
        self._embedder = embedder
        self._semantic = semantic_configuration
        self._min_score = min_score
        self._dimensions = embedder.dimensions if embedder is not None else dimensions

    @classmethod
    def from_settings(cls, settings: SearchSettings) -> AzureKnowledgeIndex:
        azure = settings.azure
        assert azure.endpoint is not None  # guaranteed by Settings validation
        embedder: Embedder | None = None
        if azure.embedding.configured:
            from shared.search.embeddings import OpenAiEmbedder  # noqa: PLC0415

            embedder = OpenAiEmbedder(azure.embedding)
        return cls(
            azure.endpoint,
            azure.index,
            key=azure.key.get_secret_value() if azure.key else None,
            embedder=embedder,
            semantic_configuration=azure.semantic_configuration,
            min_score=settings.min_score,
            dimensions=azure.embedding.dimensions,
        )

    # the conversation's side

    async def search(self, query: str, *, lang: str | None = None, top: int = 3) -> list[SearchHit]:
        from azure.search.documents.models import VectorizedQuery  # noqa: PLC0415

        if not query.strip():
            return []
        options: dict[str, Any] = {"top": top, "select": RETRIEVED}
        if self._embedder is not None:
            vector = (await self._embedder.embed([query]))[0]
            options["vector_queries"] = [
                VectorizedQuery(vector=vector, k_nearest_neighbors=max(top, 10), fields=VECTOR_FIELD)
            ]
        if self._semantic:
            options |= {"query_type": "semantic", "semantic_configuration_name": self._semantic}
        wanted = unique(terms(query, lang))
        hits: list[SearchHit] = []
        try:
            results = await self._client.search(search_text=query, **options)
            async for document in results:
                reranked = document.get("@search.reranker_score")
                score = float(reranked if reranked is not None else document.get("@search.score") or 0.0)
                if score < self._min_score:
                    continue
                passage = terms(f"{document.get('question') or ''} {document.get('answer') or ''}", lang)
                hits.append(
                    SearchHit(
                        title=document.get("question") or "",
                        content=document.get("answer") or "",
                        source=document.get("file_path") or "",
                        score=score,
                        id=document.get("id") or "",
                        context=document.get("context") or "",
                        synthesis=document.get("document_synthesis") or "",
                        confidence=round(coverage(wanted, passage, {}), 3),
                    )
                )
        except AzureError as exc:
            raise SearchIndexError(f"AI Search index {self._name}: {exc}") from exc
        return hits

    # the indexer's side

    async def ensure_index(self) -> bool:
        try:
            await self._indexes.get_index(self._name)
            return False
        except ResourceNotFoundError:
            pass
        except AzureError as exc:
            raise SearchIndexError(f"AI Search index {self._name}: {exc}") from exc
        try:
            await self._indexes.create_index(self.schema())
        except AzureError as exc:
            raise SearchIndexError(f"cannot create the AI Search index {self._name}: {exc}") from exc
        return True

    def schema(self) -> Any:
        from azure.search.documents.indexes import models as m  # noqa: PLC0415

        text = m.SearchFieldDataType.STRING
        fields = [
            m.SimpleField(name="id", type=text, key=True, filterable=True, sortable=True),
            m.SearchableField(name="question", type=text),
            m.SearchableField(name="answer", type=text),
            m.SearchableField(name="context", type=text),
            m.SearchableField(name="document_synthesis", type=text),
            m.SimpleField(name="file_path", type=text, filterable=True),
            m.SimpleField(name="created_at", type=text),
            m.SearchField(
                name=VECTOR_FIELD,
                type="Collection(Edm.Single)",
                searchable=True,
                hidden=True,
                vector_search_dimensions=self._dimensions,
                vector_search_profile_name=VECTOR_PROFILE,
            ),
        ]
        semantic = m.SemanticSearch(
            configurations=[
                m.SemanticConfiguration(
                    name=self._semantic or SEMANTIC_CONFIGURATION,
                    prioritized_fields=m.SemanticPrioritizedFields(
                        title_field=m.SemanticField(field_name="question"),
                        content_fields=[m.SemanticField(field_name="answer")],
                        keywords_fields=[m.SemanticField(field_name="context")],
                    ),
                )
            ]
        )
        vector_search = m.VectorSearch(
            algorithms=[m.HnswAlgorithmConfiguration(name=VECTOR_ALGORITHM)],
            profiles=[
                m.VectorSearchProfile(name=VECTOR_PROFILE, algorithm_configuration_name=VECTOR_ALGORITHM)
            ],
        )
        return m.SearchIndex(
            name=self._name, fields=fields, vector_search=vector_search, semantic_search=semantic
        )

    async def sources(self) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        try:  # keyset paging on the key: `skip` stops at 100,000
            last = ""
            while True:
                page = await self._client.search(
                    search_text="*",
                    select=["id", "file_path"],
                    filter=f"id gt '{last}'" if last else None,
                    order_by=["id asc"],
                    top=PAGE,
                )
                count = 0
                async for document in page:
                    count += 1
                    last = document["id"]
                    found.setdefault(document.get("file_path") or "", set()).add(last)
                if count < PAGE:
                    return found
        except AzureError as exc:
            raise SearchIndexError(f"AI Search index {self._name}: {exc}") from exc

    async def upsert(self, records: list[KnowledgeRecord]) -> None:
        if not records:
            return
        vectors: list[list[float]] | None = None
        if self._embedder is not None:
            vectors = await self._embedder.embed([f"{r.question}\n{r.answer}" for r in records])
        documents: list[dict[str, Any]] = []
        for position, record in enumerate(records):
            document: dict[str, Any] = {name: getattr(record, name) for name in RETRIEVED}
            vector = vectors[position] if vectors is not None else record.vectors
            if vector:
                document[VECTOR_FIELD] = list(vector)
            documents.append(document)
        await self._write(documents, "merge_or_upload")

    async def delete(self, ids: list[str]) -> None:
        if ids:
            await self._write([{"id": record_id} for record_id in ids], "delete")

    async def _write(self, documents: list[dict[str, Any]], action: str) -> None:
        try:
            for start in range(0, len(documents), PAGE):
                batch = documents[start : start + PAGE]
                if action == "delete":
                    results = await self._client.delete_documents(documents=batch)
                else:
                    results = await self._client.merge_or_upload_documents(documents=batch)
                failed = [r for r in results if not r.succeeded]
                if failed:
                    reasons = "; ".join(f"{r.key}: {r.error_message}" for r in failed[:3])
                    raise SearchIndexError(f"AI Search refused {len(failed)} document(s): {reasons}")
        except AzureError as exc:
            raise SearchIndexError(f"AI Search index {self._name}: {exc}") from exc

    async def close(self) -> None:
        await self._client.close()
        await self._indexes.close()
        if self._embedder is not None:
            await self._embedder.close()
        if not isinstance(self._credential, AzureKeyCredential):
            await self._credential.close()
