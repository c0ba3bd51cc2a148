"""In-process :class:`~shared.cache.base.Cache` adapter.

Suitable for a single process (local runs, tests). Every operation runs to completion
without awaiting, so operations are atomic with respect to other asyncio tasks on the
same event loop; the cache is not meant to be shared across threads or event loops.
"""

from __future__ import annotations

import heapq
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from shared.cache.base import CacheError, check_ttl

_INT_RE = re.compile(rb"-?(0|[1-9][0-9]*)")
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


@dataclass(slots=True)
class _Entry:
    value: bytes
    expires_at: float | None


class MemoryCache:
    """A bounded in-memory cache with TTLs measured on an injectable monotonic clock.

    When ``max_entries`` is reached, expired entries are dropped first, then the entry
    written least recently.
    """

    def __init__(self, *, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        self._max_entries = max_entries
        self._clock = clock
        # Insertion order == write order: the first item is the oldest write.
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        # Min-heap of (expires_at, key); entries may be stale and are checked on pop.
        self._expiries: list[tuple[float, str]] = []
        self._closed = False

    @property
    def max_entries(self) -> int:
        return self._max_entries

    def __len__(self) -> int:
        """Number of stored entries, including expired ones not yet purged."""
        return len(self._entries)

    async def get(self, key: str) -> bytes | None:
        self._check_open()
        entry = self._live(key, self._clock())
        return None if entry is None else entry.value

    async def set(self, key: str, value: bytes, *, ttl_sec: float | None = None) -> None:
        self._check_open()
        if ttl_sec is not None:
            check_ttl(ttl_sec)
        self._store(key, bytes(value), ttl_sec, self._clock())

    async def add(self, key: str, value: bytes, *, ttl_sec: float) -> bool:
        self._check_open()
        check_ttl(ttl_sec)
        now = self._clock()
        if self._live(key, now) is not None:
            return False
        self._store(key, bytes(value), ttl_sec, now)
        return True

    async def delete(self, key: str) -> bool:
        self._check_open()
        if self._live(key, self._clock()) is None:
            return False
        del self._entries[key]
        return True

    async def release(self, key: str, value: bytes) -> bool:
        self._check_open()
        entry = self._live(key, self._clock())
        if entry is None or entry.value != value:
            return False
        del self._entries[key]
        return True

    async def incr(self, key: str, *, ttl_sec: float | None = None) -> int:
        self._check_open()
        if ttl_sec is not None:
            check_ttl(ttl_sec)
        now = self._clock()
        entry = self._live(key, now)
        if entry is None:
            self._store(key, b"1", ttl_sec, now)
            return 1
        if _INT_RE.fullmatch(entry.value) is None:
            raise CacheError(f"value at {key!r} is not an integer")
        count = int(entry.value) + 1
        if not _INT64_MIN <= count <= _INT64_MAX:
            raise CacheError(f"incrementing {key!r} would overflow a 64-bit integer")
        entry.value = str(count).encode("ascii")
        if entry.expires_at is None and ttl_sec is not None:
            entry.expires_at = now + ttl_sec
            self._push_expiry(entry.expires_at, key)
        self._entries.move_to_end(key)
        return count

    async def ping(self) -> None:
        self._check_open()

    async def close(self) -> None:
        self._closed = True
        self._entries.clear()
        self._expiries.clear()

    # -- internals -------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise CacheError("MemoryCache is closed")

    def _live(self, key: str, now: float) -> _Entry | None:
        """The entry at ``key`` if present and unexpired; drops it if expired."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires_at is not None and entry.expires_at <= now:
            del self._entries[key]
            return None
        return entry

    def _store(self, key: str, value: bytes, ttl_sec: float | None, now: float) -> None:
        self._purge_expired(now)
        if self._entries.pop(key, None) is None:
            while len(self._entries) >= self._max_entries:
                self._entries.popitem(last=False)
        expires_at = None if ttl_sec is None else now + ttl_sec
        self._entries[key] = _Entry(value, expires_at)
        if expires_at is not None:
            self._push_expiry(expires_at, key)

    def _push_expiry(self, expires_at: float, key: str) -> None:
        heapq.heappush(self._expiries, (expires_at, key))
        if len(self._expiries) > 2 * self._max_entries + 64:
            # Too many stale records (keys rewritten or deleted): rebuild from live data.
            self._expiries = [(e.expires_at, k) for k, e in self._entries.items() if e.expires_at is not None]
            heapq.heapify(self._expiries)

    def _purge_expired(self, now: float) -> None:
        heap = self._expiries
        while heap and heap[0][0] <= now:
            expires_at, key = heapq.heappop(heap)
            entry = self._entries.get(key)
            if entry is not None and entry.expires_at == expires_at:
                del self._entries[key]
