"""The embedded default index: one SQLite file with an FTS5 table ranked by BM25, and optional vectors.

Text is indexed as Snowball stems (English or French, by the record's language) so a caller's "covered"
finds "coverage"; the FTS5 columns are weighted question 4, answer 2, context 1. With an embedder the
records also keep a vector, and a query fuses the keyword and the vector rankings by reciprocal rank.
Calls run on a worker thread (SQLite is blocking) under one lock; reads and writes are short.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from array import array
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from shared.search.base import Embedder, KnowledgeRecord, SearchHit, SearchIndexError
from shared.search.text import coverage, family, idf, reciprocal_rank_fusion, terms, unique
from shared.settings import SqliteSearchSettings

T = TypeVar("T")
FIELD_WEIGHTS = (4.0, 2.0, 1.0)  # question, answer, context
CANDIDATES = 30  # per ranking, before fusion

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    file_path TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    context TEXT NOT NULL,
    document_synthesis TEXT NOT NULL,
    created_at TEXT NOT NULL,
    lang TEXT,
    vector BLOB
);
CREATE INDEX IF NOT EXISTS records_by_file ON records(file_path);
CREATE VIRTUAL TABLE IF NOT EXISTS records_fts USING fts5(
    question, answer, context, tokenize = 'unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE IF NOT EXISTS records_vocab USING fts5vocab(records_fts, 'row');
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def local_embedder(settings: SqliteSearchSettings) -> Embedder | None:
    """The configured local embedding model, else the installed model package, else none (keyword)."""
    if not settings.embeddings:
        return None
    from shared.search.embeddings import BertEmbedder, installed_minilm  # noqa: PLC0415

    if settings.embedding_model_path is not None:
        return BertEmbedder(settings.embedding_model_path)
    return installed_minilm()


def _stems(text: str, lang: str | None) -> str:
    return " ".join(terms(text, lang))


class SqliteKnowledgeIndex:
    """A persistent knowledge index in one SQLite file (created on first use)."""

    def __init__(self, path: Path, *, embedder: Embedder | None = None) -> None:
        self._path = Path(path)
        self._embedder = embedder
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._matrix: tuple[list[str], list[array[float]]] | None = None  # vectors, loaded on first use

    @property
    def hybrid(self) -> bool:
        return self._embedder is not None

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            try:
                self._path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA busy_timeout=10000")
                db.executescript(_SCHEMA)
            except (OSError, sqlite3.Error) as exc:
                raise SearchIndexError(f"cannot open the search index {self._path}: {exc}") from exc
            self._db = db
        return self._db

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        def locked() -> T:
            with self._lock:
                try:
                    return work(self._connect())
                except sqlite3.Error as exc:
                    raise SearchIndexError(f"search index {self._path}: {exc}") from exc

        return await asyncio.to_thread(locked)

    # the indexer's side

    async def ensure_index(self) -> bool:
        def created(db: sqlite3.Connection) -> bool:
            row = db.execute("SELECT value FROM meta WHERE key = 'created'").fetchone()
            if row is None:
                db.execute("INSERT INTO meta(key, value) VALUES ('created', datetime('now'))")
            return row is None

        return await self._run(created)

    async def sources(self) -> dict[str, set[str]]:
        def read(db: sqlite3.Connection) -> dict[str, set[str]]:
            found: dict[str, set[str]] = {}
            for file_path, record_id in db.execute("SELECT file_path, id FROM records"):
                found.setdefault(file_path, set()).add(record_id)
            return found

        return await self._run(read)

    async def upsert(self, records: list[KnowledgeRecord]) -> None:
        vectors: list[list[float]] | None = None
        if self._embedder is not None and records:
            vectors = await self._embedder.embed([_embedding_text(r) for r in records])

        def write(db: sqlite3.Connection) -> None:
            db.execute("BEGIN IMMEDIATE")
            try:
                for index, record in enumerate(records):
                    _delete_ids(db, [record.id])
                    vector = vectors[index] if vectors is not None else record.vectors
                    blob = array("f", vector).tobytes() if vector else None
                    cursor = db.execute(
                        "INSERT INTO records(id, file_path, question, answer, context, document_synthesis,"
                        " created_at, lang, vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            record.id,
                            record.file_path,
                            record.question,
                            record.answer,
                            record.context,
                            record.document_synthesis,
                            record.created_at,
                            record.lang,
                            blob,
                        ),
                    )
                    db.execute(
                        "INSERT INTO records_fts(rowid, question, answer, context) VALUES (?, ?, ?, ?)",
                        (
                            cursor.lastrowid,
                            _stems(record.question, record.lang),
                            _stems(record.answer, record.lang),
                            _stems(record.context, record.lang),
                        ),
                    )
                if vectors is not None and self._embedder is not None:
                    db.execute(
                        "INSERT OR REPLACE INTO meta(key, value) VALUES ('embedder', ?)",
                        (self._embedder.name,),
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            self._matrix = None

        await self._run(write)

    async def delete(self, ids: list[str]) -> None:
        def remove(db: sqlite3.Connection) -> None:
            db.execute("BEGIN IMMEDIATE")
            try:
                _delete_ids(db, ids)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            self._matrix = None

        await self._run(remove)

    async def count(self) -> int:
        return await self._run(lambda db: int(db.execute("SELECT count(*) FROM records").fetchone()[0]))

    # the conversation's side

    async def search(self, query: str, *, lang: str | None = None, top: int = 3) -> list[SearchHit]:
        language = family(lang)
        wanted = unique(terms(query, language))
        query_vector: list[float] | None = None
        if self._embedder is not None and query.strip():
            query_vector = (await self._embedder.embed([query]))[0]
        if not wanted and query_vector is None:
            return []

        def find(db: sqlite3.Connection) -> list[SearchHit]:
            weights = _idf_weights(db, wanted)
            keyword = _keyword_ranking(db, wanted, language)
            rankings = [keyword]
            if query_vector is not None:
                rankings.append(self._vector_ranking(db, query_vector, language))
            if len(rankings) == 1:
                scored = {rowid: score for rowid, score in keyword}
            else:
                fused = reciprocal_rank_fusion([[str(r) for r, _ in ranking] for ranking in rankings])
                scored = {int(rowid): score for rowid, score in fused.items()}
            best = sorted(scored.items(), key=lambda item: (-item[1], item[0]))[:top]
            return [_hit(db, rowid, score, wanted, weights) for rowid, score in best]

        return await self._run(find)

    def _vector_ranking(
        self, db: sqlite3.Connection, query: list[float], language: str | None
    ) -> list[tuple[int, float]]:
        import numpy as np  # noqa: PLC0415 (only with an embedder)

        if self._matrix is None:
            model = db.execute("SELECT value FROM meta WHERE key = 'embedder'").fetchone()
            same_model = self._embedder is not None and model is not None and model[0] == self._embedder.name
            rows = (  # vectors of another model do not compare with this one's: keyword only until re-indexed
                db.execute("SELECT rowid, lang, vector FROM records WHERE vector IS NOT NULL").fetchall()
                if same_model
                else []
            )
            self._matrix = (
                [f"{rowid}|{lang or ''}" for rowid, lang, _ in rows],
                [array("f", blob) for _, _, blob in rows],
            )
        keys, vectors = self._matrix
        if not vectors:
            return []
        matrix = np.asarray(vectors, dtype=np.float32)
        similarity = matrix @ np.asarray(query, dtype=np.float32)
        ranked: list[tuple[int, float]] = []
        for position in np.argsort(-similarity):
            rowid, _, record_lang = keys[int(position)].partition("|")
            if language and record_lang and record_lang != language:
                continue
            ranked.append((int(rowid), float(similarity[int(position)])))
            if len(ranked) >= CANDIDATES:
                break
        return ranked

    async def close(self) -> None:
        def shut() -> None:
            with self._lock:
                if self._db is not None:
                    self._db.close()
                    self._db = None

        await asyncio.to_thread(shut)
        if self._embedder is not None:
            await self._embedder.close()


def _embedding_text(record: KnowledgeRecord) -> str:
    return f"{record.question}\n{record.answer}"


def _delete_ids(db: sqlite3.Connection, ids: Sequence[str]) -> None:
    for record_id in ids:
        row = db.execute("SELECT rowid FROM records WHERE id = ?", (record_id,)).fetchone()
        if row is not None:
            db.execute("DELETE FROM records_fts WHERE rowid = ?", (row[0],))
            db.execute("DELETE FROM records WHERE rowid = ?", (row[0],))


def _idf_weights(db: sqlite3.Connection, wanted: list[str]) -> dict[str, float]:
    """The inverse document frequency of each query term the index knows (unknown ones left out)."""
    if not wanted:
        return {}
    total = int(db.execute("SELECT count(*) FROM records").fetchone()[0]) or 1
    marks = ",".join("?" * len(wanted))
    sql = f"SELECT term, doc FROM records_vocab WHERE term IN ({marks})"  # noqa: S608 (placeholders only)
    frequency = {str(term): int(doc) for term, doc in db.execute(sql, wanted)}
    return {term: idf(frequency[term], total) for term in wanted if frequency.get(term)}


def _keyword_ranking(
    db: sqlite3.Connection, wanted: list[str], language: str | None
) -> list[tuple[int, float]]:
    if not wanted:
        return []
    match = " OR ".join(f'"{term}"' for term in wanted)
    weights = ", ".join(str(w) for w in FIELD_WEIGHTS)
    sql = (
        f"SELECT records_fts.rowid, -bm25(records_fts, {weights}) AS score FROM records_fts"  # noqa: S608
        " JOIN records ON records.rowid = records_fts.rowid WHERE records_fts MATCH ?"
    )
    order = f" ORDER BY score DESC LIMIT {CANDIDATES}"
    if language:  # the caller's language first; any language when it has nothing
        in_language = db.execute(
            sql + " AND (records.lang IS NULL OR records.lang = ?)" + order, (match, language)
        ).fetchall()
        if in_language:
            return [(int(rowid), float(score)) for rowid, score in in_language]
    return [(int(rowid), float(score)) for rowid, score in db.execute(sql + order, (match,))]


def _hit(
    db: sqlite3.Connection, rowid: int, score: float, wanted: list[str], weights: dict[str, float]
) -> SearchHit:
    row = db.execute(
        "SELECT id, file_path, question, answer, context, document_synthesis, lang"
        " FROM records WHERE rowid = ?",
        (rowid,),
    ).fetchone()
    record_id, file_path, question, answer, context, synthesis, lang = row
    passage = terms(f"{question} {answer}", lang)
    return SearchHit(
        title=question,
        content=answer,
        source=file_path,
        score=score,
        id=record_id,
        context=context,
        synthesis=synthesis,
        confidence=round(coverage(wanted, passage, weights, known=weights), 3),
    )
