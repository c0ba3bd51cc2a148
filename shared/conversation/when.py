"""A date and time in what the caller said: "ça s'est passé hier vers 15h" → yesterday 15:00.

:func:`shared.claim.values.parse_datetime` reads a date said alone; callers say it inside a sentence
("it happened yesterday around 3 pm, I was at home"). The words are classified (date words, time
words, words that may belong to a date, others), and spans of date words are handed to the parser,
the most promising first. Pure functions; the tables are immutable.
"""

from __future__ import annotations

import itertools
import re
from datetime import datetime
from enum import Enum
from typing import Final

from shared.claim.spoken_time import normalise_when
from shared.claim.values import ParseContext, parse_datetime

__all__ = ["consecutive_runs", "extract_datetime"]


def consecutive_runs(flags: list[bool]) -> list[tuple[int, int]]:
    """The (start, end) of each run of consecutive True flags."""
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for i, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            runs.append((start, i))
            start = None
    return runs


class _When(Enum):
    DATE = 3  # a date word: "yesterday", "lundi", "March", "last week", "3 days ago"
    TIME = 2  # a time-of-day word: "15h", "3 pm", "at 3", "morning", "midi"
    WEAK = 1  # may be part of a date: numbers, "at", "le", "last", "semaine"
    OTHER = 0


_DATE_WORDS: Final = frozenset(
    {
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "lundi", "mardi",
        "mercredi", "jeudi", "vendredi", "samedi", "dimanche", "january", "february", "march", "april",
        "june", "july", "august", "september", "october", "november", "december", "jan", "feb", "mar",
        "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "janvier", "février", "fevrier",
        "mars", "avril", "mai", "juin", "juillet", "août", "aout", "septembre", "octobre", "novembre",
        "décembre", "decembre", "janv", "févr", "fevr", "avr", "juil", "déc", "yesterday", "today",
        "tomorrow", "tonight", "hier", "demain", "aujourd'hui", "avant-hier", "après-demain",
        "apres-demain", "ago",
    }
)  # fmt: skip
_TIME_WORDS: Final = frozenset(
    {
        "morning", "afternoon", "evening", "night", "matin", "matinée", "matinee", "après-midi",
        "apres-midi", "aprem", "aprèm", "soir", "soirée", "soiree", "nuit", "noon", "midday", "midnight",
        "midi", "minuit", "o'clock", "oclock",
    }
)  # fmt: skip
_UNITS: Final = frozenset(
    {
        "week", "weeks", "weekend", "month", "months", "year", "years", "day", "days", "semaine",
        "semaines", "mois", "an", "ans", "année", "années", "annee", "annees", "jour", "jours", "week-end",
        "hour", "hours", "heure", "heures", "minute", "minutes", "min",
    }
)  # fmt: skip
_CONNECTORS: Final = frozenset(
    {
        "at", "à", "a", "on", "the", "of", "in", "le", "la", "les", "l'", "de", "du", "des", "d'", "au",
        "aux", "en", "this", "ce", "cet", "cette", "next", "last", "past", "previous", "coming", "around",
        "about", "towards", "vers", "approximately", "environ", "and", "et", "to", "after", "before",
        "moins", "il", "y", "by", "qui", "since", "depuis", "dans", "within", "pendant", "early", "late",
        "mid", "début", "debut", "fin", "or", "ou",
    }
)  # fmt: skip
_WEAK_WORDS: Final = frozenset(
    {
        *_CONNECTORS, *_UNITS, "prochain", "prochaine", "dernier", "dernière", "derniere", "passé",
        "passée", "passe", "passee", "vient", "half", "quarter", "quart", "demi", "demie", "pile", "o",
        "clock", "now", "maintenant", "am", "pm", "h", "st", "nd", "rd", "th", "er",
    }
)  # fmt: skip
_RELATIVE_MARKERS: Final = frozenset(
    {"last", "next", "this", "past", "coming", "previous", "dernier", "dernière", "derniere", "prochain",
     "prochaine", "passé", "passée", "passe", "passee", "ce", "cette", "cet", "la"}
)  # fmt: skip
_AT_WORDS: Final = frozenset({"at", "à", "a", "vers", "around", "about", "towards", "by"})
_IN_WORDS: Final = frozenset({"in", "within", "dans", "a"})  # "in 2 days", "dans 1 heure", "il y a 3 jours"
_HOUR_WORDS: Final = frozenset({"am", "pm", "h", "heure", "heures"})
_BEFORE_MONTH: Final = frozenset({"in", "of", "early", "late", "mid", "en", "de", "début", "fin"})
_NUMBER: Final = re.compile(r"\d{1,4}(?:st|nd|rd|th|er|e|ème|eme)?")
_CLOCK: Final = re.compile(r"\d{1,2}(?:h\d{0,2}|:\d{2}(?::\d{2})?|[ap]m)")
_WRITTEN_DATE: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}\S*|\d{1,2}/\d{1,2}(?:/\d{2,4})?|\d{1,2}\.\d{1,2}\.\d{2,4}"
)
_NO_WINDOW_START: Final = frozenset(
    {"and", "et", "qui", "vient", "of", "y", "o", "clock", "am", "pm", "h", "or"}
)
_NO_WINDOW_END: Final = _CONNECTORS
_WHEN_FILLERS: Final = frozenset(
    {
        "it", "was", "is", "it's", "its", "that", "that's", "c'était", "c'etait", "c'est", "ça", "ca",
        "s'est", "i", "think", "je", "crois", "pense", "maybe", "perhaps", "probably", "peut-être",
        "peut-etre", "um", "uh", "euh", "well", "so", "alors", "yes", "oui", "yeah", "happened", "arrivé",
        "produit", "please", "thanks", "merci", "right", "just", "then", "hmm", "ok", "okay",
    }
)  # fmt: skip
_MAX_WHEN_WORDS: Final = 12
_MAX_WHEN_GAP: Final = 4  # words between a date and a time said apart: "on Monday, I think, around noon"
_MAX_PARSE_ATTEMPTS: Final = 60  # each costs about a millisecond; enough for any real sentence
_MAX_BARE_WORDS: Final = 6  # a bare answer ("the 3rd", "le 5") is short


