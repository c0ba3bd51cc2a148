"""Process kills: the media host's worker processes are killed mid-call (SIGKILL). The telephony
service reports the dropped stream, the function app starts it again, a restarted worker resumes the
conversation from the store, and the caller's next words are stored. With no media host left at all,
the call ends (never dead air) and its post-call job is enqueued exactly once."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from local.dev import LocalStack
from shared.composition import Services
from shared.models import CallState, Persona
from tests.calls.test_telephony_flow import call_in_state, place
from tests.stack import eventually, local_stack


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (read from /proc)."""
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    data = tmp_path_factory.mktemp("stack")
    with local_stack(data, overrides={"media": {"workers": 2}}) as running:
        yield running


async def _assistant_lines(services: Services, call_id: UUID) -> int:
    call = await services.store.get(call_id)
    return 0 if call is None else sum(1 for m in call.messages if m.persona is Persona.ASSISTANT)


async def _more(services: Services, call_id: UUID, than: int) -> bool:
    return await _assistant_lines(services, call_id) > than


def _workers(stack: LocalStack) -> tuple[int, list[int]]:
    supervisor = stack._media_workers
    assert supervisor is not None and supervisor.poll() is None
    workers = [pid for pid in _children(supervisor.pid) if b"spawn_main" in _cmdline(pid)]
    return supervisor.pid, workers


def _cmdline(pid: int) -> bytes:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes()
    except OSError:
        return b""


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.kill(pid, signal.SIGKILL)


async def test_killed_media_workers_are_replaced_and_the_call_goes_on(
    stack: LocalStack, api: httpx.AsyncClient, services: Services
) -> None:
    assert stack.simulator is not None
    call_id = UUID((await place(api))["call_id"])
    call = await call_in_state(services, call_id, CallState.CONNECTED)
    connection = call.connection.call_connection_id
    stack.simulator.wait_for_delivery("MediaStreamingStarted", call_id=connection, timeout=30)

    greeted = await eventually(lambda: _assistant_lines(services, call_id), "the greeting stored")
    _supervisor, workers = _workers(stack)
    assert workers
    for pid in workers:
        _kill(pid)

    stack.simulator.wait_for_delivery("MediaStreamingFailed", call_id=connection, timeout=15)
    restarted = stack.simulator.wait_for_delivery(
        "MediaStreamingStarted", call_id=connection, count=2, timeout=30
    )
    assert restarted.status_code == 200
    resumed = await call_in_state(services, call_id, CallState.CONNECTED)
    assert resumed.connection.media_restarts >= 1
    # the restarted worker resumed the conversation from the store and spoke (stored as heard)
    await eventually(
        lambda: _more(services, call_id, greeted), "the resumed conversation speaking again", within=30
    )
    resumed = await call_in_state(services, call_id, CallState.CONNECTED)
    await services.telephony.hang_up(resumed)
    await call_in_state(services, call_id, CallState.DISCONNECTED)


async def test_with_no_media_host_left_the_call_ends_with_one_post_call_job(
    stack: LocalStack, api: httpx.AsyncClient, services: Services
) -> None:
    assert stack.simulator is not None and stack._media_workers is not None
    call_id = UUID((await place(api))["call_id"])
    call = await call_in_state(services, call_id, CallState.CONNECTED)
    stack.simulator.wait_for_delivery(
        "MediaStreamingStarted", call_id=call.connection.call_connection_id, timeout=30
    )
    supervisor, workers = _workers(stack)
    _kill(supervisor)  # no supervisor: nothing starts the workers again
    for pid in workers:
        _kill(pid)
    stack._media_workers.wait(10)

    ended = await call_in_state(services, call_id, CallState.DISCONNECTED)
    assert ended.post_call_enqueued_at is not None
    from tests.calls.test_telephony_flow import post_call_jobs

    await eventually(lambda: post_call_jobs(call_id) == 1, "one post-call job", within=30)
