"""Claim values as a voice says them back to the caller (English and French; dates in another
language from its CLDR patterns, through Babel)."""

from __future__ import annotations

import re
from datetime import datetime

import phonenumbers
from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time

_DAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
}
_MONTHS = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "fr": (
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
}


def _family(lang: str) -> str:
    return "fr" if lang.lower().startswith("fr") else "en"


def _locale_datetime(value: datetime, lang: str) -> str | None:
    """ "lunes, 23 de noviembre de 2026, 17:00": the language's full date, short time and the way it
    joins them; None for a language Babel does not know."""
    try:
        locale = Locale.parse(lang.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return None
    joined = re.sub(r"'([^']*)'", r"\1", str(locale.datetime_formats["full"]))
    date, time = format_date(value, "full", locale=locale), format_time(value, "short", locale=locale)
    return joined.replace("{1}", date).replace("{0}", time)


def say_datetime(value: datetime, lang: str) -> str:
    if not lang.lower().startswith(("en", "fr")):
        spoken = _locale_datetime(value, lang)
        if spoken is not None:
            return spoken
    family = _family(lang)
    day = _DAYS[family][value.weekday()]
    month = _MONTHS[family][value.month - 1]
    if family == "fr":
        minutes = f"{value.minute:02d}" if value.minute else ""
        return f"le {day} {value.day} {month} à {value.hour} h {minutes}".rstrip()
    hour = value.hour % 12 or 12
    suffix = "AM" if value.hour < 12 else "PM"
    clock = f"{hour}:{value.minute:02d} {suffix}" if value.minute else f"{hour} {suffix}"
    return f"{day}, {month} {value.day} at {clock}"


def say_phone(value: str) -> str:
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def say_value(field_type: str, value: str, lang: str) -> str:
    if field_type == "datetime":
        try:
            return say_datetime(datetime.fromisoformat(value), lang)
        except ValueError:
            return value
    if field_type == "phone_number":
        return say_phone(value)
    return value
