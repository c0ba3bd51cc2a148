"""Readiness: is every dependency this process needs answering?"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from shared.composition import Services

READINESS_TIMEOUT_SEC = 5.0


@dataclass(frozen=True)
class Readiness:
    failures: dict[str, str]

    @property
    def ready(self) -> bool:
        return not self.failures


async def _probe(check: Callable[[], Awaitable[None]], timeout_sec: float) -> str | None:
    try:
        await asyncio.wait_for(check(), timeout=timeout_sec)
    except TimeoutError:
        return f"no answer within {timeout_sec:g} s"
    except Exception as exc:  # a probe reports every failure instead of raising it
        return f"{type(exc).__name__}: {exc}"
    return None


async def check_readiness(services: Services, *, timeout_sec: float = READINESS_TIMEOUT_SEC) -> Readiness:
    """Probe the store and the cache concurrently; each failure is named with its reason."""
    names = ("store", "cache")
    results = await asyncio.gather(
        _probe(services.store.ping, timeout_sec), _probe(services.cache.ping, timeout_sec)
    )
    return Readiness(failures={name: error for name, error in zip(names, results, strict=True) if error})
