"""Spoken-form normalisers (English and French) shared by the claim value parsers.

Speech-to-text and LLMs hand us values as words: "zéro six douze trente-quatre", "john dot smith at
example dot com", "the third of march". The helpers here turn such words into the written form the
real parsers (``phonenumbers``, ``email_validator``, ``dateparser``) understand. Everything is pure;
the module-level tables are immutable.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Final

__all__ = ["spoken_email_to_address", "spoken_phone_to_digits", "words_to_digits"]

# --- number words -------------------------------------------------------------------------------

_UNITS: Final = MappingProxyType(
    {
        "zero": 0, "zéro": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
        "seven": 7, "eight": 8, "nine": 9, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4,
        "cinq": 5, "sept": 7, "huit": 8, "neuf": 9,
    }
)  # fmt: skip
_TEENS: Final = MappingProxyType(
    {
        "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
        "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "dix": 10, "onze": 11,
        "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15, "seize": 16,
    }
)  # fmt: skip
_TENS: Final = MappingProxyType(
    {
        "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
        "eighty": 80, "ninety": 90, "vingt": 20, "trente": 30, "quarante": 40, "cinquante": 50,
        "soixante": 60,
    }
)  # fmt: skip
_ORDINAL_UNITS: Final = MappingProxyType(
    {
        "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
        "eighth": 8, "ninth": 9,
    }
)  # fmt: skip
_ORDINALS: Final = MappingProxyType(
    {
        **_ORDINAL_UNITS,
        "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
        "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
        "twentieth": 20, "thirtieth": 30, "premier": 1, "première": 1, "premiere": 1,
    }
)  # fmt: skip
_FRENCH_TENS: Final = frozenset({"vingt", "trente", "quarante", "cinquante", "soixante"})
_HUNDRED: Final = frozenset({"hundred", "cent", "cents"})
_THOUSAND: Final = frozenset({"thousand", "mille"})
_NUMBER_WORDS: Final = frozenset(
    {*_UNITS, *_TEENS, *_TENS, *_ORDINALS, *_HUNDRED, *_THOUSAND, "vingts", "et", "and"}
)


def _word(tokens: list[str], i: int) -> str:
    return tokens[i] if i < len(tokens) else ""


def _teen(tokens: list[str], i: int) -> tuple[int, int] | None:
    """10..19, including the French "dix-sept", "dix-huit", "dix-neuf"."""
    word = _word(tokens, i)
    if word == "dix" and _word(tokens, i + 1) in ("sept", "huit", "neuf"):
        return 10 + _UNITS[tokens[i + 1]], i + 2
    if word in _TEENS:
        return _TEENS[word], i + 1
    return None


def _quatre_vingt(tokens: list[str], i: int) -> tuple[int, int] | None:
    """French 80..99: "quatre-vingt", "quatre-vingt-deux", "quatre-vingt-dix-sept"."""
    if _word(tokens, i) != "quatre" or _word(tokens, i + 1) not in ("vingt", "vingts"):
        return None
    rest = _teen(tokens, i + 2)
    if rest is not None:
        return 80 + rest[0], rest[1]
    unit = _UNITS.get(_word(tokens, i + 2), 0)
    return (80 + unit, i + 3) if unit else (80, i + 2)


def _tens(tokens: list[str], i: int) -> tuple[int, int, bool] | None:
    """20..99 from a tens word: "twenty-one", "twenty-first", "vingt et un", "soixante-dix-huit"."""
    word = _word(tokens, i)
    if word not in _TENS:
        return None
    tens, nxt = _TENS[word], _word(tokens, i + 1)
    if word in _FRENCH_TENS and nxt == "et" and _word(tokens, i + 2) in ("un", "une", "onze"):
        return tens + (11 if tokens[i + 2] == "onze" else 1), i + 3, False
    if word == "soixante" and (rest := _teen(tokens, i + 1)) is not None:
        return 60 + rest[0], rest[1], False
    if nxt in _ORDINAL_UNITS:
        return tens + _ORDINAL_UNITS[nxt], i + 2, True
    unit = _UNITS.get(nxt, 0)
    return (tens + unit, i + 2, False) if unit else (tens, i + 1, False)


def _below_hundred(tokens: list[str], i: int) -> tuple[int, int, bool] | None:
    """Parse 0..99 starting at ``tokens[i]``: (value, next index, is_ordinal)."""
    word = _word(tokens, i)
    simple = _quatre_vingt(tokens, i) or _teen(tokens, i)
    if simple is None and word in _UNITS:
        simple = (_UNITS[word], i + 1)
    if simple is not None:
        return simple[0], simple[1], False
    if word in _ORDINALS:
        return _ORDINALS[word], i + 1, True
    return _tens(tokens, i)


def _below_thousand(tokens: list[str], i: int) -> tuple[int, int, bool] | None:
    small = _below_hundred(tokens, i)
    if _word(tokens, i) in _HUNDRED:
        small = (1, i, False)  # "cent" alone is 100; the multiplier below consumes the word
    if small is None or small[2] or _word(tokens, small[1]) not in _HUNDRED:
        return small
    value, j = small[0] * 100, small[1] + 1
    if _word(tokens, j) == "and" and _below_hundred(tokens, j + 1) is not None:
        j += 1
    rest = _below_hundred(tokens, j)
    return (value + rest[0], rest[1], rest[2]) if rest else (value, j, False)


def _number(tokens: list[str], i: int) -> tuple[int, int, bool] | None:
    """Parse a spoken number below one million: (value, next index, is_ordinal)."""
    head = _below_thousand(tokens, i)
    if _word(tokens, i) in _THOUSAND:
        head = (1, i, False)
    if head is None or head[2] or _word(tokens, head[1]) not in _THOUSAND:
        return head
    value, j = head[0] * 1000, head[1] + 1
    if _word(tokens, j) == "and" and _below_thousand(tokens, j + 1) is not None:
        j += 1
    rest = _below_thousand(tokens, j)
    return (value + rest[0], rest[1], rest[2]) if rest else (value, j, False)


def _split_hyphens(tokens: list[str]) -> list[str]:
    """Split "trente-quatre" / "vingt-et-un" / "twenty-one" but keep "après-midi" whole."""
    out: list[str] = []
    for token in tokens:
        parts = token.split("-")
        if len(parts) > 1 and all(part in _NUMBER_WORDS for part in parts):
            out.extend(parts)
        else:
            out.append(token)
    return out


def _is_month_abbreviation(tokens: list[str], i: int) -> bool:
    """ "sept" is September (not seven) when written next to a day number: "3 sept", "sept 3"."""
    if tokens[i] != "sept":
        return False
    before, after = _word(tokens, i - 1) if i else "", _word(tokens, i + 1)
    return before.isdigit() or after[:1].isdigit()


_TRAILING: Final = ",;:!?."


def words_to_digits(text: str) -> str:
    """Replace spoken numbers (cardinal and ordinal, English and French) by digits.

    >>> words_to_digits("the twenty-first of march at half past three")
    'the 21 of march at half past 3'
    """
    tokens: list[str] = []
    tails: list[str] = []  # punctuation after a word: "six," — a number never runs past it
    for token in text.split():
        bare = token.rstrip(_TRAILING) or token
        parts = _split_hyphens([bare])
        tokens += parts
        tails += [""] * (len(parts) - 1) + [token[len(bare) :]]
    out: list[str] = []
    i = 0
    while i < len(tokens):
        end = next((j + 1 for j in range(i, len(tokens)) if tails[j]), len(tokens))
        parsed = None if _is_month_abbreviation(tokens, i) else _number(tokens[:end], i)
        if parsed is None:
            out.append(tokens[i] + tails[i])
            i += 1
        else:
            out.append(str(parsed[0]) + tails[parsed[1] - 1])
            i = parsed[1]
    return " ".join(out)


# --- phone numbers ------------------------------------------------------------------------------

_PHONE_FILLERS: Final = frozenset(
    {
        "my", "number", "is", "it's", "its", "phone", "the", "um", "uh", "euh", "hum", "ben", "mon",
        "numéro", "numero", "de", "téléphone", "telephone", "c'est", "est", "le", "portable", "mobile",
        "tel", "tél", "call", "me", "on", "at", "au", "country", "code", "indicatif",
    }
)  # fmt: skip
_REPEAT: Final = MappingProxyType({"double": 2, "triple": 3})
_PHONE_TOKEN: Final = re.compile(r"\+|[0-9]+|[^\W\d_]+(?:['’-][^\W\d_]+)*")


def spoken_phone_to_digits(text: str) -> str:
    """Turn a spoken phone number into digits: "zero six twelve" → "0612", "plus thirty three" → "+33".

    Raises ValueError naming the first word that is neither a number nor a known filler.
    """
    tokens = _split_hyphens(_PHONE_TOKEN.findall(text.lower().replace("’", "'")))
    out: list[str] = []
    repeat = 1
    i = 0
    while i < len(tokens):
        word = tokens[i]
        if word in ("+", "plus"):
            out.append("+")
        elif word.isdigit():
            out.append(word * repeat)
            repeat = 1
        elif word in _REPEAT:
            repeat = _REPEAT[word]
        elif word in ("oh", "o"):
            out.append("0" * repeat)
            repeat = 1
        elif (parsed := _number(tokens, i)) is not None and not parsed[2]:
            out.append(str(parsed[0]) * repeat)
            repeat = 1
            i = parsed[1]
            continue
        elif word not in _PHONE_FILLERS and word not in ("and", "et"):
            raise ValueError(f"could not understand the word '{word}' in a phone number")
        i += 1
    return "".join(out)


# --- email addresses ----------------------------------------------------------------------------

_EMAIL_PHRASES: Final = (
    (re.compile(r"\b(?:tiret\s+(?:du\s+)?bas|under\s+score)\b"), " _ "),
    (re.compile(r"\b(?:at\s+sign|at\s+symbol|a\s+commercial|arrobase|arobase|arobas)\b"), " @ "),
)
_EMAIL_WORDS: Final = MappingProxyType(
    {
        "at": "@", "dot": ".", "point": ".", "underscore": "_", "dash": "-", "hyphen": "-",
        "tiret": "-", "minus": "-", "moins": "-", "plus": "+",
    }
)  # fmt: skip
_EMAIL_LEAD_IN: Final = frozenset(
    {"my", "email", "e-mail", "address", "is", "it's", "its", "c'est", "mon", "adresse", "mail", "est"}
)
_EMBEDDED_ADDRESS: Final = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")


def spoken_email_to_address(text: str) -> str:
    """Turn "jean point dupont arobase orange point fr" into "jean.dupont@orange.fr".

    A written address is returned untouched (minus surrounding punctuation); an address embedded in
    a sentence ("write to john@example.com please") is extracted.
    """
    stripped = text.strip().strip(".,;:!?<>\"'()")
    if "@" in stripped and not any(ch.isspace() for ch in stripped):
        return stripped
    embedded = _EMBEDDED_ADDRESS.search(stripped)
    if embedded is not None:
        return embedded.group(0).strip(".,;:!?<>\"'()")
    lowered = stripped.lower().replace("’", "'")
    for pattern, replacement in _EMAIL_PHRASES:
        lowered = pattern.sub(replacement, lowered)
    tokens = lowered.split()
    while len(tokens) > 1 and tokens[0] in _EMAIL_LEAD_IN:  # "my email is ...", "mon adresse c'est ..."
        tokens.pop(0)
    return "".join(_EMAIL_WORDS.get(token, token) for token in tokens)
