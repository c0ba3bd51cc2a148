"""Words the function app leaves for a live call (a failed transfer's apology, set on the call document
when ACS reports the failure): the media host owns the stream and the voice, so it says them and hangs up.

Watched only while the conversation waits on a transfer, with one point read per poll.
"""

from __future__ import annotations

import asyncio
import logging

from media_host.session import CallSession
from shared.store.base import CallStore, StoreError

log = logging.getLogger(__name__)

FAREWELL_POLL_SEC = 1.0


async def say_farewell_when_left(
    session: CallSession, store: CallStore, poll_sec: float = FAREWELL_POLL_SEC
) -> None:
    """Until cancelled (the session's end): once a transfer is pending and a farewell is stored, say it."""
    ctx = session.conversation.ctx
    while True:
        await asyncio.sleep(poll_sec)
        if not ctx.outcome.transferred:
            continue
        try:
            stored = await store.get(ctx.call.call_id, caller_phone=ctx.call.caller_phone)
        except StoreError as exc:  # read again at the next poll
            log.warning("call %s: farewell check failed: %s", ctx.call.call_id, exc)
            continue
        if stored is not None and stored.connection.farewell:
            await session.conversation.say_farewell(stored.connection.farewell, session.speak)
            return
