"""One contract suite run against every Cache adapter (memory and Redis)."""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from shared.cache.base import Cache, CacheError
from shared.cache.lease import lease
from shared.cache.memory import MemoryCache
from shared.cache.redis import RedisCache
from tests.cache.support import FakeClock


@dataclass
class Harness:
    """A cache under test plus how time passes for it (fake for memory, real for Redis)."""

    cache: Cache
    kind: str
    sleep: Callable[[float], Awaitable[None]]

    async def eventually_gone(self, key: str, timeout_sec: float = 3.0) -> bool:
        """True once ``key`` reads as absent; polls briefly for a real server."""
        deadline = time.monotonic() + timeout_sec
        while await self.cache.get(key) is not None:
            if self.kind == "memory" or time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.02)
        return True


def _prefix() -> str:
    return f"test:{uuid.uuid4().hex}:"


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    if request.param == "memory":
        clock = FakeClock()
        h = Harness(MemoryCache(clock=clock), "memory", clock.advance)
    else:
        url: str = request.getfixturevalue("redis_url")
        h = Harness(RedisCache(url, key_prefix=_prefix()), "redis", asyncio.sleep)
    try:
        yield h
    finally:
        await h.cache.close()


# -- contract: every adapter -------------------------------------------------------------


async def test_get_set_roundtrip(harness: Harness) -> None:
    cache = harness.cache
    assert await cache.get("k") is None
    await cache.set("k", b"v1")
    assert await cache.get("k") == b"v1"
    await cache.set("k", b"\x00\xff binary")
    assert await cache.get("k") == b"\x00\xff binary"
    await cache.set("empty", b"")
    assert await cache.get("empty") == b""


async def test_ttl_expiry(harness: Harness) -> None:
    cache = harness.cache
    await cache.set("short", b"v", ttl_sec=0.25)
    await cache.set("forever", b"v")
    assert await cache.get("short") == b"v"
    await harness.sleep(0.3)
    assert await harness.eventually_gone("short")
    assert await cache.get("forever") == b"v"


async def test_set_without_ttl_clears_previous_ttl(harness: Harness) -> None:
    cache = harness.cache
    await cache.set("k", b"old", ttl_sec=0.15)
    await cache.set("k", b"new")
    await harness.sleep(0.25)
    assert await cache.get("k") == b"new"


@pytest.mark.parametrize("bad_ttl", [0, -1.0, math.nan, math.inf])
async def test_invalid_ttl_rejected(harness: Harness, bad_ttl: float) -> None:
    cache = harness.cache
    with pytest.raises(ValueError, match="ttl_sec"):
        await cache.set("k", b"v", ttl_sec=bad_ttl)
    with pytest.raises(ValueError, match="ttl_sec"):
        await cache.add("k", b"v", ttl_sec=bad_ttl)
    with pytest.raises(ValueError, match="ttl_sec"):
        await cache.incr("n", ttl_sec=bad_ttl)
    assert await cache.get("k") is None
    assert await cache.get("n") is None


async def test_add_only_once_under_contention(harness: Harness) -> None:
    cache = harness.cache
    owners = [f"owner-{i}".encode() for i in range(20)]
    results = await asyncio.gather(*(cache.add("lock", o, ttl_sec=30) for o in owners))
    assert sum(results) == 1
    winner = owners[results.index(True)]
    assert await cache.get("lock") == winner
    assert await cache.add("lock", b"late", ttl_sec=30) is False


async def test_add_succeeds_again_after_expiry(harness: Harness) -> None:
    cache = harness.cache
    assert await cache.add("lock", b"a", ttl_sec=0.15)
    await harness.sleep(0.25)
    assert await harness.eventually_gone("lock")
    assert await cache.add("lock", b"b", ttl_sec=30)
    assert await cache.get("lock") == b"b"


async def test_release_wrong_owner_keeps_value(harness: Harness) -> None:
    cache = harness.cache
    assert await cache.add("lock", b"mine", ttl_sec=30)
    assert await cache.release("lock", b"not-mine") is False
    assert await cache.get("lock") == b"mine"


