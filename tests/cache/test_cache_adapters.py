"""Adapter-specific cache tests (the shared contract lives in test_cache_contract.py)."""

from __future__ import annotations

import uuid

import pytest
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from shared.cache.base import CacheError
from shared.cache.memory import MemoryCache
from shared.cache.redis import RedisCache
from tests.cache.support import FakeClock, free_loopback_port


def _prefix() -> str:
    return f"test:{uuid.uuid4().hex}:"


# -- Redis only ---------------------------------------------------------------------------


@pytest.mark.redis
async def test_redis_ping_dead_port_raises_cache_error_naming_address() -> None:
    port = free_loopback_port()
    cache = RedisCache(f"redis://:hunter2@127.0.0.1:{port}/0", connect_timeout_sec=1.0)
    try:
        with pytest.raises(CacheError) as excinfo:
            await cache.ping()
        assert not isinstance(excinfo.value, RedisError)
        assert isinstance(excinfo.value.__cause__, RedisError)
        message = str(excinfo.value)
        assert f"127.0.0.1:{port}" in message
        assert "hunter2" not in message
        with pytest.raises(CacheError, match=f"127.0.0.1:{port}"):
            await cache.get("k")
    finally:
        await cache.close()


@pytest.mark.redis
async def test_redis_key_prefix_isolates_and_is_applied(redis_url: str) -> None:
    prefix_a, prefix_b = _prefix(), _prefix()
    raw = aioredis.Redis.from_url(redis_url)
    a = RedisCache(redis_url, key_prefix=prefix_a)
    b = RedisCache.from_client(aioredis.Redis.from_url(redis_url), key_prefix=prefix_b)
    try:
        await a.set("k", b"from-a", ttl_sec=30)
        assert await b.get("k") is None
        assert await raw.get(prefix_a + "k") == b"from-a"
        pttl = await raw.pttl(prefix_a + "k")
        assert 0 < pttl <= 30_000
        assert a.address == b.address == redis_url.removeprefix("redis://").removesuffix("/0")
    finally:
        await a.close()
        await b.close()
        await raw.aclose()


@pytest.mark.redis
async def test_redis_from_client_rejects_decoding_client(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        with pytest.raises(ValueError, match="decode_responses"):
            RedisCache.from_client(client)
    finally:
        await client.aclose()


# -- Memory only --------------------------------------------------------------------------


async def test_memory_evicts_oldest_at_max_entries() -> None:
    cache = MemoryCache(max_entries=3, clock=FakeClock())
    for key in ("a", "b", "c"):
        await cache.set(key, key.encode())
    await cache.set("a", b"a2")  # rewrite: no eviction, "a" becomes the newest
    assert len(cache) == 3
    await cache.set("d", b"d")
    assert len(cache) == 3
    assert await cache.get("b") is None
    assert [await cache.get(k) for k in ("c", "a", "d")] == [b"c", b"a2", b"d"]


async def test_memory_evicts_expired_before_oldest() -> None:
    clock = FakeClock()
    cache = MemoryCache(max_entries=3, clock=clock)
    await cache.set("old", b"1")
    await cache.set("brief", b"2", ttl_sec=1)
    await cache.set("new", b"3")
    await clock.advance(2)
    await cache.set("extra", b"4")
    assert len(cache) == 3
    assert [await cache.get(k) for k in ("old", "new", "extra")] == [b"1", b"3", b"4"]
    assert await cache.add("more", b"5", ttl_sec=10)  # now full of live keys: evicts "old"
    assert await cache.get("old") is None


async def test_memory_many_rewrites_with_ttl_stay_correct() -> None:
    clock = FakeClock()
    cache = MemoryCache(max_entries=2, clock=clock)
    for i in range(500):
        await cache.set("k", str(i).encode(), ttl_sec=100)
    await clock.advance(50)
    assert await cache.get("k") == b"499"
    await clock.advance(51)
    assert await cache.get("k") is None


def test_memory_rejects_nonpositive_max_entries() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        MemoryCache(max_entries=0)
