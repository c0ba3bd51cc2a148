"""Call-backs for due reminders: the assistant calls the customer back and resumes the conversation.

A run (the timer trigger, every minute) takes every call with an assistant reminder that is due and has
no call-back yet, the earliest due first (so a backlog after downtime is worked off in order, late ones
included), and places one call-back per call covering all its due reminders.

Exactly one call-back per reminder, even with several runners at once:
- a lease in the cache (call id + title of the earliest due reminder) keeps a second runner from
  doing the same work at the same time;
- the mark on the reminder (`callback_placed_at`, `callback_call_id`, `callback_attempts`) is written
  with the call's etag BEFORE dialing: of two runners only one can write it, the other sees it and
  skips. If dialing fails the mark is cleared (attempts kept) so a later run retries; after
  `MAX_CALLBACK_ATTEMPTS` the reminder is given up with a log line.
A process dying between the mark and the dial leaves the mark set: at most once, never twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from shared.cache.lease import lease
from shared.calls.outbound import CallPlacementError, dial
from shared.calls.resume import carry_over
from shared.calls.routing import with_new_secrets
from shared.composition import Services
from shared.models import Call, CallDirection, CallState, Message, MessageAction, Persona, Reminder
from shared.models.call import MAX_CALLBACK_ATTEMPTS, utc_now
from shared.store.base import update_call

log = logging.getLogger(__name__)

LEASE_TTL_SEC = 300.0  # longer than marking + dialing one call-back takes
LATE_AFTER = timedelta(hours=24)  # a reminder this late is still called back, and logged as late
ACTIVE_GRACE = timedelta(hours=1)  # a call in progress (recently updated) is called back after it ends
BATCH = 20
MAX_PER_RUN = 200


@dataclass
class CallbackRun:
    """What one run did, by the id of the call holding the reminders."""

    placed: dict[UUID, UUID] = field(default_factory=dict)  # call -> its call-back call
    failed: list[UUID] = field(default_factory=list)  # dialing failed (mark cleared, retried later)
    given_up: list[UUID] = field(default_factory=list)  # dialing failed for the last allowed time
    skipped: list[UUID] = field(default_factory=list)  # another runner has it, or it is done already
    deferred: list[UUID] = field(default_factory=list)  # the call is still in progress
    late: list[UUID] = field(default_factory=list)  # placed more than LATE_AFTER after it was due


class _NothingToMark(Exception):
    """The reminders were taken (or changed) since they were listed: leave the document as it is."""


async def run_due_callbacks(
    services: Services,
    *,
    now: datetime | None = None,
    batch: int = BATCH,
    max_calls: int = MAX_PER_RUN,
) -> CallbackRun:
    """Place the call-backs of every due reminder (up to `max_calls` calls), the earliest due first."""
    now = now or utc_now()
    run = CallbackRun()
    seen: set[UUID] = set()
    while len(seen) < max_calls:
        # Calls this run already handled may still be listed (a failed dial is retried by a later run).
        due = await services.store.list_due_reminders(now, limit=len(seen) + batch)
        fresh = [call for call in due if call.call_id not in seen][: max_calls - len(seen)]
        if not fresh:
            break
        for call in fresh:
            seen.add(call.call_id)
            try:
                await _call_back(services, call, now, run)
            except Exception:  # one call's failure must not stop the others
                log.exception("call %s: reminder call-back failed", call.call_id)
                run.failed.append(call.call_id)
    if run.placed or run.failed or run.given_up:
        log.info(
            "reminder call-backs: %d placed (%d late), %d failed, %d given up, %d skipped, %d deferred",
            len(run.placed),
            len(run.late),
            len(run.failed),
            len(run.given_up),
            len(run.skipped),
            len(run.deferred),
        )
    return run


def _in_progress(call: Call, now: datetime) -> bool:
    active = call.connection.state in (CallState.CONNECTED, CallState.TRANSFERRING)
    return active and now - call.updated_at < ACTIVE_GRACE


async def _call_back(services: Services, listed: Call, now: datetime, run: CallbackRun) -> None:
    reminders = listed.due_callback_reminders(now)
    if not reminders:
        run.skipped.append(listed.call_id)
        return
    if _in_progress(listed, now):
        log.info("call %s: in progress, its due reminders wait until it ends", listed.call_id)
        run.deferred.append(listed.call_id)
        return
    key = f"reminder-callback:{listed.call_id}:{reminders[0].title.casefold()}"
    async with lease(services.cache, key, ttl_sec=LEASE_TTL_SEC) as held:
        if not held:
            run.skipped.append(listed.call_id)
            return
        callback_id = uuid4()
        try:
            marked = await _mark(services, listed, now, callback_id)
        except _NothingToMark:
            run.skipped.append(listed.call_id)
            return
        titles = [r.title for r in marked.reminders if r.callback_call_id == callback_id]
        oldest = min(r.due_date_time for r in marked.reminders if r.callback_call_id == callback_id)
        if now - oldest > LATE_AFTER:
            log.warning(
                "call %s: reminder %r called back late (due %s, %s ago)",
                listed.call_id,
                titles[0],
                oldest.isoformat(),
                now - oldest,
            )
            run.late.append(listed.call_id)
        try:
            placed = await dial(services, _callback_call(services, marked, callback_id, titles))
        except Exception as exc:
            if not isinstance(exc, CallPlacementError) and await _was_placed(services, marked, callback_id):
                raise  # dialed, then failed: keep the mark (at most once)
            await _dial_failed(services, marked, callback_id, titles=titles, exc=exc, run=run)
            return
        run.placed[listed.call_id] = placed.call_id
        log.info("call %s: call-back %s placed for %s", listed.call_id, placed.call_id, titles)


async def _mark(services: Services, listed: Call, now: datetime, callback_id: UUID) -> Call:
    """Mark every due reminder of the call with this call-back (etag-safe); the call takes it over."""
    placed_at = utc_now()

    def apply(stored: Call) -> None:
        due = stored.due_callback_reminders(now)
        if not due:
            raise _NothingToMark
        for reminder in due:
            reminder.callback_placed_at = placed_at
            reminder.callback_call_id = callback_id
            reminder.callback_attempts += 1
        stored.resumed_by_call_id = callback_id

    return await update_call(services.store, listed.call_id, apply, caller_phone=listed.caller_phone)


def _callback_call(services: Services, source: Call, callback_id: UUID, titles: list[str]) -> Call:
    """The call-back: a new outbound call resuming the conversation of `source`."""
    call = Call(
        call_id=callback_id,
        caller_phone=source.caller_phone,
        bot_phone=services.settings.acs.phone_number,
        direction=CallDirection.OUTBOUND,
    )
    carry_over(source, into=call)
    call.messages.append(
        Message(
            persona=Persona.TOOL,
            action=MessageAction.CALL,
            content="call-back for reminder(s): " + "; ".join(titles),
        )
    )
    return with_new_secrets(call)


async def _was_placed(services: Services, marked: Call, callback_id: UUID) -> bool:
    """Whether the call-back document exists (dial stores it first and removes it when dialing fails)."""
    try:
        return await services.store.get(callback_id, caller_phone=marked.caller_phone) is not None
    except Exception:  # unknown: assume placed, never risk a second call-back
        log.exception("call %s: could not check call-back %s", marked.call_id, callback_id)
        return True


async def _dial_failed(
    services: Services,
    marked: Call,
    callback_id: UUID,
    *,
    titles: list[str],
    exc: Exception,
    run: CallbackRun,
) -> None:
    """Clear the mark so a later run retries; attempts stay counted."""
    exhausted: list[Reminder] = []

    def apply(stored: Call) -> None:
        exhausted.clear()
        for reminder in stored.reminders:
            if reminder.callback_call_id == callback_id:
                reminder.callback_placed_at = None
                reminder.callback_call_id = None
                if reminder.callback_attempts >= MAX_CALLBACK_ATTEMPTS:
                    exhausted.append(reminder)
        if stored.resumed_by_call_id == callback_id:
            stored.resumed_by_call_id = None

    await update_call(services.store, marked.call_id, apply, caller_phone=marked.caller_phone)
    if exhausted:
        log.error(
            "call %s: giving up the call-back of %s after %d attempts: %s",
            marked.call_id,
            [r.title for r in exhausted],
            MAX_CALLBACK_ATTEMPTS,
            exc,
        )
        run.given_up.append(marked.call_id)
    else:
        log.warning("call %s: call-back for %s failed, a later run retries: %s", marked.call_id, titles, exc)
        run.failed.append(marked.call_id)