async def test_release_right_owner_deletes(harness: Harness) -> None:
    cache = harness.cache
    assert await cache.add("lock", b"mine", ttl_sec=30)
    assert await cache.release("lock", b"mine") is True
    assert await cache.get("lock") is None
    assert await cache.release("lock", b"mine") is False
    assert await cache.release("never-set", b"x") is False


async def test_incr_counts(harness: Harness) -> None:
    cache = harness.cache
    assert [await cache.incr("n") for _ in range(3)] == [1, 2, 3]
    assert await cache.get("n") == b"3"
    await cache.set("m", b"41")
    assert await cache.incr("m") == 42
    counts = await asyncio.gather(*(cache.incr("c", ttl_sec=30) for _ in range(20)))
    assert sorted(counts) == list(range(1, 21))


async def test_incr_non_integer_raises_cache_error(harness: Harness) -> None:
    await harness.cache.set("s", b"abc")
    with pytest.raises(CacheError):
        await harness.cache.incr("s")
    assert await harness.cache.get("s") == b"abc"


async def test_incr_ttl_is_a_fixed_window(harness: Harness) -> None:
    cache = harness.cache
    assert await cache.incr("w", ttl_sec=0.4) == 1
    await harness.sleep(0.2)
    second = await cache.incr("w", ttl_sec=0.4)
    if second != 2:  # pragma: no cover - only on a badly stalled machine
        pytest.skip("the first window already expired; timing too coarse to judge")
    await harness.sleep(0.25)  # 0.45 s after the first incr: the window must be over
    assert await harness.eventually_gone("w")
    assert await cache.incr("w", ttl_sec=0.4) == 1


async def test_delete(harness: Harness) -> None:
    cache = harness.cache
    await cache.set("k", b"v")
    assert await cache.delete("k") is True
    assert await cache.get("k") is None
    assert await cache.delete("k") is False


async def test_lease_excludes_second_contender_until_released(harness: Harness) -> None:
    cache = harness.cache
    async with lease(cache, "job", ttl_sec=30) as first:
        assert first is True
        async with lease(cache, "job", ttl_sec=30) as second:
            assert second is False
        # The failed contender's exit must not free the holder's lease.
        async with lease(cache, "job", ttl_sec=30) as third:
            assert third is False
    async with lease(cache, "job", ttl_sec=30) as after:
        assert after is True
    assert await cache.get("job") is None


async def test_lease_released_when_body_raises(harness: Harness) -> None:
    cache = harness.cache
    with pytest.raises(LookupError):
        async with lease(cache, "job", ttl_sec=30) as got:
            assert got
            raise LookupError("boom")
    assert await cache.get("job") is None


async def test_lease_expired_holder_does_not_free_successor(harness: Harness) -> None:
    cache = harness.cache
    async with lease(cache, "job", ttl_sec=0.15, owner=b"slow") as slow:
        assert slow
        await harness.sleep(0.25)
        assert await harness.eventually_gone("job")
        assert await cache.add("job", b"successor", ttl_sec=30)
    assert await cache.get("job") == b"successor"


async def test_lease_uses_given_or_random_owner(harness: Harness) -> None:
    cache = harness.cache
    async with lease(cache, "a", ttl_sec=30, owner=b"me") as got:
        assert got
        assert await cache.get("a") == b"me"
    async with lease(cache, "b", ttl_sec=30) as got_b, lease(cache, "c", ttl_sec=30) as got_c:
        assert got_b and got_c
        token_b, token_c = await cache.get("b"), await cache.get("c")
        assert token_b and token_c and token_b != token_c
    with pytest.raises(ValueError, match="ttl_sec"):
        async with lease(cache, "d", ttl_sec=0):
            pass


async def test_lease_exit_tolerates_release_failure(harness: Harness) -> None:
    async with lease(harness.cache, "job", ttl_sec=30) as got:
        assert got
        await harness.cache.close()  # release will now fail with CacheError: logged, not raised


async def test_ping_ok(harness: Harness) -> None:
    await harness.cache.ping()


async def test_use_after_close_raises_cache_error(harness: Harness) -> None:
    await harness.cache.close()
    with pytest.raises(CacheError):
        await harness.cache.ping()
    with pytest.raises(CacheError):
        await harness.cache.get("k")
    await harness.cache.close()  # idempotent
