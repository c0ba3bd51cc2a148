"""Feature flags: the typed snapshot, its parser and the source interface.

The rest of the system only ever sees :class:`FlagSource` and the immutable
:class:`FeatureFlags` snapshot it returns.  Sources (YAML file, Azure App
Configuration) hand raw key/value mappings to :meth:`FeatureFlags.from_raw`,
so every backend follows the same parsing rules:

* an explicit ``false`` / ``0`` / ``0.0`` is a value, never "unset";
* ``None`` (YAML ``null`` or an empty YAML value) means "unset": the default is used;
* strings are accepted for every type (``"true"``, ``"15"``, ``"0.5"``), since
  App Configuration key-values are always strings;
* unknown keys are ignored with a warning;
* every invalid value is reported at once in a single :class:`FlagsError`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

logger = logging.getLogger(__name__)

NonNegativeInt = Annotated[int, Field(ge=0)]


class FeatureFlags(BaseModel):
    """One immutable snapshot of every feature flag."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, use_attribute_docstrings=True)

    answer_hard_timeout_sec: NonNegativeInt = 15
    """Hard limit for the LLM answer: past it, the turn is abandoned."""
    answer_soft_timeout_sec: NonNegativeInt = 4
    """Soft limit for the LLM answer: past it, the caller hears a waiting message."""
    callback_timeout_hour: NonNegativeInt = 3
    """How long a conversation can be resumed by calling back."""
    phone_silence_timeout_sec: NonNegativeInt = 20
    """Silence on the line before the bot prompts the caller."""
    recognition_retry_max: NonNegativeInt = 3
    """How many times speech recognition is retried before giving up."""
    recognition_stt_complete_timeout_ms: NonNegativeInt = 100
    """Delay before a speech-to-text segment is considered complete."""
    recording_enabled: bool = False
    """Record the calls."""
    slow_llm_for_chat: bool = False
    """Use the slow (more capable) LLM for the chat instead of the fast one."""
    vad_cutoff_timeout_ms: NonNegativeInt = 250
    """Voice activity detection: cutoff delay."""
    vad_silence_timeout_ms: NonNegativeInt = 500
    """Voice activity detection: silence needed to end an utterance."""
    vad_sentence_end_timeout_ms: NonNegativeInt = 300
    """Silence that ends an utterance sooner when its transcript is already a complete sentence
    (ends with ".", "?" or "!"); 0 always waits for `vad_silence_timeout_ms`."""
    vad_threshold: Annotated[float, Field(ge=0.0, le=1.0)] = 0.5
    """Voice activity detection: sensitivity threshold, between 0 and 1."""
    vad_unfinished_timeout_ms: NonNegativeInt = 1500
    """Silence that ends an utterance whose words are not finished (a last word such as "the",
    "is", "and", a filler, a number cut short) or that the end-of-turn model judges unfinished;
    0 gives such utterances only `vad_silence_timeout_ms`."""
    vad_end_of_turn_threshold: Annotated[float, Field(ge=0.0, le=1.0)] = 0.5
    """End-of-turn model: probability of "finished" at or above which the caller is done; 0 turns
    the model off (the transcript and the pause decide alone)."""
    vad_end_of_turn_hold_threshold: Annotated[float, Field(ge=0.0, le=1.0)] = 0.05
    """End-of-turn model: probability of "finished" under which even words that look finished wait
    `vad_unfinished_timeout_ms` (the model is sure the caller goes on); 0 turns this off."""
    vad_end_of_turn_short_hold_threshold: Annotated[float, Field(ge=0.0, le=1.0)] = 0.15
    """End-of-turn model: the same for an utterance of at most three words, where a last word Whisper
    dropped ("I'm not sure if" heard "I'm not sure.") is most of what tells a cut from a sentence;
    0 leaves short utterances to `vad_end_of_turn_hold_threshold`."""
    vad_continuation_window_ms: NonNegativeInt = 1500
    """After a turn ended, caller speech starting within this window continues the same utterance:
    the answer under way stops at once and is taken back, and both parts make one turn; 0 is off."""

    @classmethod
    def from_raw(cls, raw: Mapping[str, object]) -> FeatureFlags:
        """Parse raw values (YAML scalars or App Configuration strings) into a snapshot.

        Missing keys and ``None`` values keep their default; ``false``/``0``/``0.0``
        are honoured.  Unknown keys are logged and ignored.  Raises
        :class:`FlagsError` listing every invalid value (name, value, reason).
        """
        values: dict[str, object] = {}
        problems: list[FlagProblem] = []
        unknown: list[str] = []
        for name, value in raw.items():
            field = cls.model_fields.get(name)
            if field is None:
                unknown.append(str(name))
                continue
            if value is None:
                continue
            parser = _PARSERS[field.annotation]
            try:
                values[name] = parser(value)
            except ValueError as exc:
                problems.append(FlagProblem(name, value, str(exc)))
        if unknown:
            logger.warning("Ignoring unknown feature flag(s): %s", ", ".join(sorted(unknown)))
        flags: FeatureFlags | None = None
        try:
            flags = cls.model_validate(values)
        except ValidationError as exc:
            # Range constraints (ge/le) live on the model; report them like parse errors.
            for error in exc.errors():
                name = str(error["loc"][0]) if error["loc"] else "?"
                problems.append(FlagProblem(name, raw.get(name), error["msg"]))
        if problems or flags is None:
            raise FlagsError("invalid feature flag value(s)", sorted(problems, key=lambda p: p.name))
        return flags


