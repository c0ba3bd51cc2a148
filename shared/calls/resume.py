"""Resuming a conversation in a new call: an inbound call-back from the caller, or a reminder call-back.

The new call carries the previous call's claim, reminders and transcript and points back to it
(`previous_call_id`); the previous call then points forward (`resumed_by_call_id`): the latest call of
a conversation owns its reminders, so a reminder copied into the new call is called back once.
"""

from __future__ import annotations

import logging
from uuid import UUID

from shared.models import Call
from shared.models.size import fit_document
from shared.store.base import CallStore, StoreError, update_call

log = logging.getLogger(__name__)


def carry_over(previous: Call, into: Call) -> None:
    """Copy what the conversation needs from `previous` into the new call `into` (in place)."""
    into.previous_call_id = previous.call_id
    into.initiate = previous.initiate.model_copy(deep=True)
    into.lang_short_code = previous.lang_short_code
    into.agent = previous.agent
    into.claim = dict(previous.claim)
    into.archived_claims = [dict(c) for c in previous.archived_claims]
    into.reminders = [r.model_copy() for r in previous.reminders]
    into.messages = [m.model_copy(deep=True) for m in previous.messages]
    into.messages_trimmed = previous.messages_trimmed
    fit_document(into)


async def mark_taken_over(store: CallStore, previous: Call, by: UUID) -> None:
    """Record on the previous call that `by` took the conversation over (best effort: logged on failure)."""

    def apply(stored: Call) -> None:
        stored.resumed_by_call_id = stored.resumed_by_call_id or by

    try:
        await update_call(store, previous.call_id, apply, caller_phone=previous.caller_phone)
    except StoreError as exc:
        log.warning("call %s: could not mark it resumed by %s: %s", previous.call_id, by, exc)
