"""`callcenter index FOLDER...`: load a company's documents into the knowledge index the settings
choose (the local SQLite index, or Azure AI Search, created with the reference schema when missing),
with a progress bar and a summary. Unreadable files are named with the reason and skipped.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from shared.llm.client import ChatModel, TextDelta, build_chat_models
from shared.search.base import KnowledgeIndex, SearchIndexError
from shared.search.ingest import IndexReport, Synthesizer, find_files, index_folders
from shared.settings import SearchBackend, Settings

SYNTHESIS_PROMPT = (
    "Summarize this company document in 2 or 3 sentences, in its own language, saying what it is about "
    "and which questions it answers. Plain text, no preamble."
)
SYNTHESIS_INPUT_CHARS = 12_000


def open_index(settings: Settings) -> KnowledgeIndex:
    """The index `callcenter index` writes to (the same one the conversation reads, without the cache)."""
    search = settings.search
    if settings.search_backend is SearchBackend.AZURE:
        from shared.search.azure_search import AzureKnowledgeIndex  # noqa: PLC0415

        return AzureKnowledgeIndex.from_settings(search)
    from shared.search.sqlite_index import SqliteKnowledgeIndex, local_embedder  # noqa: PLC0415

    return SqliteKnowledgeIndex(search.sqlite.path, embedder=local_embedder(search.sqlite))


def llm_synthesizer(model: ChatModel) -> Synthesizer:
    async def synthesize(title: str, text: str) -> str:
        messages = [
            {"role": "system", "content": SYNTHESIS_PROMPT},
            {"role": "user", "content": f"# {title}\n\n{text[:SYNTHESIS_INPUT_CHARS]}"},
        ]
        parts = [event.text async for event in model.stream(messages, []) if isinstance(event, TextDelta)]
        return "".join(parts)

    return synthesize


def summary_lines(report: IndexReport, where: str) -> list[str]:
    lines = [
        f"index {where}" + (" (created)" if report.created_index else ""),
        f"  {len(report.indexed)} file(s) indexed, {len(report.unchanged)} unchanged, "
        f"{len(report.removed)} removed, {len(report.failed)} unreadable",
        f"  {report.records_written} record(s) written, {report.records_deleted} deleted",
    ]
    lines += [f"  unreadable: {name}: {reason}" for name, reason in sorted(report.failed.items())]
    if not report.changed and not report.failed:
        lines.append("  nothing changed")
    return lines


async def run_index(
    settings: Settings, folders: Sequence[Path], *, out: TextIO, progress: bool, force: bool = False
) -> int:
    missing = [str(f) for f in folders if not f.is_dir()]
    if missing:
        print(f"callcenter index: not a folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    total = len(find_files(folders))
    index = open_index(settings)
    models = build_chat_models(settings.llm)
    synthesize = llm_synthesizer(next(iter(models.values()))) if models else None
    where = (
        f"AI Search {settings.search.azure.index}"
        if settings.search_backend is SearchBackend.AZURE
        else str(settings.search.sqlite.path)
    )
    bar = None
    if progress:
        from tqdm import tqdm  # type: ignore[import-untyped]  # noqa: PLC0415

        bar = tqdm(total=total, unit="file", desc="indexing", file=sys.stderr, leave=False)
    try:
        report = await index_folders(
            index,
            folders,
            synthesize=synthesize,
            progress=(lambda _name: bar.update()) if bar else None,
            force=force,
        )
    except SearchIndexError as exc:
        print(f"callcenter index: {exc}", file=sys.stderr)
        return 1
    finally:
        if bar is not None:
            bar.close()
        await index.close()
        for model in models.values():
            await model.close()
    for line in summary_lines(report, where):
        print(line, file=out)
    return 0


def index_command(
    settings: Settings, folders: Sequence[Path], *, out: TextIO, progress: bool, force: bool = False
) -> int:
    return asyncio.run(run_index(settings, folders, out=out, progress=progress, force=force))


DEMO_KNOWLEDGE = Path(__file__).resolve().parents[1] / "knowledge"


async def seed_demo_knowledge(settings: Settings, folder: Path = DEMO_KNOWLEDGE) -> IndexReport | None:
    """An empty local index gets the shipped demo knowledge set (the local stack's first start);
    an index that holds anything, or AI Search, is left alone."""
    if settings.search_backend is not SearchBackend.SQLITE or not await asyncio.to_thread(folder.is_dir):
        return None
    index = open_index(settings)
    try:
        if await index.sources():
            return None
        return await index_folders(index, [folder])
    finally:
        await index.close()
