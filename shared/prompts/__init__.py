"""Prompts and spoken phrases from a YAML file, with a formatter that leaves unknown braces alone."""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from shared.mappings import deep_merge

DEFAULT_PROMPTS_PATH = Path(__file__).with_name("prompts.yaml")
FALLBACK_LANG = "en-US"
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
SYSTEM_PARTS = ("persona", "rules", "task", "claim", "reminders")


def fill(template: str, values: Mapping[str, object]) -> str:
    """Replace `{name}` for every known name; any other brace (JSON, `{}`, unknown names) stays as is."""

    def _replace(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(values[name]) if name in values else match.group(0)

    return _PLACEHOLDER.sub(_replace, template)


class PhraseSource(Protocol):
    """Where a spoken phrase's variants come from: the prompts file, or the phrase book (translated)."""

    def phrase_choices(self, name: str, lang: str) -> Sequence[str]: ...


class PromptsError(ValueError):
    """The prompts file is unreadable or misses an entry."""


@dataclass(frozen=True)
class Prompts:
    system: Mapping[str, str]
    phrases: Mapping[str, Mapping[str, Sequence[str]]]

    @classmethod
    def load(cls, path: Path | None = None, *, overrides: Path | None = None) -> Prompts:
        data = _read(path or DEFAULT_PROMPTS_PATH)
        if overrides is not None:
            data = deep_merge(data, _read(overrides))
        system = data.get("system")
        phrases = data.get("phrases")
        if not isinstance(system, dict) or not isinstance(phrases, dict):
            raise PromptsError("prompts file needs 'system' and 'phrases' mappings")
        missing = [part for part in SYSTEM_PARTS if not isinstance(system.get(part), str)]
        if missing:
            raise PromptsError(f"prompts file misses system parts: {', '.join(missing)}")
        if FALLBACK_LANG not in phrases:
            raise PromptsError(f"prompts file needs phrases for {FALLBACK_LANG}")
        return cls(system=system, phrases=phrases)

    def system_prompt(self, values: Mapping[str, object]) -> str:
        return "\n".join(fill(self.system[part], values).strip() for part in SYSTEM_PARTS)

    def phrase_choices(self, name: str, lang: str) -> Sequence[str]:
        for candidate in (lang, FALLBACK_LANG):
            choices = self.phrases.get(candidate, {}).get(name)
            if choices:
                return choices
        raise PromptsError(f"no phrase {name!r} for {lang} or {FALLBACK_LANG}")

    def phrase(
        self, name: str, lang: str, values: Mapping[str, object], *, rng: random.Random | None = None
    ) -> str:
        """One of the phrase's variants, filled. Pass a seeded `rng` for a deterministic choice."""
        choices = self.phrase_choices(name, lang)
        return fill((rng or random).choice(list(choices)), values)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PromptsError(f"cannot read prompts {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise PromptsError(f"prompts {path}: expected a mapping at the top level")
    return data
