"""Reading documents (Markdown, text, Word, HTML, PDF), cutting them into records, and the
`callcenter index` command."""

from __future__ import annotations

import asyncio
from pathlib import Path

import docx
import pytest

from local.ai_search import AiSearchService
from local.cli import main
from local.llm_server import ScriptedLlmServer
from shared.search.ingest import CHUNK_CHARS, chunks, document_records, index_folders, sections
from shared.search.readers import UnreadableDocument, read_text
from shared.search.sqlite_index import SqliteKnowledgeIndex


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF showing `text` in Helvetica (offsets computed, as a PDF writer would)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def test_markdown_and_text_are_read_as_they_are(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# Title\n\n## Question?\n\nAnswer.\n", encoding="utf-8")
    (tmp_path / "b.txt").write_bytes("Opening hours\n\nCaf\xe9 open 9 to 5.".encode("cp1252"))
    assert read_text(tmp_path / "a.md") == "# Title\n\n## Question?\n\nAnswer."
    assert read_text(tmp_path / "b.txt") == "Opening hours\n\nCafé open 9 to 5."


def test_word_headings_become_markdown_headings(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_heading("Roadside help", level=1)
    document.add_heading("Flat tyre?", level=2)
    document.add_paragraph("We send a technician.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Tow", "100 km"
    document.save(str(tmp_path / "help.docx"))
    text = read_text(tmp_path / "help.docx")
    assert text.splitlines()[0] == "# Roadside help"
    assert "### Flat tyre?" in text or "## Flat tyre?" in text
    assert "We send a technician." in text
    assert "Tow | 100 km" in text


def test_html_keeps_headings_and_text_and_drops_scripts_and_menus(tmp_path: Path) -> None:
    (tmp_path / "faq.html").write_text(
        "<html><head><title>FAQ</title><script>var x = 1;</script></head><body><nav>Home | Menu</nav>"
        "<h1>Contoso FAQ</h1><h2>Is theft covered?</h2><p>Yes, under <b>Comfort</b>.</p></body></html>",
        encoding="utf-8",
    )
    text = read_text(tmp_path / "faq.html")
    title, parts = sections(text)
    assert title == "Contoso FAQ"
    assert parts[0].headings == ("Is theft covered?",)
    assert "Yes, under Comfort ." in parts[0].text or "Yes, under Comfort." in parts[0].text
    assert "var x" not in text and "Menu" not in text


def test_pdf_text_is_extracted(tmp_path: Path) -> None:
    (tmp_path / "policy.pdf").write_bytes(minimal_pdf("Glass excess is 50 euros"))
    assert "Glass excess is 50 euros" in read_text(tmp_path / "policy.pdf")


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("broken.pdf", b"%PDF-1.7 not really", r"\w"),
        ("broken.docx", b"PK not a zip", r"\w"),
        ("empty.md", b"   \n\n", "no text"),
        ("binary.txt", b"\x00\x01\x02\xff\xfe", "binary"),
    ],
)
def test_unreadable_files_give_a_one_line_reason(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(UnreadableDocument, match=reason) as caught:
        read_text(tmp_path / name)
    assert "\n" not in str(caught.value)


async def test_records_follow_the_headings_and_long_sections_are_cut() -> None:
    long_section = "\n\n".join(f"Paragraph {n}. " + "Words about repairs. " * 20 for n in range(6))
    text = f"# Repairs\n\nHow repairs work.\n\n## Garages\n\n### Can I choose?\n\n{long_section}\n"
    records = await document_records("kb/repairs.md", text.encode(), text)
    assert records[0].question == "Repairs" and records[0].answer == "How repairs work."
    rest = records[1:]
    assert len(rest) > 1 and all(len(r.answer) <= CHUNK_CHARS for r in rest)
    assert {r.question for r in rest} == {"Can I choose?"}
    assert {r.context for r in rest} == {"Repairs > Garages"}
    assert rest[0].document_synthesis.startswith("Repairs. How repairs work. Topics: Can I choose?")
    assert len({r.id for r in records}) == len(records)
    assert all(r.lang == "en" for r in records)
    assert chunks("short") == ["short"]


def test_the_index_command_prints_a_summary_and_a_second_run_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEARCH__SQLITE__PATH", str(tmp_path / "index.sqlite3"))
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "faq.md").write_text("# FAQ\n\n## Loan car?\n\nSeven days.\n", encoding="utf-8")
    (folder / "scan.pdf").write_bytes(b"%PDF-1.4 broken")
    assert main(["index", "docs", "--quiet"]) == 0
    first = capsys.readouterr().out
    assert "(created)" in first
    assert "1 file(s) indexed, 0 unchanged, 0 removed, 1 unreadable" in first
    assert "unreadable: docs/scan.pdf:" in first
    assert main(["index", "docs", "--quiet"]) == 0
    second = capsys.readouterr().out
    assert "0 file(s) indexed, 1 unchanged, 0 removed, 1 unreadable" in second
    assert "0 record(s) written, 0 deleted" in second


def test_the_index_command_refuses_a_missing_folder_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SEARCH__SQLITE__PATH", str(tmp_path / "index.sqlite3"))
    assert main(["index", str(tmp_path / "nope")]) == 2
    error = capsys.readouterr().err.strip()
    assert error == f"callcenter index: not a folder: {tmp_path / 'nope'}"


def test_the_index_command_creates_the_ai_search_index_when_missing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    ai_search: AiSearchService,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEARCH__AZURE__ENDPOINT", ai_search.endpoint)
    monkeypatch.setenv("SEARCH__AZURE__KEY", ai_search.api_key)
    monkeypatch.setenv("SEARCH__AZURE__INDEX", "cli-trainings")
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "faq.md").write_text("# FAQ\n\n## Loan car?\n\nSeven days.\n", encoding="utf-8")
    assert main(["index", "docs", "--quiet"]) == 0
    assert "index AI Search cli-trainings (created)" in capsys.readouterr().out
    assert "vectors" in {f["name"] for f in ai_search.indexes["cli-trainings"].definition["fields"]}
    assert [d["question"] for d in ai_search.indexes["cli-trainings"].documents.values()] == ["Loan car?"]
    assert main(["index", "docs", "--quiet"]) == 0
    assert "nothing changed" in capsys.readouterr().out