@dataclass(frozen=True, slots=True)
class FlagProblem:
    """One invalid flag value, as reported by :class:`FlagsError`."""

    name: str
    value: object
    reason: str

    def __str__(self) -> str:
        return f"{self.name}={self.value!r}: {self.reason}"


class FlagsError(ValueError):
    """Feature flags could not be loaded; ``problems`` lists every invalid value."""

    def __init__(self, message: str, problems: Sequence[FlagProblem] = ()) -> None:
        self.problems: tuple[FlagProblem, ...] = tuple(problems)
        if self.problems:
            message = f"{message}: " + "; ".join(str(p) for p in self.problems)
        super().__init__(message)


@runtime_checkable
class FlagSource(Protocol):
    """Where the system reads feature flags from.

    ``get()`` must be cheap: it serves a cached snapshot and only goes back to
    the backend once the source's TTL has passed.
    """

    async def get(self) -> FeatureFlags: ...

    async def close(self) -> None: ...


class CachedFlagSource(ABC):
    """The cache every backend shares: :meth:`get` serves the last snapshot and goes back to the
    backend (`_refresh`, one at a time) at the first call and once ``ttl_sec`` has passed since the
    last try. `_refresh` sets ``_snapshot``; on its first call a failure raises, later it keeps the
    last good snapshot."""

    def __init__(self, *, ttl_sec: float, clock: Callable[[], float] = time.monotonic) -> None:
        if ttl_sec < 0:
            raise ValueError("ttl_sec must be >= 0")
        self._ttl = ttl_sec
        self._clock = clock
        self._snapshot: FeatureFlags | None = None
        self._checked_at = 0.0
        self._lock = asyncio.Lock()

    async def get(self) -> FeatureFlags:
        snapshot = self._snapshot
        if snapshot is not None and not self._stale():
            return snapshot
        async with self._lock:
            if self._snapshot is None or self._stale():
                try:
                    await self._refresh()
                finally:
                    self._checked_at = self._clock()
            assert self._snapshot is not None
            return self._snapshot

    def _stale(self) -> bool:
        return self._clock() - self._checked_at >= self._ttl

    @abstractmethod
    async def _refresh(self) -> None:
        """Read the backend into ``_snapshot``."""


_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def _parse_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValueError("expected a boolean (true/false)")


def _parse_int(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError("expected an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            as_float = float(text)
        except ValueError:
            as_float = math.nan
        if as_float.is_integer():  # "15.0" is fine, "1.5" / "nan" / "inf" are not
            return int(as_float)
    raise ValueError("expected an integer")


def _parse_float(value: object) -> float:
    number = math.nan
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise ValueError("expected a number") from None
    if not math.isfinite(number):
        raise ValueError("expected a finite number")
    return number


_PARSERS: dict[object, Callable[[object], object]] = {
    bool: _parse_bool,
    int: _parse_int,
    float: _parse_float,
}
