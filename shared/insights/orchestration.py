"""The post-call orchestration: one body for Durable Functions (Azure) and durabletask (local).

The body is a generator that only yields activity tasks, so it is deterministic and replay-safe on
both engines. Each engine wraps its orchestration context in a small `Steps` adapter that turns
`activity(name, payload)` into that engine's "call this activity with this retry policy" task:
`blueprints/insights.py` for Durable Functions, `local/post_call.py` for durabletask.

Order: `synthesis` -> `next_action` -> `sms_summary` -> `mark_done`. A call without real interaction
(no human message) skips straight to `mark_done`. Activities are idempotent keyed by the call id, so a
replayed or restarted orchestration does no harm.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, NotRequired, Protocol, TypedDict

ORCHESTRATOR = "post_call_orchestrator"
SYNTHESIS = "synthesis"
NEXT_ACTION = "next_action"
SMS_SUMMARY = "sms_summary"
MARK_DONE = "mark_done"
ACTIVITIES = (SYNTHESIS, NEXT_ACTION, SMS_SUMMARY, MARK_DONE)
INSTANCE_PREFIX = "post-call-"

# Instance states in which a redelivered job must not start the orchestration again (names normalised:
# lower case without `_`, so Durable Functions' "ContinuedAsNew" and durabletask's CONTINUED_AS_NEW match).
BUSY_OR_DONE = frozenset({"pending", "running", "completed", "continuedasnew", "suspended"})


class PostCallInput(TypedDict):
    call_id: str
    caller_phone: str
    interaction: bool
    trace_parent: NotRequired[str | None]  # the span that answered or placed the call (telemetry links)


@dataclass(frozen=True)
class RetryPlan:
    """Retries of a failing activity, with exponential backoff (5, 10, 20, 40, 80 s by default).

    The horizon (155 s) outlasts the SMS lease's staleness delay, so a retry after a crash mid-send
    finds the lease stale and records "outcome unknown" instead of waiting forever.
    """

    first_interval_sec: float = 5.0
    backoff: float = 2.0
    max_interval_sec: float = 120.0
    max_attempts: int = 6


class Steps(Protocol):
    """What the orchestration body needs from an engine's orchestration context."""

    def activity(self, name: str, payload: PostCallInput) -> Any:
        """A task to yield: it resolves to the activity's result (retried per the engine's RetryPlan)."""
        ...


def instance_id(call_id: str) -> str:
    """One orchestration instance per call: a redelivered job finds it instead of starting another."""
    return f"{INSTANCE_PREFIX}{call_id}"


def should_start(runtime_status: str | None) -> bool:
    """Start unless an instance for the call is already pending, running or completed.

    A failed or terminated instance is started again: every activity is idempotent.
    """
    if runtime_status is None:
        return True
    return runtime_status.replace("_", "").casefold() not in BUSY_OR_DONE


def post_call_steps(steps: Steps, payload: PostCallInput) -> Generator[Any, Any, dict[str, Any]]:
    """The orchestration body: yield activity tasks, receive their results, return a summary."""
    outcome: dict[str, Any] = {"call_id": payload["call_id"]}
    if not payload.get("interaction"):
        outcome["skipped"] = "no human message"
        outcome[MARK_DONE] = yield steps.activity(MARK_DONE, payload)
        return outcome
    for name in (SYNTHESIS, NEXT_ACTION, SMS_SUMMARY, MARK_DONE):
        outcome[name] = yield steps.activity(name, payload)
    return outcome
