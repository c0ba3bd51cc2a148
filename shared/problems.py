"""Validation errors in plain words: one line per problem, naming where it is and what is expected.

pydantic's own text ("Input should be a valid tuple [type=tuple_type, ...] For further information
visit https://errors.pydantic.dev/...") is written for Python developers; a claim schema or a setting
is written by someone configuring the call center, who needs "claim: a list of fields is expected".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from pydantic import ValidationError

__all__ = ["plain_message", "plain_problems"]

_LISTS: Final = frozenset({"list_type", "tuple_type", "set_type"})
_TEXT: Final = frozenset({"string_type", "str_type"})
_NUMBERS: Final = frozenset({"int_type", "int_parsing", "float_type", "float_parsing"})


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def plain_message(error: Mapping[str, Any]) -> str:  # noqa: PLR0911, PLR0912 (one flat table of cases)
    """The message of one pydantic error (`ValidationError.errors()` item) in plain words."""
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    given = error.get("input")
    if kind in _LISTS:
        return f"a list is expected, not {_shown(given)}"
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return f"an object ({{name: value, ...}}) is expected, not {_shown(given)}"
    if kind == "missing":
        return "required, but missing"
    if kind == "extra_forbidden":
        return "not a known field (check its spelling)"
    if kind in _TEXT:
        return f"text is expected, not {_shown(given)}"
    if kind in _NUMBERS:
        return f"a number is expected, not {_shown(given)}"
    if kind in {"bool_type", "bool_parsing"}:
        return f"true or false is expected, not {_shown(given)}"
    if kind == "enum":
        return f"{_shown(given)} is not one of {context.get('expected', 'the allowed values')}"
    if kind == "literal_error":
        return f"{_shown(given)} is not one of {context.get('expected', 'the allowed values')}"
    if kind == "string_too_short":
        shortest = context.get("min_length")
        return "empty" if shortest == 1 else f"too short (at least {shortest})"
    if kind == "string_too_long":
        return f"too long (at most {context.get('max_length')} characters)"
    if kind == "too_short":
        return f"too few items (at least {context.get('min_length')})"
    if kind == "too_long":
        return f"too many items (at most {context.get('max_length')})"
    message = str(error.get("msg", "invalid"))
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


def _where(location: Sequence[int | str], root: str) -> str:
    parts = [root] if root else []
    for part in location:
        parts.append(f"item {part + 1}" if isinstance(part, int) else str(part))
    return " > ".join(parts) or "value"


def plain_problems(exc: ValidationError, *, root: str = "") -> list[str]:
    """`claim > item 1 > type: 'texte' is not one of 'text', 'datetime', 'email' or 'phone_number'`."""
    return [f"{_where(error['loc'], root)}: {plain_message(error)}" for error in exc.errors()]
