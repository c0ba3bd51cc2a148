"""The search port: what the conversation asks (`DocumentSearch`) and what the indexer writes to
(`KnowledgeIndex`), with the records both speak of.

Adapters: `sqlite_index.SqliteKnowledgeIndex` (the embedded default: FTS5/BM25, optional vectors),
`azure_search.AzureKnowledgeIndex` (Azure AI Search), `InMemorySearch` below (a fixed list of documents,
for tests), and `cached.CachedSearch` in front of any of them.

A record follows the AI Search index schema of the reference system: `id`, `question`, `answer`,
`context`, `document_synthesis`, `file_path`, `created_at`, `vectors`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Document:
    title: str
    content: str
    source: str = ""
    lang: str | None = None


@dataclass(frozen=True)
class SearchHit:
    """One document passage found: `title` is its question (or heading), `content` its answer,
    `source` the file it came from. `score` is the adapter's own ranking score (higher is better, not
    comparable between adapters); `confidence` (0-1) is how much of the query the passage covers."""

    title: str
    content: str
    source: str
    score: float
    id: str = ""
    context: str = ""
    synthesis: str = ""
    confidence: float = 0.0


class DocumentSearch(Protocol):
    async def search(self, query: str, *, lang: str | None = None, top: int = 3) -> list[SearchHit]: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class KnowledgeRecord:
    """One indexed chunk of a document (the AI Search schema; `lang` is kept by the local index only)."""

    id: str
    file_path: str
    question: str
    answer: str
    context: str
    document_synthesis: str
    created_at: str
    lang: str | None = None
    vectors: tuple[float, ...] | None = None


class SearchIndexError(RuntimeError):
    """The index cannot be read or written (unreachable service, refused request, broken file)."""


class KnowledgeIndex(DocumentSearch, Protocol):
    """A searchable index the `index` command keeps in step with a set of files."""

    async def ensure_index(self) -> bool:
        """Create the index when missing; `True` when it was created."""
        ...

    async def sources(self) -> dict[str, set[str]]:
        """Each indexed file path with the ids of its records."""
        ...

    async def upsert(self, records: list[KnowledgeRecord]) -> None: ...

    async def delete(self, ids: list[str]) -> None: ...


class Embedder(Protocol):
    """Text -> vectors (unit length), for hybrid search."""

    name: str
    dimensions: int

    async def embed(self, texts: list[str]) -> list[list[float]]: ...

    async def close(self) -> None: ...


def _terms(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.casefold())
    ascii_text = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return [w for w in _WORD.findall(ascii_text) if len(w) > 2]


class InMemorySearch:
    """BM25-style scoring over documents held in memory. Fine for tens or hundreds of documents."""

    def __init__(self, documents: list[Document] | None = None, *, k1: float = 1.2, b: float = 0.75) -> None:
        self._documents = list(documents or [])
        self._k1, self._b = k1, b
        self._index = [Counter(_terms(f"{d.title} {d.content}")) for d in self._documents]
        lengths = [sum(counts.values()) for counts in self._index]
        self._average_length = (sum(lengths) / len(lengths)) if lengths else 0.0
        self._document_frequency: Counter[str] = Counter()
        for counts in self._index:
            self._document_frequency.update(counts.keys())

    async def search(self, query: str, *, lang: str | None = None, top: int = 3) -> list[SearchHit]:
        terms = set(_terms(query))
        total = len(self._documents)
        scored: list[tuple[float, int]] = []
        for position, (document, counts) in enumerate(zip(self._documents, self._index, strict=True)):
            if lang and document.lang and not document.lang.startswith(lang.split("-")[0]):
                continue
            length = sum(counts.values()) or 1
            score = 0.0
            for term in terms:
                frequency = counts.get(term, 0)
                if not frequency:
                    continue
                df = self._document_frequency[term]
                idf = math.log(1 + (total - df + 0.5) / (df + 0.5))
                norm = frequency + self._k1 * (1 - self._b + self._b * length / (self._average_length or 1))
                score += idf * frequency * (self._k1 + 1) / norm
            if score > 0:
                scored.append((score, position))
        scored.sort(key=lambda item: (-item[0], item[1]))
        return [  # (confidence left at 0: this adapter never answers on its own)
            SearchHit(self._documents[i].title, self._documents[i].content, self._documents[i].source, s)
            for s, i in scored[:top]
        ]

    async def close(self) -> None:
        return None


def load_documents(folder: Path) -> list[Document]:
    """Markdown and text files of a folder; the first line (without `#`) is the title."""
    if not folder.is_dir():
        raise ValueError(f"search documents folder {folder} does not exist")
    documents: list[Document] = []
    for path in sorted([*folder.rglob("*.md"), *folder.rglob("*.txt")]):
        text = path.read_text(encoding="utf-8").strip()
        if not text:
            continue
        first, _, rest = text.partition("\n")
        documents.append(
            Document(
                title=first.lstrip("# ").strip() or path.stem, content=rest.strip() or first, source=str(path)
            )
        )
    return documents


@dataclass(frozen=True)
class RetrievalPolicy:
    """How the conversation uses the documents (from `SearchSettings`)."""

    top: int = 3
    answer_min_confidence: float = 0.6  # the form agent answers from the top document at or above this
    prompt_min_confidence: float = 0.5  # documents added to the LLM prompt for the turn
    prompt_budget_tokens: int = 700
    timeout_sec: float = 3.0  # retrieval for the prompt is skipped past this (the tool remains)
