"""Reading a company's documents as text with Markdown headings: Markdown and text as they are, PDF
(pypdf), Word .docx (python-docx, heading styles kept) and HTML (Beautiful Soup, h1-h6 kept).

A file that cannot be read raises `UnreadableDocument` with a one-line reason.
"""

from __future__ import annotations

import re
from pathlib import Path

SUFFIXES = frozenset({".md", ".markdown", ".txt", ".pdf", ".docx", ".html", ".htm"})
_HEADING_STYLE = re.compile(r"^(?:heading|titre)\s*(\d)$", re.IGNORECASE)
_BLANK_RUNS = re.compile(r"\n{3,}")


class UnreadableDocument(ValueError):
    """The file is not a readable document of its kind."""


def read_text(path: Path) -> str:
    """The document as plain text where a line starting with '#'s is a heading."""
    suffix = path.suffix.lower()
    try:
        if suffix in {".md", ".markdown", ".txt"}:
            text = _plain(path)
        elif suffix == ".pdf":
            text = _pdf(path)
        elif suffix == ".docx":
            text = _docx(path)
        elif suffix in {".html", ".htm"}:
            text = _html(path)
        else:
            raise UnreadableDocument(f"unsupported file type {suffix or '(none)'}")
    except UnreadableDocument:
        raise
    except Exception as exc:  # each library has its own errors for a broken file
        raise UnreadableDocument(f"{type(exc).__name__}: {exc}".strip().rstrip(":")) from exc
    text = _BLANK_RUNS.sub("\n\n", text.replace("\r\n", "\n")).strip()
    if not text:
        raise UnreadableDocument("no text in the file (a scanned PDF needs OCR first)")
    return text


def _plain(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        if b"\x00" in data:
            raise UnreadableDocument("binary content, not text") from None
        return data.decode("cp1252", errors="replace")


def _pdf(path: Path) -> str:
    from pypdf import PdfReader  # noqa: PLC0415 (only for PDFs)

    reader = PdfReader(path)
    if reader.is_encrypted:
        raise UnreadableDocument("the PDF is encrypted")
    return "\n\n".join((page.extract_text() or "").strip() for page in reader.pages)


def _docx(path: Path) -> str:
    import docx  # noqa: PLC0415 (python-docx, only for Word files)

    document = docx.Document(str(path))
    lines: list[str] = []
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        if not text:
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        level = 1 if style.lower() == "title" else None
        if match := _HEADING_STYLE.match(style):
            level = int(match.group(1)) + (1 if any(line.startswith("# ") for line in lines) else 0)
        lines.append(f"{'#' * min(level, 6)} {text}" if level else text)
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text.strip() for cell in row.cells))
    return "\n\n".join(lines)


def _html(path: Path) -> str:
    from bs4 import BeautifulSoup  # noqa: PLC0415 (only for HTML)

    soup = BeautifulSoup(_plain(path), "html.parser")
    for tag in soup(["script", "style", "nav", "header", "footer", "noscript", "template"]):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if soup.title:
        soup.title.decompose()
    for level in range(1, 7):
        for heading in soup.find_all(f"h{level}"):
            heading.replace_with(f"\n\n{'#' * level} {heading.get_text(' ', strip=True)}\n\n")
    for block in soup.find_all(["p", "li", "div", "tr", "br", "section", "article", "blockquote", "pre"]):
        block.insert_after("\n\n")
    body = "\n".join(line.strip() for line in soup.get_text().splitlines())
    if title and not body.lstrip().startswith("# "):
        body = f"# {title}\n\n{body}"
    return body
