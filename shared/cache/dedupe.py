"""Once-only marks kept in the cache, as an optimisation that never stops the work.

Event handlers are guarded by the call document itself, so a mark that cannot be read or written (the
cache is down, or hung past `CACHE_WAIT_SEC`) only means the work may be applied a second time later:
it is logged and the work goes on. Losing the event would be worse than applying it twice.
"""

from __future__ import annotations

import asyncio
import logging

from shared.cache.base import Cache, CacheError

log = logging.getLogger(__name__)

CACHE_WAIT_SEC = 1.0
MARK = b"1"


async def already_done(cache: Cache, key: str, *, wait_sec: float = CACHE_WAIT_SEC) -> bool:
    """True when `key` is marked; False when it is not or when the cache cannot say in time."""
    try:
        return await asyncio.wait_for(cache.get(key), wait_sec) is not None
    except (CacheError, TimeoutError) as exc:
        log.warning("cache unavailable for %s (applying anyway): %s", key, exc or type(exc).__name__)
        return False


async def mark_done(cache: Cache, key: str, *, ttl_sec: float, wait_sec: float = CACHE_WAIT_SEC) -> None:
    """Mark `key` as done; a cache failure is logged (a redelivery would be applied again)."""
    try:
        await asyncio.wait_for(cache.set(key, MARK, ttl_sec=ttl_sec), wait_sec)
    except (CacheError, TimeoutError) as exc:
        log.warning("cache unavailable, %s not marked: %s", key, exc or type(exc).__name__)
