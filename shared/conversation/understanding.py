"""Understanding what the caller said, for the form-filling agent: intents, and a claim value in a sentence.

The value parsers of :mod:`shared.claim.values` expect the value alone ("06 12 34 56 78"); callers
say whole sentences ("you can reach me at 06 12 34 56 78, thanks"). The functions here find the
value inside the sentence (English and French, as transcribed by speech-to-text) and return it
normalised by those parsers, or None. They are pure and never raise on ordinary input.

Intents live in :mod:`shared.conversation.intents`, names in :mod:`shared.conversation.names` and
dates in :mod:`shared.conversation.when`; they are re-exported here.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from shared.claim.spoken import words_to_digits
from shared.claim.values import MAX_TEXT_LENGTH, ParseContext, parse_email, parse_phone_number
from shared.conversation.intents import Intent, detect_intents, fold, is_intent_only, requested_language
from shared.conversation.names import extract_name
from shared.conversation.when import consecutive_runs, extract_datetime

__all__ = [
    "Intent",
    "detect_intents",
    "extract_datetime",
    "extract_email",
    "extract_name",
    "extract_phone_number",
    "extract_text",
    "extract_value",
    "is_intent_only",
    "is_name_field",
    "requested_language",
]

# --- which fields hold names ----------------------------------------------------------------------

_NAME_HINT_WORDS: Final = frozenset(
    {"name", "names", "nom", "noms", "prenom", "surname", "firstname", "lastname", "fullname", "forename"}
)
_GENERIC_HINT_WORDS: Final = frozenset(
    {"caller", "customer", "client", "the", "of", "your", "de", "du", "des", "appelant", "user"}
)


def _hint_words(hint: str) -> list[str]:
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", hint)  # camelCase
    return [word for word in re.split(r"[\W_]+", fold(spaced)) if word]


def is_name_field(name_hint: str | None) -> bool:
    """True for a field named like "caller_name", "full_name", "nom", "lastName" (or described so)."""
    return bool(name_hint) and any(word in _NAME_HINT_WORDS for word in _hint_words(name_hint or ""))


# --- free text ------------------------------------------------------------------------------------

_HESITATION: Final = re.compile(r"(?i)(?<!\w)(?:u+m+|u+h+|e+u+h+|h+e+u+|e+r+m*|h+m+|h+u+m+)(?!\w)[,.…]*\s*")
_TEXT_LEAD_IN: Final = re.compile(
    r"(?i)^(?:(?:well|so|alors|bon|ben|bah|eh bien|donc|voil[aà]|en fait|basically|okay|ok|oh|ah|right"
    r"|alright)(?:\s*[,.:;!…-]+\s*|\s+)"
    r"|(?:yes|yeah|oui|ouais|sure)\s*[,.:;!…-]+\s*)+"
)
_TEXT_GREETING: Final = re.compile(
    r"(?i)^(?:(?:yes|yeah|oui)[\s,.!]+)?(?:hello|hi|hey|good (?:morning|afternoon|evening)|bonjour|bonsoir"
    r"|all[oô])(?:\s*[,.:;!?…-]+\s*|\s+)"
)
_TEXT_COPULA: Final = re.compile(
    r"^(?i:it's|it is|it was|that's|that is|c'est|c’est|ce sont)\s+"
    r"(?:(?:a|an|the|un|une|le|la|les)\s+|l'|l’)?"
)  # the article only in lower case: "it's A B C 4 2" is a reference
_EDGE_NOISE: Final = " \t,.;:!?…-–—"
_SPELLED_TOKEN: Final = re.compile(r"[A-Za-z]|\d{1,4}")
_DIGIT_WORDS: Final = frozenset(
    {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "zéro", "un", "deux",
     "trois", "quatre", "cinq", "sept", "huit", "neuf"}
)  # fmt: skip


def _spelled_part(token: str) -> str | None:
    """A spelled letter or digit (or a number said in words) as written, else None."""
    bare = token.strip(",.;:!?")
    if _SPELLED_TOKEN.fullmatch(bare) and bare not in ("I", "a"):
        return bare.upper()
    if bare.lower() in _DIGIT_WORDS:
        return words_to_digits(bare.lower())
    return None


def join_spelled(text: str) -> str:
    """Letters and digits said one by one are one value: "A B C four two" → "ABC42", "A-B-C-4-2" →
    "ABC42". A lone letter ("building B") or number stays as it is."""
    out: list[str] = []
    run: list[tuple[str, str]] = []  # (as said, as written)

    def flush() -> None:
        letters = sum(part.isalpha() for _, part in run)
        said_capital = any(said.strip(",.;:!?").isupper() for said, part in run if part.isalpha())
        spelled = letters >= 2 or (letters == 1 and said_capital)  # "x, y, z, 427"; "flat 4 B", not "4 b"
        digits = all(len(part) == 1 and part.isdigit() for _, part in run)  # "four two" → "42"
        if len(run) >= 2 and (spelled or digits):
            out.append("".join(part for _, part in run) + run[-1][0][len(run[-1][0].rstrip(",.;:!?")) :])
        else:
            out.extend(said for said, _ in run)
        run.clear()

    for token in text.split():
        pieces = token.strip(",.;:!?").split("-")
        if len(pieces) > 1 and all(len(p) == 1 and p.isalnum() for p in pieces):
            run.extend((p, p.upper()) for p in pieces)
            continue
        part = _spelled_part(token)
        if part is None:
            flush()
            out.append(token)
        else:
            run.append((token, part))
    flush()
    return " ".join(out)


def _fold_keep_length(text: str) -> str:
    """Fold accents character by character, so offsets in the result are offsets in ``text``."""
    out: list[str] = []
    for ch in text.replace("’", "'"):
        folded = "".join(c for c in unicodedata.normalize("NFKD", ch.lower()) if not unicodedata.combining(c))
        out.append(folded if len(folded) == 1 else ch)
    return "".join(out)


def _strip_hint_lead_in(text: str, name_hint: str | None) -> str:
    """ "my policy number is AB 123" → "AB 123" for a field called "policy_number"."""
    words = [word for word in _hint_words(name_hint or "") if word not in _GENERIC_HINT_WORDS]
    if not words:
        return text
    pattern = re.compile(
        r"^(?:(?:my|the|our|his|her|its|mon|ma|mes|le|la|les|notre|nos|son|sa|votre|vos)\s+|l')?"
        + r"\s+".join(re.escape(word) + "s?" for word in words)
        + r"(?:\s+(?:is|are|was|were|would be|est|c'est|c est|serait)\b|\s*:)[\s,:]*"
    )
    match = pattern.match(_fold_keep_length(text))
    return text[match.end() :] if match else text


def extract_text(text: str, *, name_hint: str | None = None) -> str | None:
    """Free text ("my laptop screen is broken") with hesitations and obvious lead-ins removed.

    ``name_hint`` (the field name) drops a lead-in naming the field: "my policy number is AB12" → "AB12".
    Returns None when nothing is left, or when the utterance is only an intent ("no, that's wrong").
    Longer texts are cut at a word boundary to the 1000 characters a claim value may hold.
    """
    if is_intent_only(text):
        return None
    cleaned = " ".join(_HESITATION.sub(" ", text).split())
    previous = None
    while previous != cleaned:  # "yes, hello. Well, it's a laptop" → "laptop"
        previous = cleaned
        cleaned = _TEXT_LEAD_IN.sub("", cleaned).strip(_EDGE_NOISE)
        cleaned = _TEXT_GREETING.sub("", cleaned).strip(_EDGE_NOISE)
    cleaned = _strip_hint_lead_in(cleaned, name_hint).strip(_EDGE_NOISE)
    cleaned = join_spelled(_TEXT_COPULA.sub("", cleaned)).strip(_EDGE_NOISE)
    if not any(ch.isalnum() for ch in cleaned):
        return None
    if len(cleaned) > MAX_TEXT_LENGTH:
        cleaned = cleaned[: MAX_TEXT_LENGTH + 1].rsplit(" ", 1)[0][:MAX_TEXT_LENGTH]
    return cleaned


# --- email addresses ------------------------------------------------------------------------------

_WRITTEN_ADDRESS: Final = re.compile(r"[\w.+'%-]+@[\w-]+(?:\.[\w-]+)+")
_EMAIL_SYMBOLS: Final = (
    (
        re.compile(r"\b(?:at sign|at symbol|a commercial|arrobase|arobase|arobas|arobaz|arrobas|at)\b|@"),
        " @ ",
    ),
    (re.compile(r"\b(?:tiret du bas|tiret bas|under score|underscore)\b|_"), " _ "),
    (re.compile(r"\b(?:dot|point)\b|\.(?=\w)"), " . "),
    (re.compile(r"\b(?:dash|hyphen|tiret|minus)\b|-"), " - "),
    (re.compile(r"\bplus\b|\+"), " + "),
)
_LABEL: Final = re.compile(r"[a-z0-9]+")
_EMAIL_LEAD_WORDS: Final = frozenset(
    {
        "my", "email", "mail", "e", "address", "adresse", "is", "it", "its", "est", "mon", "ma", "me",
        "to", "send", "reach", "write", "the", "and", "et", "sure", "yes", "yeah", "oui", "ok", "okay",
        "uh", "um", "euh", "well", "so", "alors", "please", "that", "this", "voici", "voila", "here",
        "was", "be", "use", "courriel", "electronique", "personal", "work", "pro", "perso", "personnelle",
        "professionnelle", "professional", "new", "nouvelle", "nouveau", "under", "sous", "par", "via",
        "thanks", "merci", "one", "c", "cest",
    }
)  # fmt: skip
_LOCAL_SEPARATORS: Final = frozenset({".", "_", "-", "+"})
_DOMAIN_SEPARATORS: Final = frozenset({".", "-"})


def _email_tokens(text: str) -> list[str]:
    """Words and symbols ("@", ".", "_", "-", "+"); "|" marks a break (punctuation, "it's", "c'est")."""
    lowered = words_to_digits(fold(text))  # "smith forty two" → "smith 42"
    lowered = re.sub(r"\w*'\w*|[^\w@.+\-\s]|\.(?!\w)", " | ", lowered)  # a full stop ends a sentence
    for pattern, symbol in _EMAIL_SYMBOLS:
        lowered = pattern.sub(symbol, lowered)
    return lowered.split()


def _is_label(token: str) -> bool:
    return _LABEL.fullmatch(token) is not None


def _local_part(tokens: list[str], at: int) -> str | None:
    """Walk back from the "@": labels joined by separators; spelled letters ("j o h n") make one label.

    None when another word comes right before ("john smith at example dot com" could be "smith@",
    "johnsmith@" or "john.smith@": better ask again than guess).
    """
    parts: list[str] = []
    i = at - 1
    while i >= 0 and _is_label(tokens[i]):
        start = i
        if len(tokens[i]) == 1:  # a run of spelled letters and digits
            while start > 0 and len(tokens[start - 1]) == 1 and _is_label(tokens[start - 1]):
                start -= 1
        parts[:0] = tokens[start : i + 1]
        i = start - 1
        if tokens[start].isdigit() and i >= 0 and _is_label(tokens[i]):
            continue  # "smith 42" is "smith42"
        if i >= 1 and tokens[i] in _LOCAL_SEPARATORS and _is_label(tokens[i - 1]):
            parts.insert(0, tokens[i])
            i -= 1
        else:
            break
    if i >= 0 and len(tokens[i]) > 1 and _is_label(tokens[i]) and tokens[i] not in _EMAIL_LEAD_WORDS:
        return None
    return "".join(parts) or None


def _domain(tokens: list[str], at: int) -> str | None:
    """Walk forward from the "@": labels joined by "." or "-", ending with a top-level domain."""
    parts: list[str] = []
    i = at + 1
    while i < len(tokens) and _is_label(tokens[i]):
        end = i + 1
        if len(tokens[i]) == 1:
            while end < len(tokens) and len(tokens[end]) == 1 and _is_label(tokens[end]):
                end += 1
        parts.extend(tokens[i:end])
        i = end
        if i + 1 < len(tokens) and tokens[i] in _DOMAIN_SEPARATORS and _is_label(tokens[i + 1]):
            parts.append(tokens[i])
            i += 1
        else:
            break
    domain = "".join(parts)
    tld = domain.rsplit(".", 1)[-1]
    return domain if "." in domain and tld.isalpha() and len(tld) >= 2 else None


_STOP_FOR_DOT: Final = re.compile(r"\b([A-Za-z0-9]+)\. (?=[A-Za-z0-9]+ (?:at|@) )")


def extract_email(text: str) -> str | None:
    """The email address in a sentence, written or spoken ("john dot smith at example dot com",
    "jean point dupont arobase orange point fr", "j o h n at gmail dot com"), or None."""
    text = _STOP_FOR_DOT.sub(r"\1 dot ", text)  # "Emma. Wilson at example.com": a spoken "dot"
    for written in _WRITTEN_ADDRESS.finditer(text):
        try:
            return parse_email(written.group(0).strip(".'-"))
        except ValueError:
            pass
    tokens = _email_tokens(text)
    for at, word in enumerate(tokens):
        if word != "@":
            continue
        local, domain = _local_part(tokens, at), _domain(tokens, at)
        if local is None or domain is None:
            continue
        try:
            return parse_email(f"{local}@{domain}")
        except ValueError:
            continue
    return _swallowed_at(text)


# Speech recognition sometimes drops the spoken "at" ("john.smith.example.com") or glues it to the
# domain ("mary.jonesatexample.com"): with a mail domain everyone knows, the address is still clear.
_KNOWN_MAIL_DOMAIN: Final = re.compile(
    r"\b([a-z0-9][a-z0-9._-]*?)(?:\.|at|et)((?:example|gmail|outlook|hotmail|yahoo|icloud|orange|free|laposte|sfr|"
    r"wanadoo|contoso)\.(?:com|fr|net|org))\b",
    re.IGNORECASE,
)


def _swallowed_at(text: str) -> str | None:
    match = _KNOWN_MAIL_DOMAIN.search(text)
    if match is None or "@" in text or match.group(1).lower() in {"www", "http", "https"}:
        return None
    try:
        return parse_email(f"{match.group(1)}@{match.group(2)}")
    except ValueError:
        return None


# --- phone numbers --------------------------------------------------------------------------------

_PHONE_DIGITS: Final = re.compile(r"\+?[\d.\-/]*\d[\d.\-/]*")
_PHONE_WORDS: Final = frozenset({"+", "plus", "double", "triple", "oh", "o"})
_PHONE_JOINERS: Final = frozenset({"and", "et", "double", "triple"})  # never the last word of a number
_PHONE_NOT_LAST: Final = _PHONE_JOINERS | {"plus", "+"}
_MAX_PHONE_WORDS: Final = 24
_MAX_PHONE_ATTEMPTS: Final = 300  # plenty for a real sentence; bounds the cost of a pathological one
_PHONE_DIGIT_RANGE: Final = range(5, 18)  # E.164 has at most 15 digits, plus a "00" or trunk "0"


def _phone_digits(token: str) -> int | None:
    """How many digits a word of a phone number stands for (roughly), or None for other words."""
    if token in _PHONE_WORDS or token in _PHONE_JOINERS:
        return 1 if token in ("oh", "o", "double", "triple") else 0
    if _PHONE_DIGITS.fullmatch(token):
        return sum(ch.isdigit() for ch in token)
    spoken = words_to_digits(token).replace(" ", "")
    return len(spoken) if spoken.isdigit() else None


_ROUND_TENS: Final = re.compile(r"[2-9]0")
_ONE_DIGIT: Final = re.compile(r"[1-9]")


def _tens_joined(tokens: list[str]) -> list[str]:
    """The words with "90 8" read as 98: speech recognisers write a spoken "ninety-eight" that way."""
    joined: list[str] = []
    for token in tokens:
        if joined and _ONE_DIGIT.fullmatch(token) and _ROUND_TENS.fullmatch(joined[-1]):
            joined[-1] = joined[-1][0] + token
        else:
            joined.append(token)
    return joined


def extract_phone_number(text: str, ctx: ParseContext) -> str | None:
    """The phone number in a sentence, as E.164 ("you can reach me at 06 12 34 56 78" →
    "+33612345678"; spoken digits in English and French), or None."""
    cleaned = re.sub(r"[()\[\],;:!?]", " ", text.lower().replace("’", "'"))
    tokens = [token.strip(".") or token for token in cleaned.split()]
    digits = [_phone_digits(token) for token in tokens]
    windows: list[tuple[int, int]] = []
    for start, end in consecutive_runs([count is not None for count in digits]):
        for i in range(start, end):
            total = 0
            for j in range(i + 1, min(end, i + _MAX_PHONE_WORDS) + 1):
                total += digits[j - 1] or 0
                if total > _PHONE_DIGIT_RANGE[-1]:
                    break
                last_ok = tokens[j - 1] not in _PHONE_NOT_LAST
                if tokens[i] not in _PHONE_JOINERS and last_ok and total in _PHONE_DIGIT_RANGE:
                    windows.append((i, j))
    windows.sort(key=lambda window: (window[0] - window[1], window[0]))
    for i, j in windows[:_MAX_PHONE_ATTEMPTS]:
        said = tokens[i:j]
        for words in (said, _tens_joined(said)):
            try:
                return parse_phone_number(" ".join(words), ctx)
            except ValueError:
                continue
    return None


# --- any field ------------------------------------------------------------------------------------


def extract_value(
    field_type: str, text: str, ctx: ParseContext, *, name_hint: str | None = None
) -> str | None:
    """The normalised value of a ``field_type`` field said in ``text``, or None.

    ``field_type`` is a claim field type ("text", "datetime", "email", "phone_number"); ``name_hint``
    is the field name and/or description: a text field whose hint names a name ("caller_name",
    "nom") gets :func:`extract_name`. Datetimes are ISO 8601 with the offset of ``ctx.timezone``,
    phone numbers E.164. Raises ValueError only for an unknown ``field_type``.
    """
    kind = str(field_type)
    if kind == "datetime":
        found = extract_datetime(text, ctx)
        return None if found is None else found.isoformat(timespec="seconds")
    if kind == "phone_number":
        return extract_phone_number(text, ctx)
    if kind == "email":
        return extract_email(text)
    if kind == "text":
        if is_name_field(name_hint):
            return extract_name(text)
        return extract_text(text, name_hint=name_hint)
    raise ValueError(f"unknown claim field type {kind!r}")
