"""The form-filling agent's understanding layer: intents, and claim values found inside whole sentences.

Everything runs against a fixed clock: Tuesday 24 November 2026, 10:00 in Paris (UTC+01:00), phone
region FR. Relative dates follow the conventions of ``shared.claim.spoken_time`` (a bare weekday or
date is the next one; "3" without am/pm is 15:00; "morning" is 09:00, "evening" 19:00).
"""

from __future__ import annotations

from datetime import datetime
from types import ModuleType
from zoneinfo import ZoneInfo

import pytest

from shared.claim.values import ParseContext
from shared.conversation import intents, names, understanding, when
from shared.conversation.understanding import (
    Intent,
    detect_intents,
    extract_datetime,
    extract_email,
    extract_name,
    extract_phone_number,
    extract_text,
    extract_value,
    is_intent_only,
    is_name_field,
    requested_language,
)

PARIS = ZoneInfo("Europe/Paris")
CTX = ParseContext(now=datetime(2026, 11, 24, 10, 0, tzinfo=PARIS), default_region="FR")
NAME = "caller_name"  # the hint of a name field
DESCRIPTION = "incident_description"

# (field type, name hint, what the caller said, expected normalised value)
VARIED_PHRASINGS: list[tuple[str, str | None, str, str]] = [
    # --- names (text fields whose name says "name") ---
    ("text", NAME, "my name is John Smith", "John Smith"),
    ("text", NAME, "it's Smith, S M I T H", "Smith"),
    ("text", NAME, "S M I T H", "Smith"),
    ("text", NAME, "je m'appelle Jean Dupont", "Jean Dupont"),
    ("text", NAME, "c'est Marie Curie", "Marie Curie"),
    ("text", NAME, "Dupont, D U P O N T", "Dupont"),
    ("text", NAME, "john smith, that's s m i t h", "John Smith"),
    ("text", NAME, "my name is Jean-Yves Bye", "Jean-Yves Bye"),
    ("text", NAME, "yes, my name is ben stiller", "Ben Stiller"),
    ("text", NAME, "Mr. John O'Brien", "John O'Brien"),
    ("text", NAME, "my name is John Smith and I'm calling about my car", "John Smith"),
    ("text", NAME, "jon smyth, s m i t h", "Jon Smith"),
    ("text", NAME, "my name is John, S M I T H", "John Smith"),
    ("text", NAME, "S. M. I. T. H.", "Smith"),
    ("text", NAME, "moi c'est Valéry Giscard d'Estaing", "Valéry Giscard d'Estaing"),
    ("text", NAME, "hi, this is Sarah Connor speaking", "Sarah Connor"),
    ("text", NAME, "c'est Dupont, ça s'écrit D U P O N T", "Dupont"),
    ("text", NAME, "well, uh, my full name is Mary-Jane Watson.", "Mary-Jane Watson"),
    ("text", NAME, "Monsieur Dupont", "Dupont"),
    ("text", NAME, "charles de gaulle", "Charles de Gaulle"),
    ("text", "nom", "euh, mon nom c'est Martin, M A R T I N", "Martin"),
    ("text", "full_name", "JOHN SMITH", "John Smith"),
    ("text", NAME, "Smith. John Smith.", "John Smith"),
    ("text", NAME, "the name's Bond, James Bond", "James Bond"),
    ("text", NAME, "I'm Dr. Emily Watson", "Emily Watson"),
    ("text", NAME, "oui bonjour, je suis madame Lefèvre", "Lefèvre"),
    ("text", NAME, "my first name is Anna and my last name is Kowalski", "Anna Kowalski"),
    ("text", NAME, "Anna Kowalski, K O W A L S K I", "Anna Kowalski"),
    ("text", NAME, "it's Nguyen, that's N G U Y E N", "Nguyen"),
    ("text", NAME, "je m'appelle Éloïse Lefèvre", "Éloïse Lefèvre"),
    ("text", NAME, "c'est moi, Pierre Durand", "Pierre Durand"),
    ("text", NAME, "j'appelle pour ma voiture, je suis Paul Martin", "Paul Martin"),
    # --- free text ---
    ("text", DESCRIPTION, "my laptop screen is broken", "my laptop screen is broken"),
    ("text", DESCRIPTION, "Well, euh, my laptop screen is broken.", "my laptop screen is broken"),
    ("text", DESCRIPTION, "alors, mon écran est cassé", "mon écran est cassé"),
    ("text", DESCRIPTION, "um so the car, uh, won't start", "the car, won't start"),
    (
        "text",
        DESCRIPTION,
        "Bon, ben, la machine à laver fuit depuis hier",
        "la machine à laver fuit depuis hier",
    ),
    ("text", "policy_number", "my policy number is AB 123 456", "AB 123 456"),
    (
        "text",
        "policy_number",
        "mon numéro de contrat, euh, c'est XY-42",
        "mon numéro de contrat, c'est XY-42",
    ),
    ("text", "vehicle_plate", "the vehicle plate is GH-123-JK", "GH-123-JK"),
    # --- email ---
    ("email", None, "my email is john dot smith at example dot com", "john.smith@example.com"),
    ("email", None, "it's john.smith@example.com", "john.smith@example.com"),
    ("email", None, "mon adresse c'est jean point dupont arobase orange point fr", "jean.dupont@orange.fr"),
    ("email", None, "j o h n at gmail dot com", "john@gmail.com"),
    ("email", None, "sure, john underscore doe at outlook dot com thanks", "john_doe@outlook.com"),
    ("email", None, "you can reach me at john at gmail dot com.", "john@gmail.com"),
    ("email", None, "j o h n dot s m i t h at g m x dot f r", "john.smith@gmx.fr"),
    ("email", None, "my email address is marie dash curie at laposte dot net", "marie-curie@laposte.net"),
    ("email", None, "c'est paul tiret du bas durand arobase gmail point com", "paul_durand@gmail.com"),
    ("email", None, "a n n a at yahoo dot fr", "anna@yahoo.fr"),
    ("email", None, "JOHN DOT SMITH AT EXAMPLE DOT COM", "john.smith@example.com"),
    ("email", None, "my e-mail is j.smith at company dot co dot uk", "j.smith@company.co.uk"),
    ("email", None, "john75 at hotmail dot com", "john75@hotmail.com"),
    ("email", None, "send it to contact@my-company.fr please", "contact@my-company.fr"),
    ("email", None, "mon mail c'est jean point dupont at orange point fr", "jean.dupont@orange.fr"),
    ("email", None, "It's John.Smith@Example.COM.", "John.Smith@example.com"),
    ("email", None, "my email is john dot smith at gmail dot com, j o h n", "john.smith@gmail.com"),
    ("email", None, "it's jsmith at gmail dot com", "jsmith@gmail.com"),
    # a recogniser glued the spoken "at" to a well-known domain
    ("email", None, "My email address is mary.jonesatexample.com.", "mary.jones@example.com"),
    ("email", None, "pat.example.com", "pat@example.com"),
    ("email", None, "marie.curie arobase gmail.com", "marie.curie@gmail.com"),
    ("email", None, "c'est jean-pierre point martin arobase free point fr", "jean-pierre.martin@free.fr"),
    ("email", None, "jean at free dot fr. Thanks.", "jean@free.fr"),
    ("email", None, "it's john dot smith 42 at yahoo dot com", "john.smith42@yahoo.com"),
    # --- phone numbers ---
    ("phone_number", None, "you can reach me at 06 12 34 56 78", "+33612345678"),
    (
        "phone_number",
        None,
        "my number is plus three three six twelve thirty four fifty six seventy eight",
        "+33612345678",
    ),
    ("phone_number", None, "zero six, twelve, thirty-four, fifty-six, seventy-eight", "+33612345678"),
    (
        "phone_number",
        None,
        "mon numéro c'est le zéro six douze trente-quatre cinquante-six soixante-dix-huit",
        "+33612345678",
    ),
    ("phone_number", None, "+1 425 555 0100", "+14255550100"),
    ("phone_number", None, "oh, it's 06.12.34.56.78, thanks", "+33612345678"),
    ("phone_number", None, "my cell is 07 81 22 33 44", "+33781223344"),
    ("phone_number", None, "06 12 34 56 78 is my mobile", "+33612345678"),
    (
        "phone_number",
        None,
        "zéro sept quatre-vingt-un vingt-deux trente-trois quarante-quatre",
        "+33781223344",
    ),
    ("phone_number", None, "it's 01 23 45 67 89, that's my office", "+33123456789"),
    ("phone_number", None, "+1 (425) 555-0100 please", "+14255550100"),
    ("phone_number", None, "plus one four two five five five five zero one zero zero", "+14255550100"),
    (
        "phone_number",
        None,
        "double zero three three six twelve thirty four fifty six seventy eight",
        "+33612345678",
    ),
    ("phone_number", None, "oui c'est le 06 12 34 56 78 merci", "+33612345678"),
    # a recogniser writes a spoken "ninety-eight" as "90 8": the digits only make a number joined
    ("phone_number", None, "You can reach me at 0 7 90 8 76 54 32", "+33798765432"),
    ("phone_number", None, "my cell is 06 20 30 40 50", "+33620304050"),
    ("phone_number", None, "my number is oh six one two three four five six seven eight", "+33612345678"),
    ("phone_number", None, "zero six, one two, three four, five six, seven eight", "+33612345678"),
    ("phone_number", None, "zéro six, un deux, trois quatre, cinq six, sept huit", "+33612345678"),
    ("phone_number", None, "+33 (0)6 12 34 56 78", "+33612345678"),
    ("phone_number", None, "plus 33 6 12 34 56 78", "+33612345678"),
    ("phone_number", None, "06 12 34 56 78 or 07 81 22 33 44", "+33612345678"),  # the first one
    (
        "phone_number",
        None,
        "le zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit, voilà",
        "+33612345678",
    ),
    # --- dates and times (now: Tuesday 24 November 2026, 10:00, Paris) ---
    ("datetime", None, "it happened yesterday around 3 pm", "2026-11-23T15:00:00+01:00"),
    ("datetime", None, "tomorrow at three pm please", "2026-11-25T15:00:00+01:00"),
    ("datetime", None, "ça s'est passé hier vers 15h", "2026-11-23T15:00:00+01:00"),
    ("datetime", None, "le 3 mars à 10h", "2027-03-03T10:00:00+01:00"),
    ("datetime", None, "last monday morning", "2026-11-23T09:00:00+01:00"),
    ("datetime", None, "lundi dernier", "2026-11-23T00:00:00+01:00"),
    ("datetime", None, "on March 3rd at 10 am", "2027-03-03T10:00:00+01:00"),
    ("datetime", None, "I think it was last Tuesday, in the afternoon", "2026-11-17T15:00:00+01:00"),
    ("datetime", None, "il y a trois jours", "2026-11-21T10:00:00+01:00"),
    ("datetime", None, "three days ago, in the evening", "2026-11-21T19:00:00+01:00"),
    (
        "datetime",
        None,
        "I'm calling today about an accident that happened yesterday at 5",
        "2026-11-23T17:00:00+01:00",
    ),
    ("datetime", None, "la semaine dernière", "2026-11-17T10:00:00+01:00"),
    ("datetime", None, "it was on the 3rd of March, in the morning", "2027-03-03T09:00:00+01:00"),
    ("datetime", None, "hier soir vers 20h", "2026-11-23T20:00:00+01:00"),
    ("datetime", None, "this morning around 9", "2026-11-24T09:00:00+01:00"),
    ("datetime", None, "ce matin vers 8h30", "2026-11-24T08:30:00+01:00"),
    ("datetime", None, "it was last night", "2026-11-23T19:00:00+01:00"),
    ("datetime", None, "avant-hier", "2026-11-22T10:00:00+01:00"),
    ("datetime", None, "um, I'd say around 2 o'clock yesterday", "2026-11-23T14:00:00+01:00"),
    ("datetime", None, "next friday at 10 am", "2026-11-27T10:00:00+01:00"),
    ("datetime", None, "vendredi prochain à 14h", "2026-11-27T14:00:00+01:00"),
    ("datetime", None, "il y a deux heures", "2026-11-24T08:00:00+01:00"),
    ("datetime", None, "on the fifth of november at noon", "2027-11-05T12:00:00+01:00"),
    ("datetime", None, "le cinq novembre à midi", "2027-11-05T12:00:00+01:00"),
    ("datetime", None, "2026-11-20 14:30", "2026-11-20T14:30:00+01:00"),
    ("datetime", None, "le 20/11 à 14h", "2027-11-20T14:00:00+01:00"),
    ("datetime", None, "dimanche dernier dans la soirée", "2026-11-22T19:00:00+01:00"),
    ("datetime", None, "euh, mardi dernier vers quinze heures trente", "2026-11-17T15:30:00+01:00"),
    ("datetime", None, "at half past two yesterday", "2026-11-23T14:30:00+01:00"),
    ("datetime", None, "well, it was three weeks ago", "2026-11-03T10:00:00+01:00"),
    ("datetime", None, "on Monday, I think, around noon", "2026-11-30T12:00:00+01:00"),
    ("datetime", None, "my car was stolen last saturday night", "2026-11-21T22:00:00+01:00"),
    ("datetime", None, "yesterday, it was raining, around 3", "2026-11-23T15:00:00+01:00"),
    ("datetime", None, "May 5th", "2027-05-05T00:00:00+02:00"),
    ("datetime", None, "le premier décembre", "2026-12-01T00:00:00+01:00"),
    ("datetime", None, "the 3rd", "2026-12-03T00:00:00+01:00"),
    ("datetime", None, "call me back tomorrow at 3", "2026-11-25T15:00:00+01:00"),
    ("datetime", None, "Nov 20 at 6pm", "2027-11-20T18:00:00+01:00"),
    ("datetime", None, "tonight at 8", "2026-11-24T20:00:00+01:00"),
    ("datetime", None, "demain après-midi", "2026-11-25T15:00:00+01:00"),
    ("datetime", None, "cet après-midi vers 16h", "2026-11-24T16:00:00+01:00"),
    ("datetime", None, "it may have been yesterday evening", "2026-11-23T19:00:00+01:00"),
    ("datetime", None, "around 11 last night", "2026-11-23T23:00:00+01:00"),
    ("datetime", None, "yesterday at around a quarter past four", "2026-11-23T16:15:00+01:00"),
    ("datetime", None, "hier vers quatre heures et quart", "2026-11-23T16:15:00+01:00"),
    ("datetime", None, "samedi dernier à 23h", "2026-11-21T23:00:00+01:00"),
    ("datetime", None, "November 20, 2026 at 4:30 PM", "2026-11-20T16:30:00+01:00"),
    ("datetime", None, "20 novembre 2026 à 16h30", "2026-11-20T16:30:00+01:00"),
    ("datetime", None, "it happened at 4:30 this morning", "2026-11-24T04:30:00+01:00"),
    ("datetime", None, "earlier today, around ten to nine", "2026-11-24T08:50:00+01:00"),
    ("datetime", None, "two days ago at 7 in the morning", "2026-11-22T07:00:00+01:00"),
    ("datetime", None, "no, it was yesterday", "2026-11-23T10:00:00+01:00"),
    ("datetime", None, "à midi", "2026-11-24T12:00:00+01:00"),
    ("datetime", None, "call me back in an hour", "2026-11-24T11:00:00+01:00"),
    ("datetime", None, "rappelez-moi dans une heure", "2026-11-24T11:00:00+01:00"),
    ("datetime", None, "in a week", "2026-12-01T10:00:00+01:00"),
]

