"""A person's name in what the caller said: "my name is John Smith, that's S M I T H" → "John Smith".

Pure functions over a speech-to-text transcript (English and French). Lead-ins ("my name is", "je
m'appelle", "c'est", "Mr") and trailing chatter ("and I'm calling about...", "merci") are dropped,
letters spelled out after the name confirm or correct it, and the result is title-cased.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import Final

from shared.conversation.intents import fold, is_intent_only

__all__ = ["MAX_NAME_WORDS", "extract_name", "title_case_name"]

MAX_NAME_WORDS: Final = 6
_SIMILAR_ENOUGH: Final = 0.6  # a spelled word this close to a said word replaces it ("smyth" / "s m i t h")

_LETTER_DOT: Final = re.compile(r"(?<![^\W\d_])([^\W\d_])\.(?=\s|$|[^\W\d_]\.)")  # "S. M. I." → "S M I"
_CLAUSE_BREAK: Final = re.compile(
    r"[,;:!?…]+|\.(?=\s|$)|\s[-–—]+\s|\s(?:and|et|but|mais)\s+(?=(?:my|mon|ma)\s)", re.IGNORECASE
)
_EDGE_PUNCTUATION: Final = '"“”«»()[]{}.,;:!?*'
_INTERJECTIONS: Final = re.compile(
    r"^(?:yes|yeah|yep|sure|ok|okay|oui|ouais|well|so|alors|bon|bah|euh|heu|um|uh|er|erm|hum|hmm|oh|ah"
    r"|hello|hi|hey|bonjour|bonsoir|allo|of course|bien sur|d'accord|d accord|voila|right|alright"
    r"|good (?:morning|afternoon|evening)|sorry|pardon|please|thanks|thank you|merci)(?= |$)"
)
_NAME_WORD: Final = r"(?:(?:full|first|last|family|given|complete|middle) )?(?:name|names|surname)"
_STATEMENTS: Final = re.compile(
    r"^(?:c'est moi|c est moi|it's me|it is me|this is me|that's me"
    r"|"
    rf"(?:(?:my|our|the|his|her|your) )?{_NAME_WORD}(?:'s| is| was| would be| it's)?"
    r"|(?:(?:mon|le|son|notre|votre) )?(?:nom|prenom|nom de famille|nom complet)(?: (?:c'est|c est|est|:))?"
    r"|moi c'est|moi c est|je m'appelle|je m appelle|je me nomme|je me prenomme|je suis|ici|voici"
    r"|i'm|i am|im|this is|it's|it is|its|that's|that is|call me|you can call me|it'd be|it would be"
    r"|c'est|c est|ce serait|ca serait|ce sera"
    r")(?= |$)"
)
_TITLES: Final = re.compile(
    r"^(?:mr|mrs|ms|miss|mister|missus|dr|doctor|monsieur|madame|mademoiselle|mme|mlle)(?= |$)"
)
_SPELLING_LEAD_INS: Final = re.compile(
    r"^(?:(?:that's|that is|it's|it is|its|c'est|c est|so|and|et|i spell it|spelled|spelt|spelling"
    r"|spelled out|as in|ca s'ecrit|ca s ecrit|s'ecrit|ca s'epelle|je l'epelle|je vous l'epelle"
    r"|je vous epelle|epele"
    r"|letter by letter|lettre par lettre|with|avec) )+"
)
_STOP_WORDS: Final = frozenset(
    {
        "and", "et", "but", "mais", "i", "i'm", "im", "i've", "je", "j'ai", "j'appelle", "who", "qui",
        "calling", "because", "parce", "car", "please", "thanks", "thank", "merci", "svp", "s'il",
        "that's", "that", "spelled", "spelt", "spelling", "ca", "it's", "its", "is", "was", "my", "mon",
        "ma", "from", "about", "regarding", "for", "pour", "with", "avec", "speaking", "here", "ici",
        "c'est", "yes", "no", "oui", "non", "okay", "ok",
    }
)  # fmt: skip
_PARTICLES: Final = frozenset(
    {"de", "du", "des", "van", "von", "der", "den", "da", "di", "del", "della", "dos", "das", "ter", "ten"}
)
_ELIDED_PARTICLES: Final = frozenset({"d", "l"})


def _is_letter(token: str) -> bool:
    return len(token) == 1 and token.isalpha()


def _expand_spelled(token: str) -> list[str]:
    """ "S-M-I-T-H" and "s.m.i.t.h" are five letters; "Jean-Yves" stays one word."""
    parts = [part for part in re.split(r"[-.]", token) if part]
    if len(parts) > 1 and all(_is_letter(part) for part in parts):
        return parts
    return [token]


def _tokens(clause: str) -> list[str]:
    out: list[str] = []
    for raw in clause.split():
        token = raw.strip(_EDGE_PUNCTUATION)
        if token:
            out.extend(_expand_spelled(token))
    return out


def _strip(tokens: list[str], pattern: re.Pattern[str]) -> tuple[list[str], bool]:
    match = pattern.match(" ".join(fold(token) for token in tokens))
    if match is None:
        return tokens, False
    return tokens[len(match.group(0).split()) :], True


def _strip_lead_ins(tokens: list[str]) -> tuple[list[str], str]:
    """Drop "well", "yes", then "my name is" / "je m'appelle" / "c'est", then "Mr" / "Madame".

    Also says which part of the name the clause announces: "first" ("my first name is"), "last"
    ("my last name is", "nom de famille") or "" (the whole name, or not said).
    """
    stripped = True
    while stripped and tokens:
        tokens, stripped = _strip(tokens, _INTERJECTIONS)
    part = ""
    while tokens:
        folded = " ".join(fold(token) for token in tokens)
        match = _STATEMENTS.match(folded)
        if match is None:
            break
        said = match.group(0)
        if re.search(r"\b(?:first|given|prenom)\b", said):
            part = "first"
        elif re.search(r"\b(?:last|family|surname|nom de famille)\b", said):
            part = "last"
        tokens = tokens[len(said.split()) :]
    title = True
    while title and tokens:
        tokens, title = _strip(tokens, _TITLES)
    return tokens, part


def _spelled(tokens: list[str]) -> str | None:
    """The word spelled by ``tokens`` ("that's s m i t h" → "smith"), or None when they spell nothing."""
    folded = " ".join(fold(token) for token in tokens)
    lead = _SPELLING_LEAD_INS.match(folded)
    letters = tokens[len(lead.group(0).split()) :] if lead else tokens
    if len(letters) >= 2 and all(_is_letter(letter) for letter in letters):
        return "".join(letters).lower()
    if len(letters) == 1 and len(letters[0]) >= 2 and letters[0].isalpha() and letters[0].isupper():
        return letters[0].lower()  # speech-to-text writes spelled letters as one word: "SMYTH"
    return None


def _split_clause(tokens: list[str]) -> tuple[list[str], str | None]:
    """The name words of a clause and the word spelled after them, if any."""
    words: list[str] = []
    for i, token in enumerate(tokens):
        if fold(token) in _STOP_WORDS or any(ch.isdigit() for ch in token):
            return words, _spelled(tokens[i:])
        if _is_letter(token) and len(tokens) - i >= 2 and _spelled(tokens[i:]) is not None:
            return words, _spelled(tokens[i:])  # "smith s m i t h"
        words.append(token)
    return words, None


def _letters_only(word: str) -> str:
    return "".join(ch for ch in fold(word) if ch.isalpha())


def _merge_spelling(words: list[str], spelled: str) -> list[str]:
    """A spelled word confirms the said word it resembles, corrects it, or adds a missing word."""
    if not words:
        return [spelled]
    if any(_letters_only(word) == spelled for word in words):
        return words
    scores = [SequenceMatcher(None, _letters_only(word), spelled).ratio() for word in words]
    best = max(range(len(words)), key=lambda i: (scores[i], i))
    if scores[best] >= _SIMILAR_ENOUGH:
        return [*words[:best], spelled, *words[best + 1 :]]
    return [*words, spelled]


def _combine(words: list[str], more: list[str], part: str) -> list[str]:
    """Fold a later clause into the name: "my first name is Anna, my last name is Kowalski" → both;
    "Smith. John Smith." → the fuller repeat; anything else after the name is chatter."""
    if not words or not more:
        return words or more
    said, new = {_letters_only(word) for word in words}, {_letters_only(word) for word in more}
    if part and said.isdisjoint(new):
        return [*more, *words] if part == "first" else [*words, *more]
    if said < new and len(more) <= MAX_NAME_WORDS:
        return more
    return words


def _capitalise(part: str) -> str:
    return part[:1].upper() + part[1:].lower()


def title_case_name(name: str) -> str:
    """ "jean-yves le gall" → "Jean-Yves Le Gall"; "o'brien" → "O'Brien"; "charles de gaulle" →
    "Charles de Gaulle". Words already in mixed case ("McDonald") are kept as they are."""
    out: list[str] = []
    for index, word in enumerate(name.split()):
        if not (word.islower() or word.isupper()):
            out.append(word)
        elif index and word.lower() in _PARTICLES:
            out.append(word.lower())
        else:
            head, sep, tail = word.replace("’", "'").partition("'")
            if sep and tail and index and head.lower() in _ELIDED_PARTICLES:
                out.append(f"{head.lower()}'{'-'.join(_capitalise(p) for p in tail.split('-'))}")
                continue
            pieces = ["-".join(_capitalise(p) for p in piece.split("-")) for piece in (head, tail)]
            out.append("'".join(pieces) if sep else pieces[0])
    return " ".join(out)


_INTRODUCTION = re.compile(
    r"\b(my name is|my name's|the name is|i am called|je m'appelle|je m’appelle|mon nom est|mon nom c'est)\b",
    re.IGNORECASE,
)


def extract_name(text: str) -> str | None:
    """The person's name said in ``text``, title-cased, or None.

    "my name is John Smith" → "John Smith"; "it's Smith, S M I T H" → "Smith"; "S M I T H" → "Smith";
    "je m'appelle jean dupont" → "Jean Dupont"; "john smith, that's s m i t h" → "John Smith".
    """
    if is_intent_only(text):
        return None
    introduced = _INTRODUCTION.search(text)
    if introduced:  # "excuse me, my name is John Smith": the name follows the introduction
        text = text[introduced.start() :]
    clauses = _CLAUSE_BREAK.split(_LETTER_DOT.sub(r"\1", text.replace("’", "'")))
    words: list[str] = []
    spellings: list[str] = []
    for clause in clauses:
        tokens, part = _strip_lead_ins(_tokens(clause))
        spelled = _spelled(tokens)
        if spelled is not None:
            spellings.append(spelled)
            continue
        clause_words, trailing = _split_clause(tokens)
        words = _combine(words, clause_words[:MAX_NAME_WORDS], part)
        if trailing is not None:
            spellings.append(trailing)
    for spelled in spellings:
        words = _merge_spelling(words, spelled)
    words = [word for word in words if any(ch.isalpha() for ch in word)]
    if not words:
        return None
    return title_case_name(" ".join(words))
