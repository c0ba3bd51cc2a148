"""One owner for every task of a call: it starts them, guards them and cancels them all at the end.

A guarded task that fails is logged and counted, and ends only itself: the call and its other tasks
go on. A failure the owner is told to expect (the phone closed the websocket while the bot spoke) is
only logged at debug level. Once closed, the owner starts nothing more: a task asked for then is
cancelled before it runs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar, cast

log = logging.getLogger(__name__)

T = TypeVar("T")


class TaskOwner:
    def __init__(self, label: str, *, expected: Callable[[Exception], bool] = lambda exc: False) -> None:
        self._label = label  # who owns them, for the log: "call <id>"
        self._expected = expected
        self._tasks: set[asyncio.Task[Any]] = set()
        self.errors: list[str] = []  # the failures of guarded tasks, as "Type: message"
        self.closed = False

    @property
    def live(self) -> list[asyncio.Task[Any]]:
        """The tasks started and not finished yet."""
        return [task for task in self._tasks if not task.done()]

    def start(self, work: Coroutine[Any, Any, T], name: str) -> asyncio.Task[T]:
        """Run `work` as a task of this owner; its result or failure is the task's (not guarded)."""
        if self.closed:  # the work never runs: its task is cancelled before its first step
            work.close()
            work = cast(Coroutine[Any, Any, T], _nothing())
        task = asyncio.get_running_loop().create_task(work, name=name)
        if self.closed:
            task.cancel()
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def guarded(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """Run `work` as a task of this owner; a failure is logged and counted, never raised."""
        if self.closed:
            work.close()
            work = _nothing()
        task = self.start(self._guard(work, name), name)
        task.add_done_callback(lambda _: work.close())  # cancelled before its first step: never awaited
        return task

    async def _guard(self, work: Coroutine[Any, Any, None], name: str) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # one failing step must not end the call silently nor touch others
            if self.closed or self._expected(exc):
                log.debug("%s: %s ended: %r", self._label, name, exc)
                return
            log.exception("%s: %s failed", self._label, name)
            self.errors.append(f"{type(exc).__name__}: {exc}")

    async def close(self) -> None:
        """Start nothing more, cancel every task still running and wait until they have ended."""
        self.closed = True
        while self._tasks:
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._tasks.difference_update(tasks)


async def _nothing() -> None:
    return None