# (field type, name hint, what the caller said): nothing usable, so None (and never an exception).
NOTHING_USABLE: list[tuple[str, str | None, str]] = [
    ("datetime", None, "I have 3 kids"),
    ("datetime", None, "no idea"),
    ("datetime", None, "I don't remember"),
    ("datetime", None, "my name is John"),
    ("datetime", None, ""),
    ("phone_number", None, "call me at 3"),
    ("phone_number", None, "my number is 06 12 34"),
    ("phone_number", None, "I don't know"),
    ("phone_number", None, "(425) 555-0100"),  # a US number without its country code, read in FR
    ("email", None, "my email is john"),
    ("email", None, "john at gmail"),
    ("email", None, "uh it's john smith at example dot com"),  # smith@, johnsmith@ or john.smith@? ask again
    ("email", None, "!!!"),
    ("text", NAME, "no"),
    ("text", NAME, "euh"),
    ("text", NAME, "no, that's wrong"),
    ("text", NAME, "Hi, I'm calling about my claim"),
    ("phone_number", None, "it's the same number I'm calling from"),
    ("datetime", None, "this weekend"),
    ("datetime", None, "I had a day off"),
    ("text", DESCRIPTION, "euh..."),
    ("text", DESCRIPTION, "non, ce n'est pas ça"),
    ("text", DESCRIPTION, "   "),
]


