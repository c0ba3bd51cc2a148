"""The post-call job's input and its four activities, each idempotent keyed by the call id.

- `synthesis` / `next_action`: written only when the call has none yet (an LLM's JSON answer when a
  model is configured and answers validly, else the deterministic versions);
- `sms_summary`: at most once (`summary_sms.py`);
- `mark_done`: sets `post_call_done_at` once.

Transient failures (store, cache, SMS service unreachable) raise, and the orchestration retries the
activity with backoff; results are small JSON objects for the orchestration's history.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from shared.composition import Services
from shared.insights.llm import llm_next_action, llm_synthesis
from shared.insights.orchestration import (
    MARK_DONE,
    NEXT_ACTION,
    SMS_SUMMARY,
    SYNTHESIS,
    PostCallInput,
)
from shared.insights.summary_sms import send_summary_sms
from shared.insights.synthesis import deterministic_next_action, deterministic_synthesis
from shared.jobs.base import POST_CALL, Job
from shared.models import Call, Persona
from shared.models.call import utc_now
from shared.store.base import update_call
from shared.telemetry import names, spans

log = logging.getLogger(__name__)

Activity = Callable[[Services, PostCallInput], Awaitable[dict[str, Any]]]


def has_interaction(call: Call) -> bool:
    """Did anyone talk to the bot? (a call that rang out or hung up at once has nothing to sum up)."""
    return any(m.persona is Persona.HUMAN and m.content.strip() for m in call.messages)


async def post_call_input(services: Services, job: Job) -> PostCallInput | None:
    """The orchestration's input for a queued job, or None when the job is not for an existing call."""
    if job.kind != POST_CALL:
        log.warning("job %s for call %s ignored by the post-call starter", job.kind, job.call_id)
        return None
    try:
        call_id = UUID(job.call_id)
    except ValueError:
        log.warning("post-call job ignored: %r is not a call id", job.call_id)
        return None
    call = await services.store.get(call_id)
    if call is None:
        log.warning("post-call job ignored: call %s not found", call_id)
        return None
    made: PostCallInput = {
        "call_id": str(call.call_id),
        "caller_phone": call.caller_phone,
        "interaction": has_interaction(call),
    }
    if call.connection.trace_parent:  # the post-call spans link to the call's first span
        made["trace_parent"] = call.connection.trace_parent
    return made


async def _load(services: Services, payload: PostCallInput) -> Call | None:
    call = await services.store.get(UUID(payload["call_id"]), caller_phone=payload["caller_phone"])
    if call is None:
        log.warning("post-call activity: call %s not found", payload["call_id"])
    return call


async def synthesis(services: Services, payload: PostCallInput) -> dict[str, Any]:
    call = await _load(services, payload)
    if call is None:
        return {"status": "missing"}
    if call.synthesis is not None:
        return {"status": "kept"}
    written = await llm_synthesis(services.chat, call)
    source = "llm" if written else "rules"
    result = written or deterministic_synthesis(call)

    def apply(stored: Call) -> None:
        if stored.synthesis is None:
            stored.synthesis = result.model_copy()

    await update_call(services.store, call.call_id, apply, caller_phone=call.caller_phone)
    return {"status": "written", "source": source}


async def next_action(services: Services, payload: PostCallInput) -> dict[str, Any]:
    call = await _load(services, payload)
    if call is None:
        return {"status": "missing"}
    if call.next is not None:
        return {"status": "kept", "action": call.next.action.value}
    written = await llm_next_action(services.chat, call)
    source = "llm" if written else "rules"
    result = written or deterministic_next_action(call)

    def apply(stored: Call) -> None:
        if stored.next is None:
            stored.next = result.model_copy()

    await update_call(services.store, call.call_id, apply, caller_phone=call.caller_phone)
    return {"status": "written", "source": source, "action": result.action.value}


async def sms_summary(services: Services, payload: PostCallInput) -> dict[str, Any]:
    return await send_summary_sms(services, UUID(payload["call_id"]), payload["caller_phone"])


async def mark_done(services: Services, payload: PostCallInput) -> dict[str, Any]:
    call = await _load(services, payload)
    if call is None:
        return {"status": "missing"}
    if call.post_call_done_at is not None:
        return {"status": "kept"}

    def apply(stored: Call) -> None:
        if stored.post_call_done_at is None:
            stored.post_call_done_at = utc_now()

    await update_call(services.store, call.call_id, apply, caller_phone=call.caller_phone)
    return {"status": "written"}


ACTIVITY_FUNCTIONS: dict[str, Activity] = {
    SYNTHESIS: synthesis,
    NEXT_ACTION: next_action,
    SMS_SUMMARY: sms_summary,
    MARK_DONE: mark_done,
}


async def run_activity(services: Services, name: str, payload: PostCallInput) -> dict[str, Any]:
    """Run one activity by name (the engines' activity functions all come here)."""
    activity = ACTIVITY_FUNCTIONS.get(name)
    if activity is None:
        raise ValueError(f"unknown post-call activity {name!r}")
    attributes = {names.ATTR_ACTIVITY: name}
    with spans.part(names.SPAN_POST_CALL, payload["call_id"], payload.get("trace_parent"), attributes):
        return await activity(services, payload)
