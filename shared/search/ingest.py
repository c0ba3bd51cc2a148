"""Knowledge ingestion: folders of documents -> chunks -> records in a `KnowledgeIndex`, kept in step.

Each file becomes sections under their headings, long sections are cut at paragraphs, and each chunk
is a record: `question` (the section's heading), `answer` (the chunk), `context` (title > headings),
`document_synthesis` (an LLM's summary when one is given, else the document's opening and its topics).
A record id carries a hash of the file's path and of its content, so a file whose bytes did not change
is skipped, a changed one replaces its records and a deleted one loses them: running twice changes
nothing. A file that cannot be read is reported and left as it was in the index.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from shared.search.base import KnowledgeIndex, KnowledgeRecord
from shared.search.readers import SUFFIXES, UnreadableDocument, read_text
from shared.search.text import detect_lang

log = logging.getLogger(__name__)

CHUNK_CHARS = 1_000
SYNTHESIS_CHARS = 600
BATCH = 64
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")

Synthesizer = Callable[[str, str], Awaitable[str]]  # (title, document text) -> a short summary
Progress = Callable[[str], None]  # called once per file, after it was handled


@dataclass(frozen=True)
class Section:
    headings: tuple[str, ...]
    text: str


@dataclass
class IndexReport:
    indexed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # file -> reason
    records_written: int = 0
    records_deleted: int = 0
    created_index: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.indexed or self.removed or self.records_written or self.records_deleted)


def find_files(folders: Sequence[Path]) -> list[Path]:
    """The readable-kind files under the folders (hidden ones left out), sorted."""
    files: set[Path] = set()
    for folder in folders:
        if not folder.is_dir():
            raise ValueError(f"{folder} is not a folder")
        for path in folder.rglob("*"):
            hidden = any(part.startswith(".") for part in path.relative_to(folder).parts)
            if path.is_file() and path.suffix.lower() in SUFFIXES and not hidden:
                files.add(path)
    return sorted(files)


def display_path(path: Path) -> str:
    """How a file is named in the index: relative to the working folder when inside it."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


def _root(name: str) -> str:
    return "" if name == "." else name.rstrip("/") + "/"


def _digest(text: str | bytes, size: int = 16) -> str:
    data = text.encode() if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()[:size]


def record_prefix(file_path: str, content: bytes) -> str:
    return f"{_digest(file_path)}-{_digest(content)}"


def sections(text: str) -> tuple[str, list[Section]]:
    """The title (first level-1 heading, else the first line) and the text under each heading."""
    title = ""
    stack: list[tuple[int, str]] = []
    found: list[Section] = []
    lines: list[str] = []

    def flush() -> None:
        body = "\n".join(lines).strip()
        if body:
            found.append(Section(tuple(h for _, h in stack), body))
        lines.clear()

    for line in text.splitlines():
        match = _HEADING.match(line)
        if match is None:
            lines.append(line)
            continue
        flush()
        level, heading = len(match.group(1)), match.group(2).strip()
        if level == 1 and not title:
            title = heading
            stack = []
            continue
        stack = [(lvl, h) for lvl, h in stack if lvl < level] + [(level, heading)]
    flush()
    if not title:
        first = text.strip().splitlines()[0].strip() if text.strip() else ""
        title = first[:120]
    return title, found


def chunks(text: str, limit: int = CHUNK_CHARS) -> list[str]:
    """The text cut at paragraphs (then sentences) into pieces of at most about `limit` characters."""
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    for raw in re.split(r"\n\s*\n", text):
        paragraph = raw.strip()
        if len(paragraph) <= limit:
            pieces.append(paragraph)
        else:
            pieces += [s for s in _SENTENCE_END.split(paragraph) if s.strip()]
    out: list[str] = []
    for piece in pieces:
        if out and len(out[-1]) + len(piece) + 2 <= limit:
            out[-1] = f"{out[-1]}\n\n{piece}"
        else:
            out.append(piece)
    return out


def rules_synthesis(title: str, parts: list[Section]) -> str:
    """Without an LLM: the document's opening words and the topics its headings name."""
    opening = next((p.text for p in parts if len(p.headings) == 0), parts[0].text if parts else "")
    opening = " ".join(opening.split())
    if len(opening) > SYNTHESIS_CHARS // 2:
        opening = opening[: SYNTHESIS_CHARS // 2].rsplit(" ", 1)[0] + "…"
    topics = list(dict.fromkeys(p.headings[-1] for p in parts if p.headings))
    summary = f"{title}. {opening}".strip()
    if topics:
        summary += " Topics: " + "; ".join(topics) + "."
    return summary[:SYNTHESIS_CHARS]


async def document_records(
    file_path: str, content: bytes, text: str, *, synthesize: Synthesizer | None = None
) -> list[KnowledgeRecord]:
    title, parts = sections(text)
    synthesis = rules_synthesis(title, parts)
    if synthesize is not None:
        try:
            synthesis = (await synthesize(title, text)).strip()[:SYNTHESIS_CHARS] or synthesis
        except Exception as exc:  # a model failure only costs the nicer summary
            log.warning("no LLM synthesis for %s (%s): the rules' summary is kept", file_path, exc)
    lang = detect_lang(text)
    prefix = record_prefix(file_path, content)
    created_at = datetime.now(UTC).isoformat()
    records: list[KnowledgeRecord] = []
    for part in parts:
        question = part.headings[-1] if part.headings else title
        context = " > ".join([title, *part.headings[:-1]]) if part.headings else title
        for piece in chunks(part.text):
            records.append(
                KnowledgeRecord(
                    id=f"{prefix}-{len(records):04d}",
                    file_path=file_path,
                    question=question,
                    answer=piece,
                    context=context,
                    document_synthesis=synthesis,
                    created_at=created_at,
                    lang=lang,
                )
            )
    return records


async def index_folders(
    index: KnowledgeIndex,
    folders: Sequence[Path],
    *,
    synthesize: Synthesizer | None = None,
    progress: Progress | None = None,
    force: bool = False,
) -> IndexReport:
    """Bring the index in step with the files under `folders` (see the module's docstring); `force`
    re-reads unchanged files too (after changing the embedding model, say)."""
    files = find_files(folders)
    report = IndexReport(created_index=await index.ensure_index())
    known = await index.sources()
    roots = [_root(display_path(folder)) for folder in folders]  # deleted files are looked for under these
    seen: set[str] = set()
    pending: list[KnowledgeRecord] = []
    for path in files:
        name = display_path(path)
        seen.add(name)
        old_ids = known.get(name, set())
        try:
            content = path.read_bytes()
            prefix = record_prefix(name, content)
            if not force and old_ids and all(i.startswith(prefix + "-") for i in old_ids):
                report.unchanged.append(name)
                continue
            records = await document_records(name, content, read_text(path), synthesize=synthesize)
        except (OSError, UnreadableDocument) as exc:
            report.failed[name] = str(exc) or type(exc).__name__
            continue
        finally:
            if progress is not None:
                progress(name)
        pending += records
        if len(pending) >= BATCH:
            await index.upsert(pending)
            report.records_written += len(pending)
            pending = []
        stale = sorted(old_ids - {r.id for r in records})
        if stale:
            await index.delete(stale)
            report.records_deleted += len(stale)
        report.indexed.append(name)
    if pending:
        await index.upsert(pending)
        report.records_written += len(pending)
    for name, ids in sorted(known.items()):
        if name not in seen and any(name.startswith(root) for root in roots):
            await index.delete(sorted(ids))
            report.records_deleted += len(ids)
            report.removed.append(name)
    return report
