"""Reminder call-backs: due assistant reminders are called back once, resuming the conversation."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from uuid import UUID

import pytest

from shared.cache.memory import MemoryCache
from shared.cache.redis import RedisCache
from shared.calls.inbound import answer_incoming_call
from shared.models import Call, CallState, MessageAction, Persona, ReminderOwner
from shared.models.call import MAX_CALLBACK_ATTEMPTS, utc_now
from shared.reminders.callbacks import run_due_callbacks
from shared.store.base import CallStore, update_call
from shared.telephony.base import RecordingTelephony

from .conftest import CALLER, FlakyTelephony, Runner, dialed, ended_call, reminder


async def _get(store: CallStore, call_id: UUID) -> Call:
    call = await store.get(call_id)
    assert call is not None
    return call


async def test_a_due_reminder_is_called_back_once_and_the_call_back_resumes_the_conversation(
    runner: Runner,
) -> None:
    telephony = RecordingTelephony()
    async with runner(telephony=telephony) as services:
        now = utc_now()
        source = await services.store.create(
            ended_call(reminder("send the estimate", now - timedelta(minutes=1)))
        )

        run = await run_due_callbacks(services, now=now)

        assert list(run.placed) == [source.call_id]
        assert dialed(telephony) == [CALLER]
        callback = await _get(services.store, run.placed[source.call_id])
        assert callback.direction == "outbound" and callback.previous_call_id == source.call_id
        assert callback.claim == {"caller_name": "Jean Dupont"}
        assert [m.content for m in callback.messages[:2]] == [m.content for m in source.messages]
        note = callback.messages[-1]
        assert note.persona is Persona.TOOL and note.action is MessageAction.CALL
        assert "send the estimate" in note.content
        assert callback.connection.call_connection_id and callback.secrets.callback
        marked = (await _get(services.store, source.call_id)).reminders[0]
        assert marked.callback_call_id == callback.call_id and marked.callback_placed_at is not None
        assert marked.callback_attempts == 1
        assert callback.reminders[0].callback_call_id == callback.call_id  # carried over, marked

        again = await run_due_callbacks(services, now=now + timedelta(minutes=1))
        assert again.placed == {} and dialed(telephony) == [CALLER]


@pytest.mark.parametrize("shared_cache", [True, False], ids=["one-cache", "separate-caches"])
async def test_two_runners_at_once_place_exactly_one_call_back_per_reminder(
    runner: Runner, shared_cache: bool
) -> None:
    """With one cache the lease splits the work; with separate caches the etag-safe mark alone does."""
    telephony = RecordingTelephony()
    cache = MemoryCache()
    now = utc_now()
    async with (
        runner(cache=cache, telephony=telephony) as first,
        runner(cache=cache if shared_cache else MemoryCache(), telephony=telephony) as second,
    ):
        sources = [
            await first.store.create(
                ended_call(reminder(f"reminder {i}", now - timedelta(minutes=i)), phone=f"+3361234560{i}")
            )
            for i in range(6)
        ]
        runs = await asyncio.gather(run_due_callbacks(first, now=now), run_due_callbacks(second, now=now))

    placed = [call_id for run in runs for call_id in run.placed]
    assert sorted(placed) == sorted(s.call_id for s in sources)  # each once, across both runners
    assert sorted(dialed(telephony)) == sorted(s.caller_phone for s in sources)
    await cache.close()


@pytest.mark.redis
async def test_two_runners_on_a_real_redis_place_exactly_one_call_back(
    runner: Runner, redis_url: str
) -> None:
    prefix = f"test-callbacks-{utc_now().timestamp()}:"
    caches = [RedisCache(redis_url, key_prefix=prefix), RedisCache(redis_url, key_prefix=prefix)]
    telephony = RecordingTelephony()
    now = utc_now()
    try:
        async with (
            runner(cache=caches[0], telephony=telephony) as a,
            runner(cache=caches[1], telephony=telephony) as b,
        ):
            sources = [
                await a.store.create(ended_call(reminder("call back", now), phone=f"+3361234561{i}"))
                for i in range(4)
            ]
            runs = await asyncio.gather(*(run_due_callbacks(s, now=now) for s in (a, b, a, b)))
    finally:
        for cache in caches:
            await cache.close()
    placed = [call_id for run in runs for call_id in run.placed]
    assert sorted(placed) == sorted(s.call_id for s in sources)
    assert len(dialed(telephony)) == len(sources)


async def test_past_due_reminders_after_downtime_are_all_called_back_oldest_first(
    runner: Runner, caplog: pytest.LogCaptureFixture
) -> None:
    telephony = RecordingTelephony()
    now = utc_now()
    async with runner(telephony=telephony) as services:
        recent = await services.store.create(
            ended_call(reminder("recent", now - timedelta(hours=2)), phone="+33611111111")
        )
        ancient = await services.store.create(
            ended_call(
                reminder("ancient", now - timedelta(days=3)), phone="+33622222222", at=now - timedelta(days=4)
            )
        )
        with caplog.at_level(logging.WARNING, logger="shared.reminders.callbacks"):
            run = await run_due_callbacks(services, now=now, batch=1)  # one per query: the loop goes on

    assert list(run.placed) == [ancient.call_id, recent.call_id]
    assert dialed(telephony) == ["+33622222222", "+33611111111"]
    assert run.late == [ancient.call_id]
    assert any("late" in r.getMessage() and "ancient" in r.getMessage() for r in caplog.records)


async def test_reminders_of_other_owners_and_future_ones_are_not_called_back(runner: Runner) -> None:
    telephony = RecordingTelephony()
    now = utc_now()
    async with runner(telephony=telephony) as services:
        await services.store.create(
            ended_call(
                reminder("customer sends photos", now - timedelta(hours=1), ReminderOwner.CUSTOMER),
                reminder("agent checks the file", now - timedelta(hours=1), ReminderOwner.AGENT),
                reminder("tomorrow", now + timedelta(days=1)),
            )
        )
        assert await services.store.list_due_reminders(now, limit=10) == []
        run = await run_due_callbacks(services, now=now)
        assert run.placed == {} and dialed(telephony) == []
        later = await run_due_callbacks(services, now=now + timedelta(days=1, minutes=1))
        assert len(later.placed) == 1 and dialed(telephony) == [CALLER]


async def test_a_failed_dial_clears_the_mark_and_a_later_run_retries(runner: Runner) -> None:
    telephony = FlakyTelephony(failures=1)
    now = utc_now()
    async with runner(telephony=telephony) as services:
        source = await services.store.create(ended_call(reminder("call back", now)))

        first = await run_due_callbacks(services, now=now)
        assert first.placed == {} and first.failed == [source.call_id]
        cleared = await _get(services.store, source.call_id)
        assert (
            cleared.reminders[0].callback_placed_at is None and cleared.reminders[0].callback_call_id is None
        )
        assert cleared.reminders[0].callback_attempts == 1 and cleared.resumed_by_call_id is None
        assert (await services.store.list_by_phone(CALLER)).items[0].call_id == source.call_id  # nothing left

        second = await run_due_callbacks(services, now=now + timedelta(minutes=1))
        assert list(second.placed) == [source.call_id]
        assert (await _get(services.store, source.call_id)).reminders[0].callback_attempts == 2
        assert telephony.dials == 2


async def test_call_backs_are_given_up_after_the_last_attempt_with_a_log_line(
    runner: Runner, caplog: pytest.LogCaptureFixture
) -> None:
    telephony = FlakyTelephony(failures=-1)
    now = utc_now()
    async with runner(telephony=telephony) as services:
        source = await services.store.create(ended_call(reminder("call back", now)))
        with caplog.at_level(logging.ERROR, logger="shared.reminders.callbacks"):
            runs = [await run_due_callbacks(services, now=now + timedelta(minutes=i)) for i in range(5)]
        assert [len(run.failed) for run in runs] == [1, 1, 0, 0, 0]
        assert runs[2].given_up == [source.call_id]
        assert telephony.dials == MAX_CALLBACK_ATTEMPTS
        assert any("giving up" in r.getMessage() for r in caplog.records)
        assert (await _get(services.store, source.call_id)).reminders[
            0
        ].callback_attempts == MAX_CALLBACK_ATTEMPTS


async def test_one_call_back_covers_every_due_reminder_and_the_call_back_owns_the_later_ones(
    runner: Runner,
) -> None:
    telephony = RecordingTelephony()
    now = utc_now()
    async with runner(telephony=telephony) as services:
        source = await services.store.create(
            ended_call(
                reminder("estimate", now - timedelta(minutes=5)),
                reminder("documents", now - timedelta(minutes=1)),
                reminder("follow-up", now + timedelta(days=1)),
            )
        )
        run = await run_due_callbacks(services, now=now)
        callback_id = run.placed[source.call_id]
        assert dialed(telephony) == [CALLER]
        callback = await _get(services.store, callback_id)
        marks = {r.title: r.callback_call_id for r in callback.reminders}
        assert marks == {"estimate": callback_id, "documents": callback_id, "follow-up": None}

        # The next day the follow-up is called back once, from the call-back call (the source was taken over).
        later = await run_due_callbacks(services, now=now + timedelta(days=1, minutes=1))
        assert list(later.placed) == [callback_id] and len(dialed(telephony)) == 2


async def test_a_caller_resuming_by_phone_takes_the_reminders_over_no_double_call_back(
    runner: Runner,
) -> None:
    telephony = RecordingTelephony()
    now = utc_now()
    async with runner(telephony=telephony) as services:
        first = ended_call(
            reminder("call back tomorrow", now + timedelta(days=1)), at=now - timedelta(minutes=30)
        )
        first = await services.store.create(first)
        incoming = {
            "to": {"phoneNumber": {"value": services.settings.acs.phone_number}},
            "from": {"phoneNumber": {"value": CALLER}},
            "incomingCallContext": "context",
            "serverCallId": "server-call",
        }
        resumed = await answer_incoming_call(services, incoming)
        assert resumed is not None and resumed.previous_call_id == first.call_id
        assert (await _get(services.store, first.call_id)).resumed_by_call_id == resumed.call_id

        def hang_up(call: Call) -> None:
            call.connection.state = CallState.DISCONNECTED

        await update_call(services.store, resumed.call_id, hang_up)
        run = await run_due_callbacks(services, now=now + timedelta(days=1, minutes=1))
        assert list(run.placed) == [resumed.call_id]
        assert dialed(telephony) == [CALLER]


async def test_a_call_in_progress_is_called_back_after_it_ends(runner: Runner) -> None:
    telephony = RecordingTelephony()
    now = utc_now()
    async with runner(telephony=telephony) as services:
        live = ended_call(
            reminder("in five minutes", now - timedelta(minutes=1)), at=now - timedelta(minutes=10)
        )
        live.connection.state = CallState.CONNECTED
        live.updated_at = now
        live = await services.store.create(live)
        run = await run_due_callbacks(services, now=now)
        assert run.deferred == [live.call_id] and dialed(telephony) == []
        stored = await _get(services.store, live.call_id)
        assert stored.reminders[0].callback_attempts == 0  # untouched

        stored.connection.state = CallState.DISCONNECTED
        await services.store.replace(stored)
        assert list((await run_due_callbacks(services, now=now)).placed) == [live.call_id]
