"""The per-call claim schema sent by the company, and validation of the values filled in during the call.

A claim schema is a short list of typed fields. During the call the LLM (tool ``updated_claim``) and
the offline form-filling agent set values one field at a time; :func:`validate_claim_value` turns
what was said into a normalised string, or raises :class:`ClaimValueError` whose message is returned
to the LLM as the tool result so it can ask again.

Normalised forms: text is stripped (at most 1000 characters), datetimes are ISO 8601 with the
offset of the call's time zone, phone numbers are E.164 and emails have a lower-case domain.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated, Any, Final

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    create_model,
    field_validator,
    model_validator,
)

from shared.claim.values import (
    ParseContext,
    parse_datetime,
    parse_email,
    parse_phone_number,
    parse_text,
    quote_value,
)

__all__ = [
    "DEFAULT_CLAIM_SCHEMA",
    "MAX_CLAIM_FIELDS",
    "RESERVED_FIELD_NAMES",
    "ClaimField",
    "ClaimFieldType",
    "ClaimSchema",
    "ClaimValueError",
    "build_claim_model",
    "normalise_claim_value",
    "validate_claim",
    "validate_claim_value",
]

MAX_CLAIM_FIELDS: Final = 20
MAX_FIELD_NAME_LENGTH: Final = 40
MAX_DESCRIPTION_LENGTH: Final = 300
_NAME_PATTERN: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Lower-cased names a field may not take: anything pydantic's BaseModel defines (model_config, json,
# dict, copy, schema...) and Python keywords. Names starting with "_" and pydantic's protected
# prefixes ("model_validate...", "model_dump...") are refused too; "model_number" is fine.
RESERVED_FIELD_NAMES: Final = frozenset(
    {name.lower() for name in dir(BaseModel)} | {name.lower() for name in keyword.kwlist}
)
_RESERVED_PREFIXES: Final = ("_", "model_validate", "model_dump")


class ClaimFieldType(StrEnum):
    TEXT = "text"
    DATETIME = "datetime"
    EMAIL = "email"
    PHONE_NUMBER = "phone_number"


_TYPE_LABELS: Final = MappingProxyType(
    {
        ClaimFieldType.TEXT: "text",
        ClaimFieldType.DATETIME: "a date and time",
        ClaimFieldType.EMAIL: "an email address",
        ClaimFieldType.PHONE_NUMBER: "a phone number",
    }
)


class ClaimField(BaseModel):
    """One field of a claim: a name the LLM uses, a type and an optional hint for the LLM."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1, max_length=MAX_FIELD_NAME_LENGTH)]
    type: ClaimFieldType = ClaimFieldType.TEXT
    description: Annotated[str | None, Field(max_length=MAX_DESCRIPTION_LENGTH)] = None

    @field_validator("name")
    @classmethod
    def _check_name(cls, name: str) -> str:
        if not _NAME_PATTERN.fullmatch(name):
            raise ValueError(
                f"field name {name!r} must start with a letter and contain only letters, digits and '_'"
            )
        lowered = name.lower()
        if lowered.startswith(_RESERVED_PREFIXES) or lowered in RESERVED_FIELD_NAMES:
            raise ValueError(f"field name {name!r} is reserved; choose another name")
        return name

    @field_validator("description", mode="before")
    @classmethod
    def _strip_description(cls, description: object) -> object:
        if isinstance(description, str):
            return " ".join(description.split()) or None
        return description


class ClaimSchema(RootModel[tuple[ClaimField, ...]]):
    """The fields of a claim, at most 20, with names unique regardless of case. Immutable."""

    model_config = ConfigDict(frozen=True)

    @model_validator(mode="after")
    def _check_fields(self) -> ClaimSchema:
        if len(self.root) > MAX_CLAIM_FIELDS:
            raise ValueError(f"a claim schema has at most {MAX_CLAIM_FIELDS} fields, got {len(self.root)}")
        seen: dict[str, str] = {}
        for field in self.root:
            previous = seen.get(field.name.lower())
            if previous == field.name:
                raise ValueError(f"field name {field.name!r} is used more than once")
            if previous is not None:
                raise ValueError(
                    f"field names {previous!r} and {field.name!r} clash (names are case-insensitive)"
                )
            seen[field.name.lower()] = field.name
        return self

    @property
    def fields(self) -> tuple[ClaimField, ...]:
        return self.root

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(field.name for field in self.root)

    def __len__(self) -> int:
        return len(self.root)

    def iter_fields(self) -> Iterator[ClaimField]:
        return iter(self.root)

    def get(self, name: str, *, ignore_case: bool = False) -> ClaimField | None:
        """The field called exactly ``name`` (or regardless of case with ``ignore_case``)."""
        for field in self.root:
            if field.name == name:
                return field
        if not ignore_case:
            return None
        lowered = name.strip().lower()
        return next((field for field in self.root if field.name.lower() == lowered), None)


