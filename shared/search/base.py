"""The search port and a simple in-process adapter (keyword scoring over a list of documents).

The SQLite FTS5 and Azure AI Search adapters come with the knowledge-ingestion work.
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
    title: str
    content: str
    source: str
    score: float


class DocumentSearch(Protocol):
    async def search(self, query: str, *, lang: str | None = None, top: int = 3) -> list[SearchHit]: ...


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
        return [
            SearchHit(self._documents[i].title, self._documents[i].content, self._documents[i].source, s)
            for s, i in scored[:top]
        ]


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
