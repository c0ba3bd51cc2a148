"""Split streamed text into speakable sentences as soon as each one is complete.

A sentence ends at `.`, `!`, `?` or `…` followed by whitespace, or at a line break (list items),
except after an abbreviation (Mr., Dr., e.g., M., Mme...), inside a number (3.5, 1,000.25), after a
list number ("1. First"), or inside an e-mail address or a domain (john.smith@example.com).
"""

from __future__ import annotations

import re

FIRST_CLAUSE_WORDS = 6  # a comma after this many words of the first sentence: the clause is said first

ABBREVIATIONS = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "approx",
        "no",
        "inc",
        "ltd",
        "co",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "m",
        "mme",
        "mlle",
        "me",
        "pr",
        "cf",
        "env",
        "p.ex",
        "n°",
        "tél",
        "tel",
        "av",
        "bd",
    }
)
_TERMINATORS = ".!?…"
_WORD_BEFORE = re.compile(r"([\w.°]+)$")
MIN_SENTENCE_CHARS = 2


def _is_boundary(text: str, index: int) -> bool:
    """Is the terminator at `index` (followed by whitespace) the end of a sentence?"""
    char = text[index]
    if char in "!?…":
        return True
    match = _WORD_BEFORE.search(text[:index])
    word = match.group(1) if match else ""
    if not word:
        return True
    if word.isdigit() and len(word) <= 2 and _starts_line(text, index - len(word)):
        return False  # "1. First item": a list number, not an end
    if word.casefold().rstrip(".") in ABBREVIATIONS:
        return False
    return not (len(word) == 1 and word.isalpha() and word.isupper())  # initials: "J. Smith"


def _starts_line(text: str, index: int) -> bool:
    before = text[:index].rstrip(" \t")
    return not before or before.endswith("\n")


class SentenceSplitter:
    """Feed text deltas; get back every sentence completed so far. Call `flush()` at the end.

    With `first_clause_words`, the first piece given back may be a clause: a first sentence that has
    a comma after at least that many words is given up to the comma, so its audio can start before
    the model finished the sentence (the comma is kept: the voice ends it as a clause, not as a
    sentence). Later pieces are whole sentences."""

    def __init__(self, *, first_clause_words: int = 0) -> None:
        self._buffer = ""
        self._clause_words = first_clause_words
        self._given = False  # a piece was given back

    def feed(self, delta: str) -> list[str]:
        self._buffer += delta
        sentences: list[str] = []
        start = 0
        index = 0
        text = self._buffer
        while index < len(text) - 1:
            char = text[index]
            following = text[index + 1]
            cut: int | None = None
            ends = char == "\n" or (char in _TERMINATORS and following.isspace())
            ends = ends and (char == "\n" or _is_boundary(text, index))
            if ends or (char == "," and following.isspace() and self._first_clause(text[start:index])):
                cut = index + 1
            if cut is not None:
                sentence = text[start:cut].strip()
                if len(sentence) >= MIN_SENTENCE_CHARS:
                    sentences.append(sentence)
                    self._given = True
                    start = cut
                elif not sentence:
                    start = cut
            index += 1
        self._buffer = text[start:]
        return sentences

    def _first_clause(self, before: str) -> bool:
        return bool(self._clause_words) and not self._given and len(before.split()) >= self._clause_words

    def flush(self) -> list[str]:
        rest, self._buffer = self._buffer.strip(), ""
        return [rest] if rest else []


def clean_for_speech(sentence: str) -> str:
    """Drop markdown a model may emit despite the rules (bullets, emphasis, headings)."""
    cleaned = re.sub(r"^\s*(?:[-*•#]+|\d+[.)])\s+", "", sentence)
    cleaned = re.sub(r"[*_`#]{1,3}", "", cleaned)
    return cleaned.strip()