DEFAULT_CLAIM_SCHEMA: Final = ClaimSchema.model_validate(
    [
        {"name": "caller_name", "type": "text", "description": "first and last name of the caller"},
        {"name": "caller_email", "type": "email", "description": "email address to send the follow-up to"},
        {"name": "caller_phone", "type": "phone_number", "description": "phone number to call back"},
        {
            "name": "incident_datetime",
            "type": "datetime",
            "description": "when the incident happened or was first noticed",
        },
        {
            "name": "incident_description",
            "type": "text",
            "description": "what happened, in the caller's words, with any relevant detail",
        },
    ]
)


class ClaimValueError(ValueError):
    """A claim value (or several) could not be validated. ``str(error)`` is meant for the LLM."""

    def __init__(self, message: str, *, field: str | None, problems: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.problems: Mapping[str, str] = MappingProxyType(dict(problems or {field or "": message}))

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.problems)


def _parse_by_type(field: ClaimField, value: object, ctx: ParseContext) -> str:
    if field.type is ClaimFieldType.DATETIME:
        if isinstance(value, datetime):
            parsed = value if value.tzinfo is not None else value.replace(tzinfo=ctx.zone)
            return parsed.astimezone(ctx.zone).isoformat(timespec="seconds")
        return parse_datetime(_as_text(value), ctx).isoformat(timespec="seconds")
    if field.type is ClaimFieldType.PHONE_NUMBER:
        return parse_phone_number(_as_text(value), ctx)
    if field.type is ClaimFieldType.EMAIL:
        return parse_email(_as_text(value))
    return parse_text(_as_text(value))


def _as_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"expected a string, got {type(value).__name__}")


def normalise_claim_value(field: ClaimField, value: object, ctx: ParseContext) -> str:
    """Normalise ``value`` for ``field`` or raise :class:`ClaimValueError` naming the field."""
    if value is None:
        raise ClaimValueError(
            f"'{field.name}' expects {_TYPE_LABELS[field.type]}; no value was given", field=field.name
        )
    try:
        return _parse_by_type(field, value, ctx)
    except ClaimValueError:
        raise
    except ValueError as exc:
        reason = str(exc) or f"could not understand {quote_value(value)}"
        raise ClaimValueError(
            f"'{field.name}' expects {_TYPE_LABELS[field.type]}; {reason}", field=field.name
        ) from None


def _unknown_field(schema: ClaimSchema, name: str) -> ClaimValueError:
    valid = ", ".join(schema.names) or "(none)"
    close = schema.get(name, ignore_case=True)
    hint = f" (did you mean '{close.name}'?)" if close is not None else ""
    return ClaimValueError(
        f"unknown claim field {quote_value(name)}{hint}; valid fields are: {valid}", field=name
    )


def validate_claim_value(
    schema: ClaimSchema, field_name: str, raw_value: object, *, context: ParseContext
) -> str:
    """The normalised value of one field (the ``updated_claim(field, value)`` tool).

    ``field_name`` must match a schema name exactly, so callers can store the value under it.
    """
    field = schema.get(field_name)
    if field is None:
        raise _unknown_field(schema, field_name)
    return normalise_claim_value(field, raw_value, context)


def validate_claim(
    schema: ClaimSchema, values: Mapping[str, object], *, context: ParseContext
) -> dict[str, str | None]:
    """Validate a whole claim: every schema field, in schema order, ``None`` when unset.

    Raises one :class:`ClaimValueError` listing every unknown or invalid field.
    """
    result: dict[str, str | None] = dict.fromkeys(schema.names)
    problems: dict[str, str] = {}
    for name, raw in values.items():
        field = schema.get(name)
        if field is None:
            problems[name] = _unknown_field(schema, name).message
            continue
        if raw is None:
            continue
        try:
            result[field.name] = normalise_claim_value(field, raw, context)
        except ClaimValueError as exc:
            problems[field.name] = exc.message
    if problems:
        if len(problems) == 1:
            ((name, message),) = problems.items()
            raise ClaimValueError(message, field=name, problems=problems)
        listing = "\n".join(f"- {message}" for message in problems.values())
        raise ClaimValueError(
            f"{len(problems)} claim fields are invalid:\n{listing}",
            field=next(iter(problems)),
            problems=problems,
        )
    return result


def _model_validator_for(field: ClaimField, ctx: ParseContext) -> Callable[[object], str | None]:
    def validate(value: object) -> str | None:
        return None if value is None else normalise_claim_value(field, value, ctx)

    return validate


def build_claim_model(schema: ClaimSchema, *, context: ParseContext) -> type[BaseModel]:
    """A pydantic model of the claim: one optional string field per schema field, normalised on
    validation and on assignment, unknown fields refused."""
    definitions: dict[str, Any] = {
        field.name: (
            Annotated[
                str | None,
                BeforeValidator(_model_validator_for(field, context)),
                Field(description=field.description),
            ],
            None,
        )
        for field in schema.fields
    }
    return create_model(
        "Claim",
        __config__=ConfigDict(extra="forbid", validate_assignment=True),
        **definitions,
    )
