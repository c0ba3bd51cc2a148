"""Everything one caller utterance gives for the claim, whichever field was asked.

Callers answer more than the question: "I'm John Smith, my e-mail is john at example dot com", a
date while describing what happened, a phone number before it is asked. The utterance is cut into
clauses; typed values (e-mail, phone, date) are looked for in the whole of it, a name when it is asked
or introduced ("my name is"), and free text from the clauses no other field took. Pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from shared.claim.schema import ClaimField
from shared.claim.values import ParseContext
from shared.conversation.understanding import extract_value, is_intent_only, is_name_field
from shared.conversation.when import when_words_only

__all__ = ["Found", "describes_need", "field_hint", "read_utterance"]

TYPED: Final = ("email", "phone_number", "datetime")
_NEED_HINTS: Final = (
    "description", "issue", "problem", "info", "details", "incident", "reason", "subject", "what happen",
    "need", "request", "motif", "demande", "probleme", "problème", "sinistre", "symptom", "damage",
    "panne", "besoin", "happened", "case",
)  # fmt: skip
_CLAUSE_BREAK: Final = re.compile(
    r"(?<=[.!?;])\s+|,\s+(?=(?:and |et |but |mais |so |donc )?(?:my|mon|ma|mes|it|it's|i|i'm|je|j'ai|c'est"
    r"|the|le|la|les|this|that|there|il|elle|we|nous|on|you|vous|please|call|reach)\b)|\s+(?:and|et)\s+(?=(?:my|mon|ma|mes)\s)"
    r"|\s+(?=(?:my name is|my name's|je m'appelle|mon nom est)\b)",
    re.IGNORECASE,
)
_INTRODUCTION: Final = re.compile(
    r"\b(?:my name is|my name's|the name is|name's|i am called|je m'appelle|je m’appelle|mon nom est"
    r"|mon nom c'est|moi c'est)\b",
    re.IGNORECASE,
)
_MIN_NEED_WORDS: Final = 3
# "I'd like to report a claim" says why they call, not what happened: the question is still asked.
_GENERIC_NEED: Final = re.compile(
    r"(?i)^(?:i(?:'d| would)? (?:like|want|need|wish)|i'm calling|i am calling|je (?:voudrais|veux|souhaite"
    r"|souhaiterais|dois|vous appelle)|j'appelle)\s+(?:to\s+|pour\s+)?(?:report|declare|make|file|open"
    r"|déclarer|signaler|faire|ouvrir)\s+(?:a|an|un|une)\s+(?:new\s+|nouveau\s+|nouvelle\s+)?\w+$"
)
# A date said in passing is taken only with a time of day ("this morning" is not 09:00).
_CLOCK_HINT: Final = re.compile(
    r"\d|\b(?:noon|midnight|midday|o'clock|midi|minuit|heures?|am|pm|a\.m\.|p\.m\.|one|two|three|four|five"
    r"|six|seven|eight|nine|ten|eleven|twelve|une|deux|trois|quatre|cinq|sept|huit|neuf|dix|onze|douze"
    r"|quinze|vingt)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Found:
    field: ClaimField
    value: str


def field_hint(claim_field: ClaimField) -> str:
    """What the understanding functions are told about a field (its name and description)."""
    hint = f"{claim_field.name} {claim_field.description or ''}".strip()
    return f"{claim_field.name} name" if is_name_field(hint) else claim_field.name


def describes_need(claim_field: ClaimField) -> bool:
    """A free-text field for what the caller needs or what happened: their first words fill it."""
    words = f"{claim_field.name.replace('_', ' ')} {claim_field.description or ''}".lower()
    hint = f"{claim_field.name} {claim_field.description or ''}"
    return (
        str(claim_field.type) == "text"
        and not is_name_field(hint)
        and any(need in words for need in _NEED_HINTS)
    )


def _clauses(text: str) -> list[str]:
    return [clause.strip() for clause in _CLAUSE_BREAK.split(text) if clause and clause.strip()]


def _value(claim_field: ClaimField, text: str, ctx: ParseContext) -> str | None:
    return extract_value(str(claim_field.type), text, ctx, name_hint=field_hint(claim_field))


def _typed(
    fields: Sequence[ClaimField], claim: Mapping[str, str | None], asked: ClaimField | None, overwrite: bool
) -> list[ClaimField]:
    """Typed fields in the order a value goes to them: the asked one, the missing ones, then (when
    the caller volunteers it) the filled ones."""
    ordered = [asked] if asked is not None and str(asked.type) in TYPED else []
    ordered += [f for f in fields if str(f.type) in TYPED and not claim.get(f.name) and f not in ordered]
    if overwrite:
        ordered += [f for f in fields if str(f.type) in TYPED and f not in ordered]
    return ordered


def _name(  # noqa: PLR0917 (one call site, the reader's own state)
    text: str,
    clauses: list[str],
    taken: set[int],
    names: list[ClaimField],
    claim: Mapping[str, str | None],
    ctx: ParseContext,
    asked: ClaimField | None,
) -> list[Found]:
    """A name, when one is asked or introduced ("my name is"); its clauses are then taken."""
    for claim_field in names:
        if claim_field is asked or (not claim.get(claim_field.name) and _INTRODUCTION.search(text)):
            said = [c for i, c in enumerate(clauses) if i not in taken]
            value = _value(claim_field, " ".join(said), ctx) if said else None
            if value is None:
                return []
            introduced = [i for i, c in enumerate(clauses) if _INTRODUCTION.search(c)]
            taken.update(introduced or (i for i in range(len(clauses)) if i not in taken))
            return [Found(claim_field, value)]
    return []


def read_utterance(
    text: str,
    fields: Sequence[ClaimField],
    claim: Mapping[str, str | None],
    ctx: ParseContext,
    *,
    asked: ClaimField | None,
    opening: bool = False,
) -> list[Found]:
    """The values ``text`` gives, the asked field's first. ``opening``: the caller's first words,
    which fill a field describing their need; without a question asked, typed values said again
    replace the ones noted (the caller corrects or completes them)."""
    if is_intent_only(text):
        return []
    clauses = _clauses(text)
    found: list[Found] = []
    taken: set[int] = set()  # clauses that carried a typed value or a name
    kinds_done: set[str] = set()
    overwrite = asked is None and not opening
    for claim_field in _typed(fields, claim, asked, overwrite):
        kind = str(claim_field.type)
        if kind in kinds_done:
            continue
        rest = " ".join(c for i, c in enumerate(clauses) if i not in taken) if kind == "datetime" else text
        if kind == "datetime" and claim_field is not asked and not _CLOCK_HINT.search(rest):
            continue
        value = _value(claim_field, rest, ctx)
        if value is None:
            continue
        kinds_done.add(kind)
        if claim.get(claim_field.name) != value:
            found.append(Found(claim_field, value))
        for i, clause in enumerate(clauses):
            if _value(claim_field, clause, ctx) == value and (kind != "datetime" or when_words_only(clause)):
                taken.add(i)
    names = [f for f in fields if str(f.type) == "text" and is_name_field(field_hint(f))]
    found += _name(text, clauses, taken, names, claim, ctx, asked)
    texts = [f for f in fields if str(f.type) == "text" and f not in names]
    target = asked if asked in texts else None
    if target is None:  # what happened, said with (or instead of) the answer asked
        target = next((f for f in texts if not claim.get(f.name) and describes_need(f)), None)
    if target is not None:
        rest = " ".join(c for i, c in enumerate(clauses) if i not in taken)
        value = _value(target, rest, ctx) if rest else None
        least = _MIN_NEED_WORDS if opening else _MIN_NEED_WORDS + 1
        wordy = value is not None and len(value.split()) >= least and not _GENERIC_NEED.match(value)
        if value is not None and (target is asked or wordy):
            found.append(Found(target, value))
    found.sort(key=lambda item: item.field is not asked)
    return found
