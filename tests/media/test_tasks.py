"""The task owner of a call: every task started, guarded and cancelled by one object."""

from __future__ import annotations

import asyncio
import inspect

import pytest

from media_host.tasks import TaskOwner


async def test_a_failing_guarded_task_is_counted_and_ends_only_itself() -> None:
    owner = TaskOwner("call test")
    ticks: list[int] = []

    async def fails() -> None:
        raise ValueError("broken step")

    async def goes_on() -> None:
        for tick in range(3):
            await asyncio.sleep(0)
            ticks.append(tick)

    failing, other = owner.guarded(fails(), "failing"), owner.guarded(goes_on(), "other")
    await asyncio.gather(failing, other)
    assert failing.exception() is None  # guarded: never raised
    assert owner.errors == ["ValueError: broken step"]
    assert ticks == [0, 1, 2]
    assert owner.live == []


async def test_an_expected_failure_is_not_counted() -> None:
    owner = TaskOwner("call test", expected=lambda exc: isinstance(exc, ConnectionError))

    async def socket_gone() -> None:
        raise ConnectionError("closed")

    await owner.guarded(socket_gone(), "send")
    assert owner.errors == []


async def test_an_unguarded_task_keeps_its_result_and_its_failure() -> None:
    owner = TaskOwner("call test")

    async def answer() -> str:
        return "hello"

    async def fails() -> str:
        raise ValueError("no")

    assert await owner.start(answer(), "stt") == "hello"
    with pytest.raises(ValueError, match="no"):
        await owner.start(fails(), "stt")
    assert owner.errors == []


async def test_close_cancels_every_task_and_nothing_starts_afterwards() -> None:
    owner = TaskOwner("call test")
    ran: list[str] = []
    cancelled: list[str] = []

    async def forever(name: str) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(name)
            raise

    async def late() -> None:
        ran.append("late")

    guarded = owner.guarded(forever("guarded"), "guarded")
    plain = owner.start(forever("plain"), "plain")
    await asyncio.sleep(0)
    assert set(owner.live) == {guarded, plain}
    await owner.close()
    assert sorted(cancelled) == ["guarded", "plain"]
    assert guarded.cancelled() and plain.cancelled()
    assert owner.live == []

    first, second = late(), late()
    after = owner.guarded(first, "late")
    also = owner.start(second, "late")
    await asyncio.gather(after, also, return_exceptions=True)
    assert inspect.getcoroutinestate(first) == inspect.getcoroutinestate(second) == inspect.CORO_CLOSED
    assert after.cancelled() and also.cancelled()
    assert ran == []
    assert owner.errors == []


async def test_a_guarded_task_cancelled_before_it_ran_leaves_no_coroutine_unawaited() -> None:
    owner = TaskOwner("call test")
    ran: list[str] = []

    async def step() -> None:
        ran.append("step")

    work = step()
    task = owner.guarded(work, "dtmf")
    task.cancel()  # before its first step (the socket closed at once)
    await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled() and ran == []
    assert inspect.getcoroutinestate(work) == inspect.CORO_CLOSED  # closed, so never "never awaited"
