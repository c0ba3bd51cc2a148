"""parse_datetime: ISO 8601 and spoken English/French dates, against a fixed "now"."""

from __future__ import annotations

import socket
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from shared.claim.values import ParseContext, parse_datetime, parse_email, parse_phone_number

PARIS = ZoneInfo("Europe/Paris")
# Tuesday 24 November 2026, 10:00 in Paris (UTC+01:00).
CTX = ParseContext(now=datetime(2026, 11, 24, 10, 0, tzinfo=PARIS))


@pytest.mark.parametrize(
    ("spoken", "expected"),
    [
        ("tomorrow at 3 pm", "2026-11-25T15:00:00+01:00"),
        ("tomorrow at three pm", "2026-11-25T15:00:00+01:00"),
        ("March 3rd", "2027-03-03T00:00:00+01:00"),
        ("the third of march", "2027-03-03T00:00:00+01:00"),
        ("the twenty-first of december", "2026-12-21T00:00:00+01:00"),
        ("next monday at 10am", "2026-11-30T10:00:00+01:00"),
        ("monday at 10", "2026-11-30T10:00:00+01:00"),
        ("monday next week", "2026-11-30T00:00:00+01:00"),
        ("last monday", "2026-11-23T00:00:00+01:00"),
        ("last friday at 5pm", "2026-11-20T17:00:00+01:00"),
        ("tuesday", "2026-12-01T00:00:00+01:00"),
        ("yesterday", "2026-11-23T10:00:00+01:00"),
        ("yesterday at noon", "2026-11-23T12:00:00+01:00"),
        ("three days ago", "2026-11-21T10:00:00+01:00"),
        ("in 2 hours", "2026-11-24T12:00:00+01:00"),
        ("this morning", "2026-11-24T09:00:00+01:00"),
        ("this afternoon at 3", "2026-11-24T15:00:00+01:00"),
        ("tonight", "2026-11-24T19:00:00+01:00"),
        ("last night", "2026-11-23T19:00:00+01:00"),
        ("tomorrow evening", "2026-11-25T19:00:00+01:00"),
        ("tomorrow at 9 in the morning", "2026-11-25T09:00:00+01:00"),
        ("half past three", "2026-11-24T15:30:00+01:00"),
        ("quarter past ten", "2026-11-24T10:15:00+01:00"),
        ("a quarter to four", "2026-11-24T15:45:00+01:00"),
        ("ten o'clock", "2026-11-24T10:00:00+01:00"),
        ("at ten thirty", "2026-11-24T10:30:00+01:00"),
        ("tomorrow 10 a.m.", "2026-11-25T10:00:00+01:00"),
        ("at midnight", "2026-11-24T00:00:00+01:00"),
        ("Thursday, December 3rd at 2:30 pm", "2026-12-03T14:30:00+01:00"),
        ("the fifth", "2026-12-05T00:00:00+01:00"),
    ],
)
def test_spoken_english(spoken: str, expected: str) -> None:
    assert parse_datetime(spoken, CTX).isoformat() == expected