def _when_kind(tokens: list[str], i: int) -> _When:
    word = tokens[i].removeprefix("l'").removeprefix("d'") if len(tokens[i]) > 2 else tokens[i]
    before = tokens[i - 1] if i else ""
    after = tokens[i + 1] if i + 1 < len(tokens) else ""
    after_number = _NUMBER.fullmatch(before) is not None
    if word == "may":  # the month, not "it may have been"
        month = after_number or _NUMBER.fullmatch(after) or before in _BEFORE_MONTH
        kind = _When.DATE if month else _When.OTHER
    elif word in _DATE_WORDS or _WRITTEN_DATE.fullmatch(word):
        kind = _When.DATE
    elif word in _TIME_WORDS or _CLOCK.fullmatch(word) or (word in _HOUR_WORDS and after_number):
        kind = _When.TIME  # "15h", "morning", "3 pm", "10 heures"
    elif _NUMBER.fullmatch(word):
        kind = _When.TIME if before in _AT_WORDS else _When.WEAK  # "at 3", "vers 10"
    elif word in _UNITS and (
        before in _RELATIVE_MARKERS
        or after in _RELATIVE_MARKERS
        or after == "ago"
        or ((after_number or before in ("a", "an")) and i >= 2 and tokens[i - 2] in _IN_WORDS)
    ):
        kind = _When.DATE  # "last week", "la semaine dernière", "in 2 days", "il y a 3 jours"
    else:
        kind = _When.WEAK if word in _WEAK_WORDS else _When.OTHER
    return kind


def _parse_when(text: str, ctx: ParseContext) -> datetime | None:
    try:
        return parse_datetime(text, ctx)
    except ValueError:
        return None