def _extract(field_type: str, hint: str | None, text: str) -> str | None:
    return extract_value(field_type, text, CTX, name_hint=hint)


@pytest.mark.parametrize(("field_type", "hint", "text", "expected"), VARIED_PHRASINGS)
def test_extract_value(field_type: str, hint: str | None, text: str, expected: str) -> None:
    assert _extract(field_type, hint, text) == expected


def test_extraction_pass_rate() -> None:
    failures = [
        (text, expected, found)
        for field_type, hint, text, expected in VARIED_PHRASINGS
        if (found := _extract(field_type, hint, text)) != expected
    ]
    passed, total = len(VARIED_PHRASINGS) - len(failures), len(VARIED_PHRASINGS)
    print(f"extraction pass rate: {passed}/{total}")
    assert not failures, failures


@pytest.mark.parametrize(("field_type", "hint", "text"), NOTHING_USABLE)
def test_nothing_usable_gives_none(field_type: str, hint: str | None, text: str) -> None:
    assert _extract(field_type, hint, text) is None


def test_phone_numbers_are_read_in_the_context_region() -> None:
    us = ParseContext(now=CTX.now, timezone="America/New_York", default_region="US")
    assert extract_phone_number("sure, it's (425) 555-0100", us) == "+14255550100"
    assert extract_phone_number("you can reach me at 06 12 34 56 78", us) is None


