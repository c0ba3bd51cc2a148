"""Dates said back in a call language without a phrase list follow that language (not English words
inside a translated sentence)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from shared.conversation.speakable import say_datetime, say_value

WHEN = datetime(2026, 11, 23, 17, 5, tzinfo=ZoneInfo("Europe/Paris"))


def test_a_date_in_spanish_german_and_japanese() -> None:
    assert say_datetime(WHEN, "es-ES") == "lunes, 23 de noviembre de 2026, 17:05"
    assert say_datetime(WHEN, "de-DE") == "Montag, 23. November 2026, 17:05"
    assert say_value("datetime", WHEN.isoformat(), "ja-JP") == "2026年11月23日月曜日 17:05"


def test_english_and_french_keep_their_own_wording_and_an_unknown_language_gets_english() -> None:
    assert say_datetime(WHEN, "en-US") == "Monday, November 23 at 5:05 PM"
    assert say_datetime(WHEN, "fr-CA") == "le lundi 23 novembre à 17 h 05"
    assert say_datetime(WHEN, "xx-YY") == "Monday, November 23 at 5:05 PM"
