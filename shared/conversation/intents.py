"""What the caller wants, besides giving a value: repeat, a human, goodbye, a call back, yes/no, a language.

Pure functions over a speech-to-text transcript (English and French). The transcript is folded to
lower-case ASCII words ("Répétez !" → "repetez"), with the clause boundaries (punctuation) kept aside,
then matched against phrase patterns of three strengths:

* explicit: an unambiguous request ("can you repeat", "je voudrais parler à un conseiller"); it
  counts wherever it appears;
* loose: a common form that may also occur inside a value ("no", "that's right", "in English"); it
  counts, when a value is expected, only if the utterance is nothing but intent phrases and fillers;
* bare: a word that is an intent only when said alone ("bye", "pardon ?", "un conseiller svp").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum, StrEnum
from types import MappingProxyType
from typing import Final

__all__ = ["Intent", "Utterance", "detect_intents", "fold", "is_intent_only", "requested_language"]


class Intent(StrEnum):
    REPEAT = "repeat"
    HUMAN = "human"
    GOODBYE = "goodbye"
    CALLBACK = "callback"
    YES = "yes"
    NO = "no"
    SWITCH_LANGUAGE = "switch_language"
    NONE = "none"


class _Strength(Enum):
    EXPLICIT = 1
    LOOSE = 2
    BARE = 3


_APOSTROPHES: Final = re.compile(r"[’'`´ʼ‘]")
_TOKEN: Final = re.compile(r"[^\W_]+|[.,;:!?…]+")


def fold(text: str) -> str:
    """Lower-case, strip accents, unify apostrophes: "C’est Ça" → "c'est ca"."""
    decomposed = unicodedata.normalize("NFKD", _APOSTROPHES.sub("'", text.lower()))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True, slots=True)
class Utterance:
    """A transcript as space-separated ASCII words, with where its clauses start and end."""

    flat: str
    clause_starts: frozenset[int]

    @classmethod
    def of(cls, text: str) -> Utterance:
        words: list[str] = []
        starts: set[int] = {0}
        offset = 0
        for match in _TOKEN.finditer(fold(text)):
            token = match.group(0)
            if not token[0].isalnum():
                starts.add(offset)
                continue
            words.append(token)
            offset += len(token) + 1
        return cls(" ".join(words), frozenset(starts))


@dataclass(frozen=True, slots=True)
class _Pattern:
    intent: Intent
    strength: _Strength
    regex: re.Pattern[str]
    clause_start: bool = False  # must start a clause ("no, ..." but not "I have no idea")


def _rx(*alternatives: str) -> re.Pattern[str]:
    body = "|".join(alternatives).replace(" ", r"\s")
    return re.compile(rf"(?<![a-z0-9])(?:{body})(?![a-z0-9])")


_LANGUAGES: Final = (
    r"(?:english|anglais|french|francais|spanish|espagnol|espanol|german|allemand|deutsch|italian|italien"
    r"|portuguese|portugais|arabic|arabe|chinese|chinois|dutch|neerlandais)"
)
_PLEASE: Final = r"(?: please| s il vous plait| s il te plait| svp)?"
_HUMAN_EN: Final = (
    r"(?:human|human being|person|agent|operator|representative|rep|someone|somebody|advisor|adviser"
    r"|manager|supervisor|people|customer service)"
)
_HUMAN_FR: Final = (
    r"(?:humain|etre humain|personne|conseiller|conseillere|agent|operateur|operatrice|quelqu un"
    r"|responsable|vraie personne|vrai humain)"
)
_CAN_YOU: Final = r"(?:can|could|would|will) you(?: please)?"
_YOU_CAN_FR: Final = r"(?:pouvez vous|vous pouvez|pourriez vous|vous pourriez|tu peux|peux tu|pouvez)"
_I_WANT_FR: Final = (
    r"(?:je veux|je voudrais|j aimerais|je souhaite|je souhaiterais|je prefere|je prefererais"
    r"|est ce que je peux|je peux|puis je)"
)
_I_WANT_EN: Final = (
    r"(?:i want|i wanna|i need|i d like|i would like|get me|give me|can i have|can i get|may i have"
    r"|could i have|could i get|i d rather|i would rather|i d prefer|i would prefer)"
)
_NOT: Final = r"(?:don t|do not|dont|can t|cannot|can not|didn t|did not|doesn t)"

_E, _L, _B = _Strength.EXPLICIT, _Strength.LOOSE, _Strength.BARE
_PATTERNS: Final = (
    # --- repeat ---
    _Pattern(
        Intent.REPEAT,
        _E,
        _rx(
            rf"{_CAN_YOU} (?:repeat|say (?:that|it|this) again|say again|say that one more time)",
            r"repeat (?:that|this|it|please|again|the question|yourself|what you said)",
            r"please repeat|say (?:that|it) again|come again|one more time|what was that",
            r"what did you (?:just )?say|what do you mean",
            rf"i {_NOT} (?:quite )?(?:catch|get|hear|understand) (?:that|you|it|the question|what you said)",
            r"repet(?:ez|er|e|es)(?: vous)?|redi(?:tes|re)|encore une fois",
            r"qu est ce que vous (?:avez dit|dites)|vous avez dit quoi",
            r"(?:j ai|je n ai) pas (?:bien )?(?:compris|entendu|saisi)",
            r"je n ai pas (?:bien )?(?:compris|entendu|saisi)",
        ),
    ),
    _Pattern(
        Intent.REPEAT,
        _B,
        _rx(r"sorry|pardon(?: me)?|excuse me|excusez moi|what|quoi|comment|hein|huh|i m sorry"),
    ),
    # --- human ---
    _Pattern(
        Intent.HUMAN,
        _E,
        _rx(
            rf"(?:talk|speak|speaking|talking|chat) (?:to|with) (?:(?:a|an|the|some|your|real|actual|live) )*"
            rf"{_HUMAN_EN}",
            rf"(?:transfer|put) me (?:through )?(?:to|with) (?:(?:a|an|the|some|real|live) )*{_HUMAN_EN}",
            rf"{_I_WANT_EN} (?:a|an|the) (?:human|agent|operator|representative|person|real person|advisor)",
            r"(?:real|actual|live) (?:person|human|agent|people)|human being",
            rf"parler (?:a|avec) (?:(?:un|une|le|la|l|vrai|vraie|etre) )*{_HUMAN_FR}",
            rf"(?:passez|passer|transferez|transferer|mettez) moi (?:en relation )?(?:avec |a )?"
            rf"(?:(?:un|une|le|la|l) )*{_HUMAN_FR}",
            rf"{_I_WANT_FR} (?:avoir |parler a )?(?:un|une) {_HUMAN_FR}",
            rf"{_YOU_CAN_FR} me passer (?:(?:un|une|le|la|l) )*{_HUMAN_FR}",
            r"une vraie personne|un vrai humain|un etre humain|une personne (?:reelle|physique)",
        ),
    ),
    _Pattern(
        Intent.HUMAN,
        _B,
        _rx(rf"(?:(?:a|an|un|une|the|le|la) )?(?:{_HUMAN_EN}|{_HUMAN_FR})"),
    ),
    # --- goodbye ---
    _Pattern(
        Intent.GOODBYE,
        _E,
        _rx(
            r"good ?bye|bye bye|au revoir",
            r"(?:that s|that is|thats) all (?:for (?:now|today|me) )?(?:thanks|thank you|merci)",
            r"c est tout (?:pour (?:moi|aujourd hui|l instant) )?merci",
            r"have a (?:good|nice|great|lovely) (?:day|evening|one|night|weekend)",
            r"bonne (?:journee|soiree|fin de journee)",
            r"(?:you can|vous pouvez) (?:hang up|raccrocher)|je vais raccrocher|i m going to hang up",
            r"i (?:have to|must|need to|gotta) go|je dois (?:y aller|raccrocher|vous laisser)",
        ),
    ),
    _Pattern(
        Intent.GOODBYE,
        _B,
        _rx(
            r"bye|ciao|tchao|see you|a bientot|nothing else|rien d autre",
            r"(?:that s|that is) all(?: for (?:now|today|me))?",
            r"c est tout(?: pour (?:moi|aujourd hui|l instant|le moment))?",
            r"i m done|i am done|j ai fini|ce sera tout",
        ),
    ),
    # --- call back ---
    _Pattern(
        Intent.CALLBACK,
        _E,
        _rx(
            rf"{_CAN_YOU} (?:call|ring) me (?:back|again|later)",
            r"please (?:call|ring) me (?:back|again|later)",
            rf"{_I_WANT_EN} (?:you to |to be |that you |if you )?(?:call|called|could call) (?:me )?back",
            r"rappelez moi|rappelle moi|rappelez nous",
            rf"{_YOU_CAN_FR} me rappeler",
            rf"{_I_WANT_FR} (?:etre rappele|etre rappelee|que vous me rappeliez|qu on me rappelle)",
            r"me rappeler (?:plus tard|demain|un autre jour)",
        ),
    ),
    _Pattern(
        Intent.CALLBACK,
        _E,
        _rx(r"(?:please )?(?:call|ring) me (?:back|later)|call back later"),
        clause_start=True,
    ),
    _Pattern(Intent.CALLBACK, _B, _rx(r"call me back|callback|call back|me rappeler|rappel")),
    # --- language ---
    _Pattern(
        Intent.SWITCH_LANGUAGE,
        _E,
        _rx(
            rf"(?:do|can|could) you (?:speak|understand|talk) {_LANGUAGES}",
            rf"(?:can|could|shall) we (?:speak|talk|continue|do this|go on|switch)(?: to)?(?: in)?"
            rf" {_LANGUAGES}",
            rf"{_CAN_YOU} (?:say|repeat|do|continue|explain) (?:it |that |this )?in {_LANGUAGES}",
            rf"(?:speak|talk|continue|switch to)(?: in)? {_LANGUAGES}",
            rf"i {_NOT} (?:speak|understand) {_LANGUAGES}|i (?:only )?speak {_LANGUAGES}",
            rf"(?:parlez|parles) vous {_LANGUAGES}|vous parlez {_LANGUAGES}|tu parles {_LANGUAGES}",
            rf"(?:on peut|pouvons nous|pouvez vous|est ce qu on peut|peut on) (?:parler|continuer)"
            rf" en {_LANGUAGES}",
            rf"je (?:ne )?(?:parle|comprends) pas (?:l |le |en )?{_LANGUAGES}",
            rf"je parle (?:seulement |uniquement )?{_LANGUAGES}",
            rf"(?:passer|continuer|parler) (?:a l |en )?{_LANGUAGES}",
        ),
    ),
    _Pattern(Intent.SWITCH_LANGUAGE, _L, _rx(rf"(?:in|en) {_LANGUAGES}{_PLEASE}"), clause_start=True),
    _Pattern(Intent.SWITCH_LANGUAGE, _B, _rx(rf"{_LANGUAGES}{_PLEASE}")),
    # --- no (a longer match wins: "not exactly" is no, not yes) ---
    _Pattern(
        Intent.NO,
        _L,
        _rx(
            r"(?:no|nope|nah|non|negative)"
            r"(?=$|\s(?:no|non|nope|that|thats|it|its|this|c|ce|ca|cela|thanks|thank|merci|sorry|pardon"
            r"|desole|desolee|pas|not|wrong|faux|call|rappelez|please|s|i|je|you|vous|absolutely|absolument"
            r"|du|wait|attendez|actually|en|the|my|mon|ma|il|never|jamais|incorrect|way)(?![a-z0-9]))"
        ),
        clause_start=True,
    ),
    _Pattern(
        Intent.NO,
        _L,
        _rx(
            r"not at all|absolutely not|certainly not|definitely not|of course not|no way",
            r"not (?:exactly|quite|really|correct|right|true)",
            r"(?:that s|that is|thats|it s|it is|this is) (?:not (?:right|correct|it|true|what i said)|wrong"
            r"|incorrect|a mistake)",
            r"(?:that|it) (?:isn t|is not|wasn t|was not) (?:right|correct|it|true)",
            r"you (?:got|heard|understood) (?:it |that |me )?wrong",
            r"pas du tout|pas (?:exactement|vraiment|tout a fait|correct|juste|ca)",
            r"absolument pas|surtout pas",
            r"ce n est pas (?:ca|cela|correct|juste|exact|bon|le bon|la bonne)",
            r"c est pas (?:ca|correct|juste|bon)",
            r"c est faux|c est une erreur|vous vous etes trompee?|vous avez mal (?:compris|entendu|note)",
            r"(?:i said|j ai dit) (?:no|non)",
        ),
    ),
    _Pattern(Intent.NO, _B, _rx(r"wrong|incorrect|faux|erreur|no no|non non")),
    # --- yes ---
    _Pattern(
        Intent.YES,
        _L,
        _rx(
            r"yes|yeah|yep|yup|yea|oui|ouais|ouaip|affirmative|absolutely|definitely|certainly|of course",
            r"sure|bien sur|exactement|exactly|exact|correct|perfect|parfait|d accord|okay|ok|indeed|voila",
            r"absolument|effectivement|en effet",
        ),
        clause_start=True,
    ),
    _Pattern(
        Intent.YES,
        _L,
        _rx(
            r"tout a fait|you got it|sounds good|all good|that s the one",
            r"(?:that s|that is|thats|it s|it is|this is)"
            r" (?:right|correct|it|true|exactly it|perfect|fine|good)",
            r"(?:c est|c etait) (?:bien )?(?:ca|cela|exact|correct|juste|bon|parfait|le bon|la bonne)",
        ),
    ),
    _Pattern(Intent.YES, _B, _rx(r"right|si|oui oui|mhm|uh huh|yes please")),
)

_FILLER_PHRASES: Final = re.compile(
    r"(?<![a-z0-9])(?:s il vous plait|s il te plait|thank you(?: very much)?|thanks a lot|if you don t mind"
    r"|if you please|excuse me|excusez moi|je vous en prie|merci beaucoup|ok then|alright then"
    r"|eh bien|bon ben|en fait|in fact|you know|i mean|je veux dire|i said|j ai dit|i m sorry"
    r"|je suis desolee?)"
    r"(?![a-z0-9])"
)
_FILLER_WORDS: Final = frozenset(
    {
        "um", "uh", "er", "erm", "euh", "heu", "hum", "hmm", "mm", "ah", "oh", "eh", "well", "so", "alors",
        "bon", "ben", "bah", "ok", "okay", "alright", "please", "svp", "thanks", "thank", "merci", "sorry",
        "desole", "desolee", "pardon", "just", "actually", "really", "then", "and", "et", "but", "mais",
        "sir", "madam", "maam", "madame", "monsieur", "mademoiselle", "hello", "hi", "hey", "allo",
        "bonjour", "bonsoir", "look", "listen", "ecoutez", "enfin", "donc", "vraiment", "again", "encore",
        "huh", "yes", "yeah", "yep", "no", "nope", "nah", "oui", "ouais", "non", "exactly", "exact",
        "exactement", "correct", "sure", "right", "absolutely", "absolument", "indeed", "perfect",
        "parfait", "voila", "effectivement",
    }
)  # fmt: skip
# Words of the "when" that may follow a call-back request: "call me back tomorrow at 3".
_WHEN_WORD: Final = re.compile(
    r"\d+(?:h\d*|am|pm|st|nd|rd|th|er|e)?|today|tomorrow|tonight|morning|afternoon|evening|night|noon"
    r"|later|soon|next|this|week|weekend|month|at|on|in|around|about|after|before|the|am|pm|o|clock|oclock"
    r"|hours?|minutes?|monday|tuesday|wednesday|thursday|friday|saturday|sunday|half|past|quarter|to"
    r"|aujourd|hui|demain|ce|cet|cette|soir|matin|apres|midi|minuit|plus|tard|prochain|prochaine|semaine"
    r"|a|vers|dans|le|la|l|heures?|h|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|et|demie?|quart"
    r"|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|un|une|deux|trois|quatre|cinq|sept"
    r"|huit|neuf|dix|onze|douze|quinze|vingt|trente|quarante|cinquante|fifteen|thirty|forty|twenty|fifty"
    r"|an|hour|day|days|jour|jours|end|fin|de|du|of|possible|asap|convenient"
)


@dataclass(frozen=True, slots=True)
class _Match:
    intent: Intent
    strength: _Strength
    start: int
    end: int


def _find(utterance: Utterance) -> list[_Match]:
    found: list[_Match] = []
    for pattern in _PATTERNS:
        for m in pattern.regex.finditer(utterance.flat):
            if m.end() == m.start():
                continue
            if pattern.clause_start and m.start() not in utterance.clause_starts:
                continue
            found.append(_Match(pattern.intent, pattern.strength, m.start(), m.end()))
    # A match inside a longer one is part of it: "not exactly" is no, not yes; "pas tout à fait" is no.
    found.sort(key=lambda match: (match.start - match.end, match.start))
    kept: list[_Match] = []
    for match in found:
        if not any(k.start <= match.start and match.end <= k.end for k in kept):
            kept.append(match)
    return kept


def _residual(utterance: Utterance, matches: list[_Match]) -> list[str]:
    """The words left once intent phrases and fillers are removed."""
    chars = list(utterance.flat)
    for match in matches:
        chars[match.start : match.end] = " " * (match.end - match.start)
    rest = _FILLER_PHRASES.sub(" ", "".join(chars))
    words = [word for word in rest.split() if word not in _FILLER_WORDS]
    if any(match.intent is Intent.CALLBACK for match in matches):
        words = [word for word in words if not _WHEN_WORD.fullmatch(word)]
    return words


def detect_intents(text: str, *, expecting_value: bool = False) -> set[Intent]:
    """The intents carried by what the caller said; ``{Intent.NONE}`` when there are none.

    With ``expecting_value`` (the agent just asked for a value), only explicit requests count, plus
    common forms ("no", "bye", "in English") when the utterance is nothing but intent phrases:
    "my name is Jean-Yves Bye" is a name, not a goodbye.
    """
    utterance = Utterance.of(text)
    matches = _find(utterance)
    only_intents = bool(matches) and not _residual(utterance, matches)
    intents = {
        match.intent
        for match in matches
        if match.strength is _E or only_intents or (match.strength is _L and not expecting_value)
    }
    return intents or {Intent.NONE}


def is_intent_only(text: str) -> bool:
    """True when the utterance is empty, or intent phrases and fillers only ("no, that's wrong", "euh,
    pardon ?"); fillers alone ("euh") are not an intent."""
    utterance = Utterance.of(text)
    if not utterance.flat:
        return True
    matches = _find(utterance)
    return bool(matches) and not _residual(utterance, matches)


_LANGUAGE_WORD: Final = re.compile(r"(?<![a-z])(english|anglais|french|francais)(?![a-z])")
_NEGATED_BEFORE: Final = re.compile(
    rf"(?:\b{_NOT} (?:really |very well |well )?(?:speak|understand|talk)(?: in)?"
    r"|\b(?:ne )?(?:parle|comprends|comprend) pas(?: tres bien| bien)?(?: l| le| en)?"
    r"|\bnot(?: in)?|\bpas(?: en)?) $"
)
_LANGUAGE_CODES: Final = MappingProxyType(
    {"english": "en-US", "anglais": "en-US", "french": "fr-FR", "francais": "fr-FR"}
)
_OTHER_LANGUAGE: Final = MappingProxyType({"en-US": "fr-FR", "fr-FR": "en-US"})


def requested_language(text: str) -> str | None:
    """The language the caller asks for: "en-US", "fr-FR", or None when unclear or unsupported.

    "Do you speak French?" → "fr-FR"; "parlez-vous anglais ?" → "en-US"; "I don't speak French" →
    "en-US" (the other supported language). The last mention wins.
    """
    flat = Utterance.of(text).flat
    choice: str | None = None
    for match in _LANGUAGE_WORD.finditer(flat):
        code = _LANGUAGE_CODES[match.group(1)]
        negated = _NEGATED_BEFORE.search(flat[: match.start()]) is not None
        choice = _OTHER_LANGUAGE[code] if negated else code
    return choice