def test_typed_helpers_match_extract_value() -> None:
    found = extract_datetime("it happened yesterday around 3 pm", CTX)
    assert found == datetime(2026, 11, 23, 15, 0, tzinfo=PARIS)
    assert (
        extract_email("mon adresse c'est jean point dupont arobase orange point fr")
        == "jean.dupont@orange.fr"
    )
    assert extract_name("je m'appelle jean dupont") == "Jean Dupont"
    assert extract_text("well, the screen is broken") == "the screen is broken"


def test_unknown_field_type_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown claim field type"):
        extract_value("colour", "blue", CTX)


@pytest.mark.parametrize("field_type", ["text", "datetime", "email", "phone_number"])
@pytest.mark.parametrize(
    "text", ["", " ", "???", "@", "at at at dot dot", "le le le", "- - -", "x" * 5000, "1 2 3 " * 300]
)
def test_odd_input_never_raises(field_type: str, text: str) -> None:
    for hint in (None, NAME, DESCRIPTION):
        _extract(field_type, hint, text)


def test_long_text_is_cut_at_a_word_boundary() -> None:
    value = extract_text("the pipe leaks " * 200)
    assert value is not None
    assert len(value) <= 1000
    assert value.endswith(("the", "pipe", "leaks"))


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        ("caller_name", True),
        ("full_name", True),
        ("nom", True),
        ("lastName", True),
        ("prénom", True),
        ("caller_name name", True),
        ("incident_description", False),
        ("phenomenon", False),
        ("number", False),
        (None, False),
        ("", False),
    ],
)
def test_is_name_field(hint: str | None, expected: bool) -> None:
    assert is_name_field(hint) is expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("jean-yves le gall", "Jean-Yves Le Gall"),
        ("o'brien", "O'Brien"),
        ("charles de gaulle", "Charles de Gaulle"),
        ("valéry giscard d'estaing", "Valéry Giscard d'Estaing"),
        ("McDonald", "McDonald"),
        ("DUPONT", "Dupont"),
    ],
)
def test_title_case_name(name: str, expected: str) -> None:
    assert names.title_case_name(name) == expected


