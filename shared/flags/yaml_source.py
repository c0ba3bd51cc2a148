"""Feature flags read from a local YAML file.

File schema: one YAML mapping whose top-level keys are flag names (the fields
of :class:`~shared.flags.base.FeatureFlags`) and whose values are scalars::

    answer_hard_timeout_sec: 15
    recording_enabled: false   # an explicit false / 0 / 0.0 is honoured
    vad_threshold: 0.5

Missing keys (and ``null`` values) keep their default; quoted strings such as
``"15"`` or ``"false"`` are accepted; unknown keys are ignored with a warning.
An empty file means "all defaults".  See ``flags.example.yaml`` at the repo root.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from shared.flags.base import CachedFlagSource, FeatureFlags, FlagsError

logger = logging.getLogger(__name__)

# (inode, mtime in ns, size): the file is re-parsed only when one of them changes.
_Signature = tuple[int, int, int]


class YamlFlagSource(CachedFlagSource):
    """A :class:`~shared.flags.base.FlagSource` backed by a YAML file.

    The file is read at the first :meth:`get` (a broken file raises
    :class:`FlagsError`; a missing file, or ``path=None``, gives the defaults).
    Afterwards it is checked again only once ``ttl_sec`` has passed, and
    re-parsed only if its inode, mtime or size changed.  A file that turns
    broken later is logged and the last good snapshot keeps being served.
    """

    def __init__(
        self,
        path: Path | None,
        *,
        ttl_sec: float = 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(ttl_sec=ttl_sec, clock=clock)
        self._path = path
        self._signature: _Signature | None = None

    async def close(self) -> None:
        """Nothing to release: the file is opened only while reading."""

    async def _refresh(self) -> None:
        if self._path is None:
            self._snapshot = FeatureFlags()
        else:
            try:
                signature, flags = await asyncio.to_thread(_read, self._path, self._signature)
            except _BrokenFile as exc:
                if self._snapshot is None:
                    raise  # first load: nothing good to fall back on
                if exc.signature is not None:
                    self._signature = exc.signature  # do not re-parse (and re-log) this same version
                logger.error("Keeping the previous feature flags, %s is invalid: %s", self._path, exc)
            else:
                self._signature = signature
                if flags is not None:
                    if self._snapshot is not None and flags != self._snapshot:
                        logger.info("Feature flags reloaded from %s", self._path)
                    self._snapshot = flags


class _BrokenFile(FlagsError):
    """A FlagsError remembering which file version was broken, so it is not re-parsed (and re-logged)."""

    def __init__(self, error: FlagsError, signature: _Signature | None) -> None:
        super().__init__(str(error))
        self.problems = error.problems
        self.signature = signature


def _read(path: Path, previous: _Signature | None) -> tuple[_Signature | None, FeatureFlags | None]:
    """Read and parse ``path``; returns ``(signature, None)`` if it did not change since ``previous``."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        if previous is not None:
            logger.warning("Feature flags file %s disappeared, using the defaults", path)
        return None, FeatureFlags()
    except OSError as exc:
        raise _BrokenFile(FlagsError(f"cannot stat {path}: {exc}"), None) from exc
    signature: _Signature = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    if signature == previous:
        return signature, None
    try:
        return signature, parse_yaml(path.read_text(encoding="utf-8"), source=str(path))
    except FlagsError as exc:
        raise _BrokenFile(exc, signature) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise _BrokenFile(FlagsError(f"cannot read {path}: {exc}"), signature) from exc


def parse_yaml(text: str, *, source: str = "<string>") -> FeatureFlags:
    """Parse the YAML flags document ``text`` (see the module docstring for the schema)."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FlagsError(f"{source} is not valid YAML: {exc}") from exc
    if document is None:
        return FeatureFlags()
    if not isinstance(document, dict):
        kind = type(document).__name__
        raise FlagsError(f"{source} must be a YAML mapping of flag name to value, got {kind}")
    return FeatureFlags.from_raw({str(key): value for key, value in document.items()})


__all__ = ["YamlFlagSource", "parse_yaml"]
