"""parse_phone_number, parse_email and parse_text: written and spoken forms, valid and invalid."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from shared.claim.values import MAX_TEXT_LENGTH, ParseContext, parse_email, parse_phone_number, parse_text

CTX = ParseContext(now=datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/Paris")))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+33 6 12 34 56 78", "+33612345678"),
        ("06 12 34 56 78", "+33612345678"),  # national, read in the default region
        ("06.12.34.56.78", "+33612345678"),
        ("06-12-34-56-78", "+33612345678"),
        ("0033612345678", "+33612345678"),
        ("+33 (0)6 12 34 56 78", "+33612345678"),
        ("+1 (425) 555-0100", "+14255550100"),
        ("zero six twelve thirty four fifty six seventy eight", "+33612345678"),
        ("zero six one two three four five six seven eight", "+33612345678"),
        ("zéro six douze trente-quatre cinquante-six soixante-dix-huit", "+33612345678"),
        ("zéro six, douze, trente quatre, cinquante six, soixante dix huit", "+33612345678"),
        ("plus one four two five double five five oh one double oh", "+14255550100"),
        ("plus trente-trois six douze trente-quatre cinquante-six soixante-dix-huit", "+33612345678"),
        ("my number is 06 12 34 56 78", "+33612345678"),
    ],
)
def test_valid_phone_numbers(text: str, expected: str) -> None:
    assert parse_phone_number(text, CTX) == expected


def test_phone_default_region_comes_from_context() -> None:
    us = ParseContext(now=CTX.now, timezone="America/New_York", default_region="US")
    assert parse_phone_number("(425) 555-0100", us) == "+14255550100"
    assert parse_phone_number("+33 6 12 34 56 78", us) == "+33612345678"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("06 12 34 56 7", "is not a valid phone number .*include the country code"),
        ("06 12 34 56 78 90 12", "too long"),
        ("+33 1 23", "too short"),
        ("+999 123456", "unknown country code"),
        ("blue", "could not understand the word 'blue'"),
        ("06 12 banana", "could not understand the word 'banana'"),
        ("", "the value is empty"),
    ],
)
def test_invalid_phone_numbers(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_phone_number(text, CTX)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("john@example.com", "john@example.com"),
        ("John.Smith@Example.COM", "John.Smith@example.com"),  # the domain is lower-cased
        ("  john@example.com. ", "john@example.com"),
        ("john dot smith at example dot com", "john.smith@example.com"),
        ("john underscore doe at gmail dot com", "john_doe@gmail.com"),
        ("mary hyphen jane at example dot co dot uk", "mary-jane@example.co.uk"),
        ("John Dot Smith At Example Dot Com", "john.smith@example.com"),
        ("jean point dupont arobase orange point fr", "jean.dupont@orange.fr"),
        ("jean tiret dupont arobase free point fr", "jean-dupont@free.fr"),
        ("jean tiret bas dupont arobase free point fr", "jean_dupont@free.fr"),
        ("j o h n at example dot com", "john@example.com"),
        ("my email is j o h n at example dot com", "john@example.com"),
        ("write to john@example.com please", "john@example.com"),
    ],
)
def test_valid_emails(text: str, expected: str) -> None:
    assert parse_email(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not an email", "has no '@'"),
        ("john at", "'john@' is not a valid email address"),
        ("john@@example.com", "is not a valid email address"),
        ("john@localhost", "is not a valid email address"),
        ("john..doe@example.com", "two periods in a row"),
        ("", "the value is empty"),
    ],
)
def test_invalid_emails(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_email(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Dell XPS 13  ", "Dell XPS 13"),
        ("screen\n\nflickers   a lot", "screen flickers a lot"),
        ("é" * MAX_TEXT_LENGTH, "é" * MAX_TEXT_LENGTH),
    ],
)
def test_valid_text(text: str, expected: str) -> None:
    assert parse_text(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the value is empty"),
        (" \n\t ", "the value is empty"),
        ("x" * 1001, "too long \\(1001 characters"),
    ],
)
def test_invalid_text(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_text(text)