# --- intents --------------------------------------------------------------------------------------

R, H, G, C, Y, N, L = (
    Intent.REPEAT,
    Intent.HUMAN,
    Intent.GOODBYE,
    Intent.CALLBACK,
    Intent.YES,
    Intent.NO,
    Intent.SWITCH_LANGUAGE,
)

# (what the caller said, intents when no value is expected, intents while a value is expected)
INTENT_CASES: list[tuple[str, set[Intent], set[Intent]]] = [
    ("can you repeat", {R}, {R}),
    ("pardon?", {R}, {R}),
    ("what did you say", {R}, {R}),
    ("répétez", {R}, {R}),
    ("vous pouvez répéter ?", {R}, {R}),
    ("Sorry, what?", {R}, {R}),
    ("sorry, I didn't catch that", {R}, {R}),
    ("je n'ai pas compris", {R}, {R}),
    ("I want to talk to a human", {H}, {H}),
    ("I'd like to speak to a person please", {H}, {H}),
    ("can I talk to someone", {H}, {H}),
    ("un conseiller", {H}, {H}),
    ("un humain s'il vous plaît", {H}, {H}),
    ("je veux parler à une vraie personne", {H}, {H}),
    ("passez-moi un conseiller", {H}, {H}),
    ("an agent please", {H}, {H}),
    ("bye", {G}, {G}),
    ("goodbye", {G}, {G}),
    ("that's all, thanks", {G}, {G}),
    ("au revoir", {G}, {G}),
    ("c'est tout merci", {G}, {G}),
    ("ok thanks, bye", {G, Y}, {G, Y}),
    ("call me back tomorrow at 3", {C}, {C}),
    ("rappelez-moi demain", {C}, {C}),
    ("could you call me back later?", {C}, {C}),
    ("vous pouvez me rappeler cet après-midi ?", {C}, {C}),
    ("no, call me back tomorrow", {N, C}, {N, C}),
    ("yes", {Y}, {Y}),
    ("yeah", {Y}, {Y}),
    ("correct", {Y}, {Y}),
    ("that's right", {Y}, {Y}),
    ("exactly", {Y}, {Y}),
    ("oui", {Y}, {Y}),
    ("tout à fait", {Y}, {Y}),
    ("c'est ça", {Y}, {Y}),
    ("exact", {Y}, {Y}),
    ("oui, c'est bien ça", {Y}, {Y}),
    ("yes exactly", {Y}, {Y}),
    ("no", {N}, {N}),
    ("nope", {N}, {N}),
    ("that's wrong", {N}, {N}),
    ("non", {N}, {N}),
    ("pas du tout", {N}, {N}),
    ("ce n'est pas ça", {N}, {N}),
    ("not exactly", {N}, {N}),
    ("pas tout à fait", {N}, {N}),
    ("no, that's not right", {N}, {N}),
    ("non merci, au revoir", {N, G}, {N, G}),
    ("do you speak French", {L}, {L}),
    ("parlez-vous anglais ?", {L}, {L}),
    ("in English please", {L}, {L}),
    ("I don't speak French", {L}, {L}),
    ("on peut continuer en français ?", {L}, {L}),
    ("je ne comprends pas le français", {L}, {L}),
    ("tu parles anglais ?", {L}, {L}),
    ("Could you say that again?", {R}, {R}),
    ("vous avez dit quoi ?", {R}, {R}),
    ("transfer me to an agent", {H}, {H}),
    ("est-ce que je peux parler à un conseiller ?", {H}, {H}),
    ("mettez-moi en relation avec un conseiller", {H}, {H}),
    ("thanks, that's all for today", {G}, {G}),
    ("rien d'autre, merci", {G}, {G}),
    ("je préfère être rappelé demain matin", {C}, {C}),
    ("pouvez-vous me rappeler lundi ?", {C}, {C}),
    ("c'est exact", {Y}, {Y}),
    ("d'accord", {Y}, {Y}),
    ("c'est faux", {N}, {N}),
    ("you got it wrong", {N}, {N}),
    ("I said no", {N}, {N}),
    ("no thanks", {N}, {N}),
    # values, not intents, while a value is expected
    ("my name is Jean-Yves Bye", set(), set()),
    ("no, it's Smith", {N}, set()),
    ("oui, il y a une erreur sur ma facture", {Y}, set()),
    ("yes, my number is 06 12 34 56 78", {Y}, set()),
    ("the technician said he would call me back", set(), set()),
    ("I have no idea", set(), set()),
    ("no idea, the screen just went black", set(), set()),
    ("someone broke into my car", set(), set()),
    ("my laptop screen is broken", set(), set()),
    ("I wrote it in english", set(), set()),
    ("un conseiller m'a dit de rappeler", set(), set()),
    ("the agent at the store told me to call", set(), set()),
    ("my friend is a human rights lawyer", set(), set()),
    ("I told the agent bye", set(), set()),
    ("no problem", set(), set()),
    ("my name is John Goodbye", {G}, {G}),  # "goodbye" is explicit; a surname this rare is not worth it
]