def test_the_document_synthesis_comes_from_the_llm_when_one_is_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEARCH__SQLITE__PATH", str(tmp_path / "index.sqlite3"))
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "faq.md").write_text("# FAQ\n\n## Loan car?\n\nSeven days.\n", encoding="utf-8")
    with ScriptedLlmServer() as server:
        monkeypatch.setenv("LLM__FAST__BASE_URL", server.base_url)
        server.script.add_text("Contoso's FAQ about loan cars: how long you keep one.")
        assert main(["index", "docs", "--quiet"]) == 0
        request = server.requests[-1].body["messages"]
    assert request[0]["role"] == "system" and "Summarize" in request[0]["content"]
    assert "Seven days." in request[1]["content"]
    capsys.readouterr()

    async def synthesis() -> set[str]:
        index = SqliteKnowledgeIndex(tmp_path / "index.sqlite3")
        try:
            return {hit.synthesis for hit in await index.search("loan car")}
        finally:
            await index.close()

    assert asyncio.run(synthesis()) == {"Contoso's FAQ about loan cars: how long you keep one."}


async def test_indexing_the_working_folder_itself_still_removes_deleted_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.md").write_text("# A\n\n## Loan car?\n\nSeven days.\n", encoding="utf-8")
    (tmp_path / "b.md").write_text("# B\n\n## Theft?\n\nComplain first.\n", encoding="utf-8")
    index = SqliteKnowledgeIndex(tmp_path / ".index" / "s.sqlite3")  # hidden: not a document
    try:
        await index_folders(index, [Path(".")])
        (tmp_path / "b.md").unlink()
        report = await index_folders(index, [Path(".")])
        assert report.removed == ["b.md"]
        assert set(await index.sources()) == {"a.md"}
    finally:
        await index.close()
