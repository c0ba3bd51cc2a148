"""The spoken-number normaliser shared by the date and phone parsers."""

from __future__ import annotations

import pytest

from shared.claim.spoken import spoken_phone_to_digits, words_to_digits


@pytest.mark.parametrize(
    ("spoken", "expected"),
    [
        ("the third of march", "the 3 of march"),
        ("the twenty-first of march", "the 21 of march"),
        ("thirty first", "31"),
        ("le premier décembre", "le 1 décembre"),
        ("quinze heures trente", "15 heures 30"),
        ("vingt et une heures", "21 heures"),
        ("soixante et onze", "71"),
        ("soixante-dix-huit", "78"),
        ("quatre-vingt-dix-sept", "97"),
        ("quatre-vingts", "80"),
        ("deux mille vingt-six", "2026"),
        ("two thousand and twenty six", "2026"),
        ("sept heures", "7 heures"),
        ("3 sept 2025", "3 sept 2025"),  # "sept" next to a day number is September
        ("après-midi", "après-midi"),  # hyphenated words that are not numbers stay whole
        ("zéro six, vingt, vingt et un.", "0 6, 20, 21."),  # a comma ends a number; punctuation stays
    ],
)
def test_words_to_digits(spoken: str, expected: str) -> None:
    assert words_to_digits(spoken) == expected


@pytest.mark.parametrize(
    ("spoken", "expected"),
    [
        ("double five triple seven", "55777"),
        ("plus thirty three", "+33"),
        ("one hundred", "100"),
        ("oh six", "06"),
    ],
)
def test_spoken_phone_digits(spoken: str, expected: str) -> None:
    assert spoken_phone_to_digits(spoken) == expected