@pytest.mark.parametrize(("text", "relaxed", "expecting"), INTENT_CASES)
def test_detect_intents(text: str, relaxed: set[Intent], expecting: set[Intent]) -> None:
    assert detect_intents(text) == (relaxed or {Intent.NONE})
    assert detect_intents(text, expecting_value=True) == (expecting or {Intent.NONE})


def test_intent_values_are_the_documented_strings() -> None:
    assert [intent.value for intent in Intent] == [
        "repeat",
        "human",
        "goodbye",
        "callback",
        "yes",
        "no",
        "switch_language",
        "none",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("do you speak French?", "fr-FR"),
        ("parlez-vous anglais ?", "en-US"),
        ("in English please", "en-US"),
        ("en français s'il vous plaît", "fr-FR"),
        ("I don't speak French", "en-US"),
        ("je ne parle pas anglais", "fr-FR"),
        ("je parle pas très bien anglais", "fr-FR"),
        ("I don't speak French, do you speak English?", "en-US"),
        ("can we continue in French", "fr-FR"),
        ("do you speak Spanish", None),
        ("hello", None),
    ],
)
def test_requested_language(text: str, expected: str | None) -> None:
    assert requested_language(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no, that's wrong", True),
        ("euh, pardon ?", True),
        ("", True),
        ("euh", False),  # fillers alone carry no intent
        ("no, it's Smith", False),
        ("John Smith", False),
    ],
)
def test_is_intent_only(text: str, expected: bool) -> None:
    assert is_intent_only(text) is expected


# --- hygiene --------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", [understanding, intents, names, when])
def test_no_module_level_mutable_state(module: ModuleType) -> None:
    mutable = {
        name: type(value).__name__
        for name, value in vars(module).items()
        if not name.startswith("__") and isinstance(value, list | dict | set | bytearray)
    }
    assert not mutable


@pytest.mark.parametrize(
    ("heard", "expected"),
    [
        ("My email address is anad.smith.example.com", "anad.smith@example.com"),
        ("c'est jean.petit.orange.fr", "jean.petit@orange.fr"),
        ("it is example.com", None),
        ("my website is www.example.com", None),
    ],
)
def test_an_at_swallowed_by_speech_recognition_is_restored_for_known_domains(
    heard: str, expected: str | None
) -> None:
    assert extract_email(heard) == expected
