"""Parsing and normalisation of claim values (pure functions, no I/O).

Each parser takes what the caller said (as transcribed by speech-to-text, or as rewritten by the LLM)
and returns a normalised value, or raises ``ValueError`` with a short English reason meant to be read
by the LLM ("could not understand 'blue'"). The field name and expected type are added by
:mod:`shared.claim.schema`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from types import MappingProxyType
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dateparser
import phonenumbers
from email_validator import EmailNotValidError, validate_email

from shared.claim.spoken import spoken_email_to_address, spoken_phone_to_digits
from shared.claim.spoken_time import normalise_when, resolve_simple_date, split_date_time

__all__ = [
    "MAX_TEXT_LENGTH",
    "ParseContext",
    "parse_datetime",
    "parse_email",
    "parse_phone_number",
    "parse_text",
    "quote_value",
]

MAX_TEXT_LENGTH: Final = 1000
# Regions writing dates month first; everywhere else "01/02" is the 1st of February.
_MONTH_FIRST_REGIONS: Final = frozenset({"US", "PR", "GU", "VI", "AS", "MP", "UM", "FM", "MH", "PW", "PH"})
_DATEPARSER_PARSERS: Final = ("relative-time", "custom-formats", "absolute-time")  # no Unix timestamps
_PLAUSIBLE_YEARS_BACK: Final = 120
_PLAUSIBLE_YEARS_AHEAD: Final = 100
_ISO_START: Final = re.compile(r"^\d{4}-\d{2}-\d{2}")
_HAS_LETTER: Final = re.compile(r"[^\W\d_]")
_NATIONAL_TRUNK_IN_BRACKETS: Final = re.compile(r"^(\+\d{1,3})\s*\(0\)")
_QUOTE_LIMIT: Final = 60


def quote_value(value: object) -> str:
    """Quote a raw value for an error message, shortened so messages stay short."""
    text = " ".join(str(value).split())
    if len(text) > _QUOTE_LIMIT:
        text = text[: _QUOTE_LIMIT - 1] + "…"
    return f"'{text}'"


@dataclass(frozen=True, slots=True)
class ParseContext:
    """What relative values are resolved against: the call's clock, time zone, region and languages."""

    now: datetime
    timezone: str = "Europe/Paris"
    default_region: str = "FR"
    languages: tuple[str, ...] = ("en", "fr")

    def __post_init__(self) -> None:
        if self.now.tzinfo is None or self.now.utcoffset() is None:
            raise ValueError("ParseContext.now must be timezone-aware")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {self.timezone!r}") from exc
        region = self.default_region.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown phone region {self.default_region!r} (expected e.g. 'FR', 'US')")
        object.__setattr__(self, "default_region", region)
        if not self.languages or not all(isinstance(lang, str) and lang for lang in self.languages):
            raise ValueError("ParseContext.languages must list at least one language code")
        object.__setattr__(self, "languages", tuple(self.languages))

    @classmethod
    def current(
        cls,
        timezone: str = "Europe/Paris",
        default_region: str = "FR",
        languages: tuple[str, ...] = ("en", "fr"),
    ) -> ParseContext:
        """A context for "now" in ``timezone``."""
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {timezone!r}") from exc
        return cls(datetime.now(zone), timezone, default_region, languages)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)  # ZoneInfo caches instances per key

    @property
    def local_now(self) -> datetime:
        return self.now.astimezone(self.zone)

    @property
    def date_order(self) -> Literal["DMY", "MDY"]:
        return "MDY" if self.default_region in _MONTH_FIRST_REGIONS else "DMY"


# --- text ---------------------------------------------------------------------------------------


def parse_text(text: str) -> str:
    """Strip and collapse whitespace; refuse empty values and values over 1000 characters."""
    collapsed = " ".join(str(text).split())
    if not collapsed:
        raise ValueError("the value is empty")
    if len(collapsed) > MAX_TEXT_LENGTH:
        raise ValueError(f"the text is too long ({len(collapsed)} characters, at most {MAX_TEXT_LENGTH})")
    return collapsed


# --- date and time ------------------------------------------------------------------------------


def _dateparser(text: str, ctx: ParseContext) -> datetime | None:
    if not text:
        return None
    settings: dict[str, Any] = {
        "RELATIVE_BASE": ctx.local_now.replace(tzinfo=None),
        "TIMEZONE": ctx.timezone,
        "TO_TIMEZONE": ctx.timezone,
        "RETURN_AS_TIMEZONE_AWARE": True,
        "PREFER_DATES_FROM": "future",
        "DATE_ORDER": ctx.date_order,
        "PREFER_LOCALE_DATE_ORDER": False,
        "PARSERS": list(_DATEPARSER_PARSERS),
    }
    try:
        parsed = dateparser.parse(text, languages=list(ctx.languages), settings=settings)
    except (ValueError, TypeError, OverflowError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=ctx.zone)
    return parsed.astimezone(ctx.zone)


