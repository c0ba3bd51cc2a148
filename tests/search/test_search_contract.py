"""The knowledge index contract, on the local SQLite index and on the AI Search adapter (real SDK,
loopback stand-in): creation, upsert, search, sources, deletion, and the indexer on top of them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from shared.search.base import KnowledgeIndex, KnowledgeRecord
from shared.search.ingest import index_folders
from tests.search.conftest import KNOWLEDGE


def record(record_id: str, question: str, answer: str, *, file_path: str = "kb/faq.md") -> KnowledgeRecord:
    return KnowledgeRecord(
        id=record_id,
        file_path=file_path,
        question=question,
        answer=answer,
        context="Contoso FAQ",
        document_synthesis="Contoso FAQ. Topics: cover.",
        created_at="2026-12-01T10:00:00+00:00",
        lang="en",
    )


RECORDS = [
    record("a-1", "Is my windscreen covered?", "Windscreen damage is covered under Comfort and Premium."),
    record("a-2", "What happens if my car is stolen?", "Theft is covered; file a police report first."),
    record(
        "b-1", "How do I change my bank account?", "Send your new IBAN from the app.", file_path="kb/bank.md"
    ),
]


async def test_ensure_index_creates_it_once(knowledge_index: KnowledgeIndex) -> None:
    assert await knowledge_index.ensure_index() is True
    assert await knowledge_index.ensure_index() is False


async def test_a_record_is_found_by_its_words_with_its_file_and_fields(
    knowledge_index: KnowledgeIndex,
) -> None:
    await knowledge_index.ensure_index()
    await knowledge_index.upsert(RECORDS)
    hits = await knowledge_index.search("is the windscreen covered", lang="en-US", top=3)
    assert hits, "the windscreen record should be found"
    top = hits[0]
    assert (top.id, top.source, top.title) == ("a-1", "kb/faq.md", "Is my windscreen covered?")
    assert top.content.startswith("Windscreen damage")
    assert top.context == "Contoso FAQ"
    assert top.synthesis.startswith("Contoso FAQ")
    assert top.confidence >= 0.6
    assert len(await knowledge_index.search("covered", top=1)) == 1


async def test_sources_list_each_file_with_its_record_ids(knowledge_index: KnowledgeIndex) -> None:
    await knowledge_index.ensure_index()
    await knowledge_index.upsert(RECORDS)
    assert await knowledge_index.sources() == {"kb/faq.md": {"a-1", "a-2"}, "kb/bank.md": {"b-1"}}


async def test_upsert_replaces_a_record_and_delete_removes_it(knowledge_index: KnowledgeIndex) -> None:
    await knowledge_index.ensure_index()
    await knowledge_index.upsert(RECORDS)
    await knowledge_index.upsert([record("a-1", "Is my windscreen covered?", "Only under Premium now.")])
    hits = await knowledge_index.search("windscreen", top=5)
    assert [h.content for h in hits if h.id == "a-1"] == ["Only under Premium now."]
    await knowledge_index.delete(["a-1", "missing-id"])
    assert all(h.id != "a-1" for h in await knowledge_index.search("windscreen covered", top=5))
    assert (await knowledge_index.sources())["kb/faq.md"] == {"a-2"}


async def test_an_empty_query_or_an_unknown_word_finds_nothing(knowledge_index: KnowledgeIndex) -> None:
    await knowledge_index.ensure_index()
    await knowledge_index.upsert(RECORDS)
    assert await knowledge_index.search("   ") == []
    assert await knowledge_index.search("zeppelin") == []


async def test_indexing_the_shipped_set_twice_changes_nothing_the_second_time(
    knowledge_index: KnowledgeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, folder)
    monkeypatch.chdir(tmp_path)
    first = await index_folders(knowledge_index, [folder])
    assert first.created_index and not first.failed
    assert len(first.indexed) == len(list(KNOWLEDGE.rglob("*.md")))
    snapshot = await knowledge_index.sources()
    second = await index_folders(knowledge_index, [folder])
    assert not second.changed and not second.created_index
    assert sorted(second.unchanged) == sorted(first.indexed)
    assert await knowledge_index.sources() == snapshot


async def test_changed_and_deleted_files_are_followed_and_a_broken_file_is_skipped(
    knowledge_index: KnowledgeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "rental.md").write_text(
        "# Rental\n\n## Loan car?\n\nA loan car for 7 days.\n", encoding="utf-8"
    )
    (folder / "theft.md").write_text("# Theft\n\n## Stolen car?\n\nFile a complaint.\n", encoding="utf-8")
    await index_folders(knowledge_index, [folder])
    (folder / "rental.md").write_text(
        "# Rental\n\n## Loan car?\n\nA loan car for 30 days.\n", encoding="utf-8"
    )
    (folder / "theft.md").unlink()
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7 this is not a PDF at all")
    report = await index_folders(knowledge_index, [folder])
    assert report.indexed == ["docs/rental.md"]
    assert report.removed == ["docs/theft.md"]
    assert list(report.failed) == ["docs/broken.pdf"]
    assert set(await knowledge_index.sources()) == {"docs/rental.md"}
    hits = await knowledge_index.search("loan car", top=3)
    assert [h.content for h in hits] == ["A loan car for 30 days."]
    again = await index_folders(knowledge_index, [folder])
    assert not again.changed and list(again.failed) == ["docs/broken.pdf"]
