"""The translation port: fixed texts turned into another language (the bot's phrases for a call in a
language the prompts file has no list for).

Contract of every adapter:

* `translate(texts, source=..., target=...)` answers one translation per text, in order;
* a `{name}` placeholder in a text comes back exactly as written (only the words around it are
  translated), and the spaces that open or close a text are kept;
* languages are BCP 47 tags as the call carries them ("de-DE", "es-ES"): the adapter maps them to
  its own codes;
* every failure (unreachable, refused, timed out, an answer of the wrong shape) is a
  `TranslationError`, never a driver exception.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final, Protocol

PLACEHOLDER: Final = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


class TranslationError(RuntimeError):
    """The translator failed, refused the request or answered something unusable."""


class Translator(Protocol):
    async def translate(self, texts: Sequence[str], *, source: str, target: str) -> list[str]:
        """One translation per text, in order; `{name}` placeholders and edge spaces kept."""
        ...

    async def close(self) -> None: ...


def primary_language(tag: str) -> str:
    """ "de-DE" → "de"; "zh-Hant-TW" → "zh"."""
    return tag.split("-", 1)[0].strip().lower()


def placeholders(text: str) -> list[str]:
    """The `{name}` placeholders of a text, sorted (to compare a translation with its source)."""
    return sorted(PLACEHOLDER.findall(text))