def _parse_iso(text: str, ctx: ParseContext) -> datetime | None:
    if not _ISO_START.match(text):
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=ctx.zone)
    return parsed.astimezone(ctx.zone)


def _at(day: date, clock: time, ctx: ParseContext) -> datetime:
    return datetime.combine(day, clock, tzinfo=ctx.zone)


def _resolve_spoken(normalised: str, ctx: ParseContext) -> datetime | None:
    parts = split_date_time(normalised)
    today = ctx.local_now.date()
    simple = resolve_simple_date(parts.date_text, today) if parts.date_text else None
    if parts.time_of_day is None:
        if simple is not None:
            return _at(simple, time(0), ctx)
        return _dateparser(parts.date_text, ctx)
    if not parts.date_text:
        day = date.fromordinal(today.toordinal() + (parts.day_offset or 0))
    elif simple is not None:
        day = simple
    else:
        parsed = _dateparser(parts.date_text, ctx)
        if parsed is None:
            return None
        day = parsed.date()
    return _at(day, parts.time_of_day, ctx)


def parse_datetime(text: str, ctx: ParseContext) -> datetime:
    """Parse an ISO 8601 or spoken (English/French) date and time into an aware datetime.

    Relative forms are resolved against ``ctx.now`` in ``ctx.timezone``; naive values are read in
    ``ctx.timezone`` and every result is expressed in it. Bare weekdays and dates are taken in the
    future, explicit past phrases ("yesterday", "lundi dernier", "il y a trois jours") in the past.
    """
    raw = " ".join(str(text).split())
    if not raw:
        raise ValueError("the value is empty")
    result = _parse_iso(raw, ctx)
    if result is None:
        normalised = normalise_when(raw)
        result = _resolve_spoken(normalised, ctx) or _dateparser(normalised, ctx) or _dateparser(raw, ctx)
    if result is None:
        raise ValueError(f"could not understand {quote_value(raw)}")
    now_year = ctx.local_now.year
    if not now_year - _PLAUSIBLE_YEARS_BACK <= result.year <= now_year + _PLAUSIBLE_YEARS_AHEAD:
        raise ValueError(f"{quote_value(raw)} is not a plausible date (year {result.year})")
    return result


# --- phone numbers ------------------------------------------------------------------------------

_PHONE_PARSE_REASONS: Final = MappingProxyType(
    {
        phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "has an unknown country code",
        phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "is too short to be a phone number",
        phonenumbers.NumberParseException.TOO_SHORT_NSN: "is too short to be a phone number",
        phonenumbers.NumberParseException.TOO_LONG: "is too long to be a phone number",
    }
)
_PHONE_LENGTH_REASONS: Final = MappingProxyType(
    {
        phonenumbers.ValidationResult.TOO_SHORT: "is too short to be a phone number",
        phonenumbers.ValidationResult.TOO_LONG: "is too long to be a phone number",
        phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "has an unknown country code",
    }
)


def _phone_candidate(raw: str) -> str:
    candidate = spoken_phone_to_digits(raw) if _HAS_LETTER.search(raw) else raw
    candidate = _NATIONAL_TRUNK_IN_BRACKETS.sub(r"\1", candidate.strip())  # "+33 (0)6 ..."
    compact = re.sub(r"[\s().\-/]", "", candidate)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    return compact


def parse_phone_number(text: str, ctx: ParseContext) -> str:
    """Parse a written or spoken phone number into E.164 ("+33612345678").

    Numbers without a country code are read in ``ctx.default_region``.
    """
    raw = " ".join(str(text).split())
    if not raw:
        raise ValueError("the value is empty")
    candidate = _phone_candidate(raw)
    if not candidate or not re.fullmatch(r"\+?\d+", candidate):
        raise ValueError(f"could not understand {quote_value(raw)}")
    try:
        number = phonenumbers.parse(candidate, ctx.default_region)
    except phonenumbers.NumberParseException as exc:
        reason = _PHONE_PARSE_REASONS.get(exc.error_type)
        message = f"{quote_value(raw)} {reason}" if reason else f"could not understand {quote_value(raw)}"
        raise ValueError(message) from None
    if not phonenumbers.is_valid_number(number):
        reason = _PHONE_LENGTH_REASONS.get(phonenumbers.is_possible_number_with_reason(number))
        hint = (
            ""
            if candidate.startswith("+")
            else f" (read as a {ctx.default_region} number; include the country code)"
        )
        raise ValueError(f"{quote_value(raw)} {reason or 'is not a valid phone number'}{hint}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# --- email addresses ----------------------------------------------------------------------------


def parse_email(text: str) -> str:
    """Parse a written or spoken email address; the domain is lower-cased."""
    raw = " ".join(str(text).split())
    if not raw:
        raise ValueError("the value is empty")
    candidate = spoken_email_to_address(raw)
    if "@" not in candidate:
        raise ValueError(f"{quote_value(raw)} has no '@' (say 'at' or 'arobase' between name and domain)")
    try:
        return validate_email(candidate, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"{quote_value(candidate)} is not a valid email address: {exc}") from None
