"""Find and finish the calls whose last events were lost.

Events that arrive while the function app is down are gone (the call stays `connected` for ever with
no post-call job; a call answered just before a crash stays `created` without a connection id). A
periodic sweep, and the media host when a call's stream closes, look at the calls that are not
`disconnected` and were not updated for `STALE_AFTER`: each is checked with the telephony service,
and one the service no longer knows (or reports disconnected), or one that never got a connection,
is finished exactly as CallDisconnected would have finished it. The post-call job is enqueued once:
the `post_call_enqueued_at` mark on the document decides, whoever finishes the call. A post-call job
that never finished (it died with a local process, or its message was lost) is enqueued again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from shared.calls.events import finish_call
from shared.composition import Services
from shared.jobs.base import POST_CALL, Job
from shared.models import Call, CallState
from shared.models.call import utc_now
from shared.store.base import update_call
from shared.telephony.base import TelephonyError

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=2)
NEVER_CONNECTED_AFTER = timedelta(minutes=5)  # a ring that was never answered has rung out by then
SWEEP_LIMIT = 200
POST_CALL_RETRY_AFTER = timedelta(minutes=15)  # the job's activities retry for up to ~5 minutes
POST_CALL_REQUEUES = 3
_GONE = (None, "disconnected", "disconnecting")


@dataclass
class Reconciled:
    finished: list[UUID] = field(default_factory=list)
    live: list[UUID] = field(default_factory=list)
    unknown: list[UUID] = field(default_factory=list)
    requeued: list[UUID] = field(default_factory=list)


async def reconcile_call(services: Services, call: Call, *, now: datetime | None = None) -> bool | None:
    """Finish `call` if the telephony service says it is over: True when finished, False when still
    live, None when it cannot tell (the service did not answer)."""
    now = now or utc_now()
    if call.connection.state is CallState.DISCONNECTED:
        return True
    if not call.connection.call_connection_id:
        if now - call.created_at < NEVER_CONNECTED_AFTER:
            return False  # still ringing, or the answer is being recorded
        state: str | None = None
    else:
        try:
            state = await services.telephony.connection_state(call)
        except TelephonyError as exc:
            log.warning("call %s: its state could not be checked: %s", call.call_id, exc)
            return None
    if state not in _GONE:
        return False
    log.warning("call %s: finished by reconciliation (telephony state %s)", call.call_id, state or "gone")
    await finish_call(services, call)
    return True


async def requeue_post_call_jobs(services: Services, *, now: datetime | None = None) -> list[UUID]:
    """Post-call jobs enqueued `POST_CALL_RETRY_AFTER` ago and still not done (the job died with its
    process, or its message was lost) are enqueued again, at most `POST_CALL_REQUEUES` times: every
    activity is idempotent, so a second run finishes what the first left."""
    now = now or utc_now()
    requeued: list[UUID] = []
    for call in await services.store.list_post_call_pending(now - POST_CALL_RETRY_AFTER, SWEEP_LIMIT):
        if call.post_call_requeued < POST_CALL_REQUEUES and await _requeue(services, call, now):
            requeued.append(call.call_id)
    return requeued


async def _requeue(services: Services, call: Call, now: datetime) -> bool:
    again: list[bool] = []

    def mark(stored: Call) -> None:
        again.clear()
        if stored.post_call_done_at is None and stored.post_call_requeued < POST_CALL_REQUEUES:
            stored.post_call_requeued += 1
            stored.post_call_enqueued_at = now
            again.append(True)

    await update_call(services.store, call.call_id, mark, caller_phone=call.caller_phone)
    if again:
        log.warning("call %s: post-call job not done, enqueued again", call.call_id)
        await services.jobs.enqueue(Job(kind=POST_CALL, call_id=str(call.call_id)))
    return bool(again)


async def reconcile_calls(services: Services, *, now: datetime | None = None) -> Reconciled:
    """The periodic sweep: every unfinished call not updated for `STALE_AFTER` is reconciled, and the
    post-call jobs that never finished are enqueued again."""
    now = now or utc_now()
    result = Reconciled()
    try:
        result.requeued = await requeue_post_call_jobs(services, now=now)
    except Exception:  # the calls below are swept all the same
        log.exception("post-call jobs could not be enqueued again")
    for call in await services.store.list_unfinished(now - STALE_AFTER, SWEEP_LIMIT):
        try:
            outcome = await reconcile_call(services, call, now=now)
        except Exception:  # one call's failure must not stop the sweep
            log.exception("call %s: reconciliation failed", call.call_id)
            outcome = None
        {True: result.finished, False: result.live, None: result.unknown}[outcome].append(call.call_id)
    if result.finished or result.unknown:
        log.info(
            "reconciliation: %d finished, %d live, %d unknown",
            len(result.finished),
            len(result.live),
            len(result.unknown),
        )
    return result
