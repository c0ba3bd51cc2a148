"""Redis :class:`~shared.cache.base.Cache` adapter over ``redis.asyncio``.

Every key is namespaced with ``key_prefix``. TTLs are sent in milliseconds (``PX``).
Compare-and-delete (``release``) and counter-with-expiry (``incr``) run as Lua scripts,
so each is a single atomic server-side step and works on Redis 6 as well as 7+.
Driver failures are re-raised as :class:`~shared.cache.base.CacheError` naming the
server address (never the password).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from shared.cache.base import CacheError, ttl_to_ms

# Delete KEYS[1] only if it still holds ARGV[1] (the caller's owner token).
_RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# INCR KEYS[1]; give it a TTL of ARGV[1] ms only if it has none yet (fixed window).
_INCR_LUA = """
local count = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return count
"""

DEFAULT_SOCKET_TIMEOUT_SEC = 2.0
DEFAULT_CONNECT_TIMEOUT_SEC = 2.0
DEFAULT_RETRIES = 1


class RedisCache:
    """A :class:`~shared.cache.base.Cache` backed by a Redis server."""

    _client: aioredis.Redis
    _prefix: str
    _address: str
    _closed: bool

    def __init__(
        self,
        url: str,
        *,
        key_prefix: str = "cca:",
        socket_timeout_sec: float = DEFAULT_SOCKET_TIMEOUT_SEC,
        connect_timeout_sec: float = DEFAULT_CONNECT_TIMEOUT_SEC,
        retries: int = DEFAULT_RETRIES,
    ) -> None:
        """Connect lazily to ``url`` (``redis://``, ``rediss://`` or ``unix://``).

        The timeouts keep a dead or hung server from stalling callers (and the readiness
        probe); ``retries`` bounds reconnect attempts on connection errors and timeouts.
        """
        try:
            client = aioredis.Redis.from_url(
                url,
                socket_timeout=socket_timeout_sec,
                socket_connect_timeout=connect_timeout_sec,
                retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries),
                health_check_interval=30,
                decode_responses=False,
            )
        except ValueError as exc:
            # Deliberately not echoing the URL: it may carry a password.
            raise ValueError(f"invalid Redis URL: {exc}") from None
        self._setup(client, key_prefix)

    @classmethod
    def from_client(cls, client: aioredis.Redis, *, key_prefix: str = "cca:") -> RedisCache:
        """Wrap an existing client (must not decode responses); ``close`` closes it."""
        if client.connection_pool.connection_kwargs.get("decode_responses"):
            raise ValueError("RedisCache needs a client created with decode_responses=False")
        cache = cls.__new__(cls)
        cache._setup(client, key_prefix)
        return cache

    def _setup(self, client: aioredis.Redis, key_prefix: str) -> None:
        self._client = client
        self._prefix = key_prefix
        self._address = _describe_address(client.connection_pool.connection_kwargs)
        self._closed = False
        self._release_script = client.register_script(_RELEASE_LUA)
        self._incr_script = client.register_script(_INCR_LUA)

    @property
    def address(self) -> str:
        """The server address, e.g. ``127.0.0.1:6379`` (no credentials)."""
        return self._address

    @property
    def key_prefix(self) -> str:
        return self._prefix

    async def get(self, key: str) -> bytes | None:
        with self._translate("GET"):
            value = await self._client.get(self._key(key))
        if value is None or isinstance(value, bytes):
            return value
        raise CacheError(f"Redis at {self._address} returned {type(value).__name__}, expected bytes")

    async def set(self, key: str, value: bytes, *, ttl_sec: float | None = None) -> None:
        px = None if ttl_sec is None else ttl_to_ms(ttl_sec)
        with self._translate("SET"):
            await self._client.set(self._key(key), value, px=px)

    async def add(self, key: str, value: bytes, *, ttl_sec: float) -> bool:
        px = ttl_to_ms(ttl_sec)
        with self._translate("SET NX"):
            result = await self._client.set(self._key(key), value, nx=True, px=px)
        return bool(result)

    async def delete(self, key: str) -> bool:
        with self._translate("DEL"):
            removed = await self._client.delete(self._key(key))
        return bool(removed)

    async def release(self, key: str, value: bytes) -> bool:
        with self._translate("release (compare-and-delete)"):
            removed = await self._release_script(keys=[self._key(key)], args=[value])
        return bool(removed)

    async def incr(self, key: str, *, ttl_sec: float | None = None) -> int:
        with self._translate("INCR"):
            if ttl_sec is None:
                count = await self._client.incr(self._key(key))
            else:
                count = await self._incr_script(keys=[self._key(key)], args=[ttl_to_ms(ttl_sec)])
        return int(count)

    async def ping(self) -> None:
        with self._translate("PING"):
            await self._client.ping()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with self._translate("close"):
            await self._client.aclose()

    # -- internals -------------------------------------------------------------------

    def _key(self, key: str) -> str:
        return self._prefix + key

    @contextmanager
    def _translate(self, operation: str) -> Iterator[None]:
        """Turn driver errors raised inside the block into :class:`CacheError`."""
        if self._closed and operation != "close":
            raise CacheError(f"RedisCache for {self._address} is closed")
        try:
            yield
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise CacheError(
                f"Redis at {self._address} is unreachable or timed out during {operation}: {exc}"
            ) from exc
        except RedisError as exc:
            raise CacheError(f"Redis at {self._address} failed {operation}: {exc}") from exc


def _describe_address(connection_kwargs: dict[str, Any]) -> str:
    """``host:port`` or ``unix:<path>`` for error messages; never includes credentials."""
    path = connection_kwargs.get("path")
    if path:
        return f"unix:{path}"
    host = connection_kwargs.get("host", "localhost")
    port = connection_kwargs.get("port", 6379)
    if ":" in str(host):  # IPv6 literal
        return f"[{host}]:{port}"
    return f"{host}:{port}"
