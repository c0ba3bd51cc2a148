"""Helpers for tests that drive the local stack (simulator + function app + media host) over loopback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any


async def eventually(check: Callable[[], Any], what: str, within: float = 20.0) -> Any:
    """Poll `check` (sync or async) until it returns something truthy; fail naming `what` otherwise."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
