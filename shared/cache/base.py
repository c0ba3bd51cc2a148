"""The cache port: a tiny async key/value contract with lease (lock) primitives.

Adapters: :class:`shared.cache.memory.MemoryCache` (in-process) and
:class:`shared.cache.redis.RedisCache` (Redis over ``redis.asyncio``).

Semantics shared by every adapter (the contract test suite pins them down):

* keys are ``str``, values are ``bytes``;
* ``ttl_sec`` must be a positive, finite number of seconds (``ValueError`` otherwise);
* ``set`` without a TTL stores the value without expiry (clearing any earlier TTL);
* ``incr`` stores the counter as ASCII digits; its ``ttl_sec`` is applied only when the
  counter has no expiry yet (fixed window: later increments do not extend it);
* every infrastructure failure surfaces as :class:`CacheError`, never as a driver exception.
"""

from __future__ import annotations

import math
from typing import Protocol


class CacheError(RuntimeError):
    """The cache backend failed or is unreachable."""


class Cache(Protocol):
    """Async cache with atomic primitives for leases and counters."""

    async def get(self, key: str) -> bytes | None:
        """Return the value stored at ``key``, or ``None`` if absent or expired."""
        ...

    async def set(self, key: str, value: bytes, *, ttl_sec: float | None = None) -> None:
        """Store ``value`` at ``key``, expiring after ``ttl_sec`` seconds if given."""
        ...

    async def add(self, key: str, value: bytes, *, ttl_sec: float) -> bool:
        """Store ``value`` only if ``key`` is absent; ``True`` if this caller won."""
        ...

    async def delete(self, key: str) -> bool:
        """Remove ``key``; ``True`` if it existed."""
        ...

    async def release(self, key: str, value: bytes) -> bool:
        """Atomically delete ``key`` only if it currently holds ``value``."""
        ...

    async def incr(self, key: str, *, ttl_sec: float | None = None) -> int:
        """Increment the integer counter at ``key`` (missing counts as 0) and return it."""
        ...

    async def ping(self) -> None:
        """Check the backend is reachable; raise :class:`CacheError` otherwise."""
        ...

    async def close(self) -> None:
        """Release resources; the cache must not be used afterwards."""
        ...


def check_ttl(ttl_sec: float) -> float:
    """Validate a TTL in seconds and return it unchanged."""
    if isinstance(ttl_sec, bool) or not math.isfinite(ttl_sec) or ttl_sec <= 0:
        raise ValueError(f"ttl_sec must be a positive finite number of seconds, got {ttl_sec!r}")
    return ttl_sec


def ttl_to_ms(ttl_sec: float) -> int:
    """Convert a validated TTL to whole milliseconds, rounding up (never 0)."""
    return max(1, math.ceil(check_ttl(ttl_sec) * 1000))
