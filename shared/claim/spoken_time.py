"""Spoken date/time normalisation (English and French) in front of ``dateparser``.

``dateparser`` is good at dates ("le 3 mars", "in two days", "yesterday") but unreliable with spoken
times of day ("lundi 10h", "14h", "monday at 10", "half past three", "hier soir"). So the time of
day is pulled out here with our own grammar, the date part is resolved here when it is a weekday or
a bare day of the month, and only the rest is handed to ``dateparser``.

Conventions (documented because callers rely on them):

* parts of the day: morning 09:00, afternoon 15:00, evening / tonight / "ce soir" 19:00,
  night 22:00; "last night" is yesterday evening, like "hier soir";
* a bare hour from 1 to 6 without am/pm, part of the day or leading zero ("at 3", "à trois heures",
  "half past two") is read as the afternoon (15:00, 14:30): nobody calls a call centre about 3 a.m.;
* a bare weekday ("monday", "lundi", "next monday", "lundi prochain") is the next such day strictly
  after today; "last monday" / "lundi dernier" is the previous one strictly before today; a bare
  day of the month ("le 5", "the fifth") is the next such date strictly after today.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time, timedelta
from types import MappingProxyType
from typing import Final

from shared.claim.spoken import words_to_digits

__all__ = ["WhenParts", "normalise_when", "resolve_simple_date", "split_date_time"]

PART_OF_DAY_HOURS: Final = MappingProxyType({"morning": 9, "afternoon": 15, "evening": 19, "night": 22})
_PART = r"(?P<part>morning|afternoon|evening|night|matin(?:ée|ee)?|apr[eè]s[- ]?midi|soir(?:ée|ee)?|nuit)"
# (pattern, forced part of day, day offset implied when no other date is given)
_PART_PATTERNS: Final = (
    (re.compile(r"\btonight\b"), "evening", 0),
    (re.compile(r"\blast\s+night\b"), "evening", -1),
    (re.compile(rf"\b(?:this|ce|cet|cette)\s+{_PART}\b"), None, 0),
    (
        re.compile(
            rf"(?:\b(?:in\s+the|at|dans\s+la|dans\s+l'|du|au|de\s+la|de\s+l'|en|le|la)\s*|\bl')?\b{_PART}\b"
        ),
        None,
        None,
    ),
)

_MONTHS = (
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|janv|f[ée]v|mars|avr|mai|juin|juil|ao[uû]t"
    r"|d[ée]c)[a-zéû]*"
)
_PFX = r"(?:\b(?:at|à|a|vers|around|about|towards)\s+)?"
_AMPM = r"(?:\s*(?P<ap>am|pm)\b)?"
_OCLOCK = r"(?:\s*o'?\s*clock)"
_FR_MINUTES = (
    r"(?:\s*(?P<fr>et\s+demie?|et\s+quart|moins\s+le\s+quart"
    r"|moins\s+(?P<minus>\d{1,2})(?:\s*min(?:utes?)?)?))"
)
_TIME_PATTERNS: Final = (
    re.compile(
        rf"{_PFX}\b(?P<m>\d{{1,2}}|half|a\s+quarter|quarter)\s+(?:minutes?\s+)?(?P<dir>past|after|to|before)"
        rf"\s+(?P<h>\d{{1,2}}|noon|midnight){_OCLOCK}?{_AMPM}"
    ),
    re.compile(
        rf"{_PFX}\b(?P<h>\d{{1,2}})\s*(?:heures?|h)(?![a-zà-ÿ])"
        rf"(?:{_FR_MINUTES}|\s*(?P<mm>\d{{1,2}})(?:\s*min(?:utes?)?)?)?(?:\s*pile)?"
    ),
    re.compile(rf"{_PFX}\b(?P<h>\d{{1,2}})(?:[:.h\s](?P<mm>\d{{2}}))?\s*(?P<ap>am|pm)\b"),
    re.compile(rf"{_PFX}\b(?P<h>\d{{1,2}}){_OCLOCK}{_AMPM}"),
    re.compile(rf"{_PFX}\b(?P<h>\d{{1,2}}):(?P<mm>\d{{2}})(?::\d{{2}})?{_AMPM}"),
    re.compile(rf"{_PFX}\b(?:12\s+)?(?P<special>noon|midday|midi|midnight|minuit){_FR_MINUTES}?"),
    re.compile(
        rf"\b(?:at|à|vers|around|about)\s+(?P<h>\d{{1,2}})(?:\s+(?P<mm>\d{{2}}))?(?![\d/.:-])"
        rf"(?!\s*(?:st|nd|rd|th|er|of|de|jours?|days?|semaines?|weeks?|mois|months?|ans|years?)\b)"
        rf"(?!\s*{_MONTHS}\b)"
    ),
)
_RELATIVE_BEFORE: Final = re.compile(r"\b(?:dans|in|within|depuis|pendant|il\s+y\s+a)\s*$")
_SPECIAL_HOURS: Final = MappingProxyType({"noon": 12, "midday": 12, "midi": 12, "midnight": 0, "minuit": 0})
_QUARTERS: Final = MappingProxyType({"half": 30, "quarter": 15, "a quarter": 15})

_EDGE_WORDS: Final = frozenset(
    {"at", "à", "on", "le", "the", "of", "de", "du", "au", "et", "and", "vers", "around"}
)
_WEEKDAYS: Final = MappingProxyType(
    {
        "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
        "sunday": 6, "lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5,
        "dimanche": 6,
    }
)  # fmt: skip
_WD = (
    r"(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    r"|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)"
)
_WEEKDAY_FORM: Final = re.compile(
    rf"^(?:(?P<pre>next|coming|this|last|past|previous|ce|cette)\s+)?{_WD}"
    r"(?:\s+(?P<post>prochaine?|qui\s+vient|derni[eè]re?|pass[eé]e?|next\s+week|last\s+week"
    r"|de\s+la\s+semaine\s+(?:prochaine|derni[eè]re|pass[eé]e)))?$"
)
_DAY_OF_MONTH: Final = re.compile(r"^(?:the\s+|le\s+)?(?P<d>\d{1,2})(?:st|nd|rd|th|er)?$")
_WEEKDAY_WORD: Final = re.compile(rf"\b{_WD}\b")
_AM_PM_DOTS: Final = re.compile(r"\b([ap])\.\s?m\.?(?=\s|$)")
_PUNCTUATION: Final = re.compile(r"[,;!?()\"]|\.(?!\d)")


@dataclass(frozen=True, slots=True)
class WhenParts:
    """A spoken date/time split into its date text and its time of day."""

    date_text: str
    time_of_day: time | None
    day_offset: int | None  # implied by "tonight" (0), "last night" (-1)... when date_text is empty


_HALF_PASS: Final = re.compile(r"\b(half|quarter) pass\b")


def normalise_when(text: str) -> str:
    """Lower-case, unify punctuation and turn number words into digits."""
    lowered = text.lower().replace("’", "'").replace("`", "'")
    lowered = _AM_PM_DOTS.sub(r"\1m", lowered)
    lowered = _PUNCTUATION.sub(" ", lowered)
    lowered = _HALF_PASS.sub("half past", lowered)  # speech-to-text writes a spoken "half past" so
    return words_to_digits(" ".join(lowered.split()))


def _remove(text: str, match: re.Match[str]) -> str:
    return " ".join(f"{text[: match.start()]} {text[match.end() :]}".split())


def _part_name(word: str) -> str:
    if word.startswith(("mat", "morning")):
        return "morning"
    if word.startswith(("apr", "afternoon")):
        return "afternoon"
    if word.startswith(("soir", "evening")):
        return "evening"
    return "night"


def _extract_part_of_day(text: str) -> tuple[str, str | None, int | None]:
    for pattern, forced, offset in _PART_PATTERNS:
        match = pattern.search(text)
        if match is not None:
            part = forced or _part_name(match.group("part"))
            return _remove(text, match), part, offset
    return text, None, None


def _to_24h(hour: int, ampm: str | None, part: str | None, ambiguous: bool) -> int:
    """Resolve a spoken hour with am/pm, a part of the day, or the afternoon default for 1..6."""
    if ampm is not None:
        return hour % 12 + (12 if ampm == "pm" else 0)
    afternoon = (
        (part in ("afternoon", "evening") and 1 <= hour <= 11)
        or (part == "night" and 6 <= hour <= 11)
        or (part is None and ambiguous)
    )
    if afternoon:
        return hour + 12
    return 0 if part == "morning" and hour == 12 else hour


def _time_from_match(match: re.Match[str], part: str | None) -> time | None:
    groups = match.groupdict()
    ampm = groups.get("ap")
    hour_text = groups.get("h") or groups.get("special") or ""
    if hour_text in _SPECIAL_HOURS:
        hour = _SPECIAL_HOURS[hour_text]
    else:
        if ampm is not None and not 1 <= int(hour_text) <= 12:
            ampm = None  # "15 pm": the am/pm is noise
        ambiguous = not hour_text.startswith("0") and 1 <= int(hour_text) <= 6
        hour = _to_24h(int(hour_text), ampm, part, ambiguous)
    minutes = int(groups.get("mm") or 0)
    if groups.get("m") is not None:  # "half past", "ten to"
        offset = _QUARTERS.get(" ".join(groups["m"].split())) or int(groups["m"])
        if offset > 59:
            return None
        minutes = offset if groups["dir"] in ("past", "after") else -offset
    french = " ".join((groups.get("fr") or "").split())
    if french.startswith("et demi"):
        minutes = 30
    elif french == "et quart":
        minutes = 15
    elif french == "moins le quart":
        minutes = -15
    elif french.startswith("moins"):
        minutes = -int(groups["minus"])
    if hour > 23 or not -59 <= minutes <= 59:
        return None
    total = (hour * 60 + minutes) % (24 * 60)
    return time(total // 60, total % 60)


def _extract_time(text: str, part: str | None) -> tuple[str, time | None]:
    for pattern in _TIME_PATTERNS:
        for match in pattern.finditer(text):
            hour = match.groupdict().get("h") or ""
            if hour.isdigit() and _RELATIVE_BEFORE.search(text[: match.start("h")]):
                continue  # "dans 2 heures", "il y a 3h": a duration, not a time of day
            found = _time_from_match(match, part)
            if found is not None:
                return _remove(text, match), found
    return text, None


def _strip_edges(text: str) -> str:
    words = text.split()
    while words and words[0] in _EDGE_WORDS:
        words.pop(0)
    while words and words[-1] in _EDGE_WORDS:
        words.pop()
    return " ".join(words)


def split_date_time(normalised: str) -> WhenParts:
    """Split a normalised spoken date/time into its date text and its time of day."""
    text, part, offset = _extract_part_of_day(normalised)
    text, found = _extract_time(text, part)
    if found is None and part is not None:
        found = time(PART_OF_DAY_HOURS[part])
    return WhenParts(_strip_edges(text), found, offset)


def _next_day_of_month(day: int, today: date) -> date | None:
    year, month = today.year, today.month
    for _ in range(13):
        try:
            candidate = date(year, month, day)
        except ValueError:
            candidate = None
        if candidate is not None and candidate > today:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _weekday(match: re.Match[str], today: date) -> date:
    target = _WEEKDAYS[match.group("wd")]
    pre = match.group("pre") or ""
    post = " ".join((match.group("post") or "").split())
    if post in ("next week", "de la semaine prochaine"):
        return today - timedelta(days=today.weekday()) + timedelta(days=7 + target)
    if post in ("last week",) or post.startswith("de la semaine"):
        return today - timedelta(days=today.weekday()) + timedelta(days=target - 7)
    if pre in ("last", "past", "previous") or post.startswith(("dern", "pass")):
        return today - timedelta(days=(today.weekday() - target - 1) % 7 + 1)
    if pre in ("this", "ce", "cette"):
        return today + timedelta(days=(target - today.weekday()) % 7)
    return today + timedelta(days=(target - today.weekday() - 1) % 7 + 1)


def resolve_simple_date(date_text: str, today: date) -> date | None:
    """Resolve weekday forms and bare days of the month that ``dateparser`` gets wrong."""
    text = date_text
    if _WEEKDAY_WORD.search(text) and re.search(r"\d", text):
        text = _strip_edges(_WEEKDAY_WORD.sub(" ", text))  # "lundi 30": the weekday is redundant
    weekday = _WEEKDAY_FORM.match(text)
    if weekday is not None:
        return _weekday(weekday, today)
    day_of_month = _DAY_OF_MONTH.match(text)
    if day_of_month is not None:
        return _next_day_of_month(int(day_of_month.group("d")), today)
    return None