def _trim(tokens: list[str], start: int, end: int) -> tuple[int, int]:
    while start < end and tokens[start] in _NO_WINDOW_START:
        start += 1
    while end > start and tokens[end - 1] in _NO_WINDOW_END:
        end -= 1
    return start, end


def _when_spans(tokens: list[str], kinds: list[_When]) -> list[tuple[int, ...]]:
    """Candidate spans (token indices), best first: most date/time words, then longest, then earliest."""
    runs = consecutive_runs([kind is not _When.OTHER for kind in kinds])
    spans: list[tuple[int, tuple[int, ...]]] = []
    for start, end in runs:
        for i in range(start, end):
            if tokens[i] in _NO_WINDOW_START:
                continue
            for j in range(i + 1, min(end, i + _MAX_WHEN_WORDS) + 1):
                strong = sum(kind in (_When.DATE, _When.TIME) for kind in kinds[i:j])
                if strong and tokens[j - 1] not in _NO_WINDOW_END:
                    spans.append((strong, tuple(range(i, j))))
    # A date and a time said apart: "yesterday, it was raining, around 3".
    for first, second in itertools.pairwise(runs):
        if second[0] - first[1] > _MAX_WHEN_GAP:
            continue
        parts = [range(*_trim(tokens, *first)), range(*_trim(tokens, *second))]
        sorts = [{kinds[i] for i in part} for part in parts]
        if {_When.DATE, _When.TIME}.isdisjoint(sorts[0] & sorts[1]) and all(
            sort & {_When.DATE, _When.TIME} for sort in sorts
        ):
            indices = (*parts[0], *parts[1])
            spans.append((sum(kinds[i] in (_When.DATE, _When.TIME) for i in indices), indices))
    spans.sort(key=lambda span: (-span[0], -len(span[1]), span[1][0]))
    return [indices for _, indices in spans]


def extract_datetime(text: str, ctx: ParseContext) -> datetime | None:
    """The date and time in a sentence ("it happened yesterday around 3 pm", "ça s'est passé hier vers
    15h", "le 3 mars à 10h"), resolved against ``ctx.now``, or None.

    Spans of date and time words are tried with the parser, those with more date and time words
    first, then the longer ones; a date and a time said a few words apart are tried together. Numbers
    alone ("3", "the 5th") are taken only when they are the whole answer, not in a longer sentence.
    """
    tokens = normalise_when(text).split()
    kinds = [_when_kind(tokens, i) for i in range(len(tokens))]
    for indices in _when_spans(tokens, kinds)[:_MAX_PARSE_ATTEMPTS]:
        found = _parse_when(" ".join(tokens[i] for i in indices), ctx)
        if found is not None:
            return found
    core = [token for token in tokens if token not in _WHEN_FILLERS]
    if not 0 < len(core) <= _MAX_BARE_WORDS:
        return None
    only_when_words = all(_when_kind(core, i) is not _When.OTHER for i in range(len(core)))
    if only_when_words and (any(_NUMBER.fullmatch(t) for t in core) or core in (["now"], ["maintenant"])):
        return _parse_when(" ".join(core), ctx)  # "the 3rd", "le 5", "now"
    return None


_EVENT_WORDS: Final = frozenset(
    {
        "happened", "happen", "occurred", "started", "began", "start", "noticed", "arrivé", "arrive",
        "passé", "passe", "commencé", "commence", "remarqué", "remarque", "produit", "eu", "lieu", "since",
        "depuis", "around", "about", "exactly", "environ", "first", "time", "fois", "première", "premiere",
    }
)  # fmt: skip
_MAX_OTHER_WORDS: Final = 1


def when_words_only(text: str) -> bool:
    """True when ``text`` says when and little else ("it happened yesterday at 3 pm", "c'était lundi
    vers 10h"): a clause that only dates something, not one that describes it with a date inside."""
    tokens = normalise_when(text).split()
    other = [
        token
        for i, token in enumerate(tokens)
        if _when_kind(tokens, i) is _When.OTHER and token not in _WHEN_FILLERS and token not in _EVENT_WORDS
    ]
    return len(other) <= _MAX_OTHER_WORDS