@pytest.mark.parametrize(
    ("spoken", "expected"),
    [
        ("demain à 15h", "2026-11-25T15:00:00+01:00"),
        ("le 3 mars", "2027-03-03T00:00:00+01:00"),
        ("après-demain à 9h", "2026-11-26T09:00:00+01:00"),
        ("3 mars 2025 à 14h30", "2025-03-03T14:30:00+01:00"),
        ("dans deux jours", "2026-11-26T10:00:00+01:00"),
        ("jeudi", "2026-11-26T00:00:00+01:00"),
        ("lundi prochain à 10h", "2026-11-30T10:00:00+01:00"),
        ("lundi 10h", "2026-11-30T10:00:00+01:00"),
        ("lundi dernier", "2026-11-23T00:00:00+01:00"),
        ("lundi de la semaine prochaine", "2026-11-30T00:00:00+01:00"),
        ("hier", "2026-11-23T10:00:00+01:00"),
        ("hier soir", "2026-11-23T19:00:00+01:00"),
        ("il y a trois jours", "2026-11-21T10:00:00+01:00"),
        ("il y a 3 jours à 14h", "2026-11-21T14:00:00+01:00"),
        ("dans 2 heures", "2026-11-24T12:00:00+01:00"),
        ("ce matin", "2026-11-24T09:00:00+01:00"),
        ("cet après-midi", "2026-11-24T15:00:00+01:00"),
        ("ce soir à 8 heures", "2026-11-24T20:00:00+01:00"),
        ("demain matin", "2026-11-25T09:00:00+01:00"),
        ("demain soir", "2026-11-25T19:00:00+01:00"),
        ("quinze heures trente", "2026-11-24T15:30:00+01:00"),
        ("dix heures et quart", "2026-11-24T10:15:00+01:00"),
        ("dix heures et demie", "2026-11-24T10:30:00+01:00"),
        ("onze heures moins le quart", "2026-11-24T10:45:00+01:00"),
        ("midi et demi", "2026-11-24T12:30:00+01:00"),
        ("minuit", "2026-11-24T00:00:00+01:00"),
        ("trois heures de l'après-midi", "2026-11-24T15:00:00+01:00"),
        ("le premier décembre", "2026-12-01T00:00:00+01:00"),
        ("vendredi 27 novembre à 16h", "2026-11-27T16:00:00+01:00"),
        ("le vingt-cinq décembre deux mille vingt-six à dix-sept heures", "2026-12-25T17:00:00+01:00"),
        ("le 5", "2026-12-05T00:00:00+01:00"),
    ],
)
def test_spoken_french(spoken: str, expected: str) -> None:
    assert parse_datetime(spoken, CTX).isoformat() == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-25T10:00:00", "2026-11-25T10:00:00+01:00"),  # naive: read in the call's time zone
        ("2026-11-25 10:00", "2026-11-25T10:00:00+01:00"),
        ("2026-11-25T10:00:00Z", "2026-11-25T11:00:00+01:00"),  # same instant, expressed in Paris
        ("2026-11-25T10:00:00-05:00", "2026-11-25T16:00:00+01:00"),
        ("2026-07-14T21:30:00+02:00", "2026-07-14T21:30:00+02:00"),  # summer time offset kept right
        ("2026-11-25", "2026-11-25T00:00:00+01:00"),
        ("25/12/2026 à 15:00", "2026-12-25T15:00:00+01:00"),  # day first for a French caller
    ],
)
def test_iso_and_numeric_forms(text: str, expected: str) -> None:
    assert parse_datetime(text, CTX).isoformat() == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("blue", "could not understand 'blue'"),
        ("hello world", "could not understand 'hello world'"),
        ("", "the value is empty"),
        ("   ", "the value is empty"),
        ("1234", "not a plausible date"),
        ("banana tomorrow apple", "could not understand"),
    ],
)
def test_invalid_datetimes(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_datetime(text, CTX)


def test_result_is_aware_in_call_timezone_across_dst() -> None:
    summer = ParseContext(now=datetime(2026, 6, 24, 8, 0, tzinfo=ZoneInfo("UTC")))
    result = parse_datetime("demain à 15h", summer)
    assert result.tzinfo is not None
    assert result.isoformat() == "2026-06-25T15:00:00+02:00"


def test_month_first_date_order_for_us_callers() -> None:
    new_york = ZoneInfo("America/New_York")
    us = ParseContext(
        now=datetime(2026, 11, 24, 10, 0, tzinfo=new_york), timezone="America/New_York", default_region="us"
    )
    assert us.default_region == "US"
    assert parse_datetime("01/02/2027 at 3pm", us).isoformat() == "2027-01-02T15:00:00-05:00"
    assert parse_datetime("01/02/2027 at 3pm", CTX).isoformat() == "2027-02-01T15:00:00+01:00"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"now": datetime(2026, 11, 24, 10, 0)},  # naive
        {"now": datetime(2026, 11, 24, 10, 0, tzinfo=PARIS), "timezone": "Mars/Olympus_Mons"},
        {"now": datetime(2026, 11, 24, 10, 0, tzinfo=PARIS), "default_region": "XX"},
        {"now": datetime(2026, 11, 24, 10, 0, tzinfo=PARIS), "languages": ()},
    ],
)
def test_parse_context_rejects_bad_settings(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ParseContext(**kwargs)  # type: ignore[arg-type]


def test_parse_context_current_is_aware_and_recent() -> None:
    ctx = ParseContext.current(timezone="Europe/Paris", default_region="FR")
    assert ctx.now.tzinfo is not None
    assert abs((datetime.now(PARIS) - ctx.now).total_seconds()) < 60
    assert parse_datetime("now", ctx).date() == ctx.local_now.date()


def test_parsers_never_touch_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    assert parse_datetime("lundi prochain à 10h", CTX).hour == 10
    assert parse_phone_number("06 12 34 56 78", CTX) == "+33612345678"
    assert parse_email("jean point dupont arobase orange point fr") == "jean.dupont@orange.fr"
