"""Spoken numbers: the project's hand grammar (`words_to_digits`) against text2num (`alpha2digit`).

The phrases are the project's phrase tests (tests/claim/test_spoken.py, the phone and date phrasings
of the form agent's tests) plus the number shapes the scenarios use. A reading is right when its
digits, in order, are the expected ones (ordinal suffixes such as "3rd" / "1er" count as the number),
so neither side loses for a convention. Prints one line per grammar and the phrases they disagree on.

    .venv/bin/python -m bench.spoken_numbers
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from shared.claim.spoken import words_to_digits

PHRASES: tuple[tuple[str, str, str], ...] = (
    # (language, phrase, expected reading with digits)
    ("en", "the third of march", "the 3 of march"),
    ("en", "the twenty-first of march", "the 21 of march"),
    ("en", "thirty first", "31"),
    ("fr", "le premier décembre", "le 1 décembre"),
    ("fr", "quinze heures trente", "15 heures 30"),
    ("fr", "vingt et une heures", "21 heures"),
    ("fr", "soixante et onze", "71"),
    ("fr", "soixante-dix-huit", "78"),
    ("fr", "quatre-vingt-dix-sept", "97"),
    ("fr", "quatre-vingts", "80"),
    ("fr", "deux mille vingt-six", "2026"),
    ("en", "two thousand and twenty six", "2026"),
    ("fr", "sept heures", "7 heures"),
    ("fr", "3 sept 2025", "3 sept 2025"),
    ("fr", "après-midi", "après-midi"),
    ("en", "one hundred", "100"),
    ("en", "zero six twelve thirty four fifty six seventy eight", "06 12 34 56 78"),
    ("en", "zero six, twelve, thirty-four, fifty-six, seventy-eight", "06 12 34 56 78"),
    ("en", "plus three three six twelve thirty four fifty six seventy eight", "+ 33 6 12 34 56 78"),
    ("en", "four one five, five five five, zero one three two", "4 1 5 5 5 5 0 1 3 2"),
    ("en", "nine one seven five five five zero one two three", "9 1 7 5 5 5 0 1 2 3"),
    ("fr", "zéro six douze trente-quatre cinquante-six soixante-dix-huit", "06 12 34 56 78"),
    ("fr", "plus trois trois six douze trente-quatre cinquante-six soixante-dix-huit", "+ 3 3 6 12 34 56 78"),
    ("fr", "zéro sept quatre-vingt-dix-huit soixante-seize cinquante-quatre trente-deux", "07 98 76 54 32"),
    ("fr", "zéro six, vingt, vingt et un, vingt-deux, vingt-trois", "06 20 21 22 23"),
    ("en", "it happened on March third at nine in the morning", "it happened on March 3 at 9 in the morning"),
    ("en", "yesterday at three pm", "yesterday at 3 pm"),
    ("en", "on the twelfth of March at half past four", "on the 12 of March at half past 4"),
    ("fr", "c'était le trois mars à neuf heures", "c'était le 3 mars à 9 heures"),
    ("fr", "hier à dix-huit heures", "hier à 18 heures"),
    ("fr", "lundi prochain à quinze heures", "lundi prochain à 15 heures"),
    ("en", "A B C four two seven", "A B C 4 2 7"),
    ("en", "kwame hyphen mensah eighty four", "kwame hyphen mensah 84"),
    ("en", "twenty twenty-six", "20 26"),
)

_ORDINAL = re.compile(r"(?<=\d)(?:st|nd|rd|th|er|ère|e|ème)\b")
_DIGIT_RUNS = re.compile(r"\d+")


def _words(text: str) -> list[str]:
    return [word for word in re.split(r"[\s,.]+", _DIGIT_RUNS.sub(" ", text).lower()) if word]


def _digits(text: str) -> str:
    return "".join(_DIGIT_RUNS.findall(text))


def _same(got: str, expected: str) -> bool:
    """Same words, and the same digits in the same order (ignoring how digits are grouped)."""
    got = _ORDINAL.sub("", got)
    return _words(got) == _words(expected) and _digits(got) == _digits(expected)


def _hand(phrase: str, _lang: str) -> str:
    return words_to_digits(phrase.lower() if phrase.islower() else phrase)


def _text2num() -> Callable[[str, str], str] | None:
    try:
        from text_to_num import alpha2digit  # type: ignore[import-untyped]  # noqa: PLC0415
    except ImportError:
        return None

    def read(phrase: str, lang: str) -> str:
        return str(alpha2digit(phrase, lang))

    return read


def main() -> None:
    grammars: dict[str, Callable[[str, str], str] | None] = {
        "hand grammar (words_to_digits)": _hand,
        "text2num (alpha2digit)": _text2num(),
    }
    readings: dict[str, list[str]] = {}
    for name, read in grammars.items():
        if read is None:
            print(f"{name}: not installed (pip install text2num)")
            continue
        started = time.perf_counter()
        readings[name] = [read(phrase, lang) for lang, phrase, _ in PHRASES]
        elapsed_us = (time.perf_counter() - started) / len(PHRASES) * 1e6
        right = sum(_same(got, want) for got, (_, _, want) in zip(readings[name], PHRASES, strict=True))
        print(f"{name}: {right}/{len(PHRASES)} phrases read right ({elapsed_us:.0f} µs per phrase)")
    if len(readings) == len(grammars):
        hand, t2n = readings.values()
        for (lang, phrase, want), a, b in zip(PHRASES, hand, t2n, strict=True):
            if _same(a, want) != _same(b, want):
                print(f"  [{lang}] {phrase!r}: hand {a!r} / text2num {b!r} (expected {want!r})")


if __name__ == "__main__":
    main()
