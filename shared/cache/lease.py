"""A lease (best-effort distributed lock) on top of the :class:`Cache` port."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from shared.cache.base import Cache, CacheError, check_ttl

logger = logging.getLogger(__name__)


def new_owner_token() -> bytes:
    """A random, unguessable owner token for a lease."""
    return secrets.token_hex(16).encode("ascii")


@asynccontextmanager
async def lease(cache: Cache, key: str, *, ttl_sec: float, owner: bytes | None = None) -> AsyncIterator[bool]:
    """Try to take the lease ``key`` for ``ttl_sec`` seconds; yield whether it was acquired.

    Never blocks waiting for the lease. On exit the lease is released only if it is still
    held by this owner (compare-and-delete), so a holder whose lease expired cannot free
    a lease since taken by someone else. A failure to release is logged, not raised: the
    TTL bounds how long the lease can outlive its holder, and raising here would mask the
    body's own exception.
    """
    check_ttl(ttl_sec)
    token = owner if owner is not None else new_owner_token()
    acquired = await cache.add(key, token, ttl_sec=ttl_sec)
    try:
        yield acquired
    finally:
        if acquired:
            try:
                await cache.release(key, token)
            except CacheError as exc:
                logger.warning("could not release lease %r (it will expire after its TTL): %s", key, exc)
