"""One rule for a phone key that chooses the language (the media host's DTMF and Call Automation's
RecognizeCompleted both ask the call)."""

from __future__ import annotations

import pytest

from shared.models import Call
from shared.models.call import CallInitiate, Language, LanguageSettings


def call_with(*codes: str) -> Call:
    languages = [Language(short_code=code, voice=f"{code}-Voice") for code in codes]
    lang = LanguageSettings(default_short_code=codes[0], availables=languages)
    return Call(caller_phone="+33612345678", initiate=CallInitiate(lang=lang))


@pytest.mark.parametrize(
    ("key", "chosen"),
    [("1", "en-US"), ("2", "fr-FR"), ("3", "es-ES"), ("two", "fr-FR"), ("Three", "es-ES"), (" 1 ", "en-US")],
)
def test_a_key_chooses_the_language_in_its_place(key: str, chosen: str) -> None:
    assert call_with("en-US", "fr-FR", "es-ES").language_for_key(key) == chosen


@pytest.mark.parametrize("key", ["0", "4", "four", "*", "#", "A", "", "12", "x"])
def test_other_keys_choose_nothing(key: str) -> None:
    assert call_with("en-US", "fr-FR", "es-ES").language_for_key(key) is None


def test_with_one_language_no_key_chooses() -> None:
    assert call_with("de-DE").language_for_key("1") is None
