"""How a call ended, in the words of an operator: the claim was completed, the caller was transferred,
the call hung up with the claim unfinished, or the call failed (never connected, or no conversation).
Read from the call document alone, so the fleet view and the `callcenter.calls` counter agree."""

from __future__ import annotations

from enum import StrEnum

from shared.models import Call, CallState, MessageAction


class Outcome(StrEnum):
    CLAIM_COMPLETE = "claim_complete"
    TRANSFERRED = "transferred"
    HUNG_UP = "hung_up"
    FAILED = "failed"
    IN_PROGRESS = "in_progress"


OUTCOME_WORDS = {
    Outcome.CLAIM_COMPLETE: "claim complete",
    Outcome.TRANSFERRED: "transferred",
    Outcome.HUNG_UP: "hung up",
    Outcome.FAILED: "failed",
    Outcome.IN_PROGRESS: "in progress",
}


def claim_complete(call: Call) -> bool:
    names = [field.name for field in call.initiate.claim]
    return bool(names) and all((call.claim.get(name) or "").strip() for name in names)


def call_outcome(call: Call) -> Outcome:
    if call.connection.state is not CallState.DISCONNECTED:
        return Outcome.IN_PROGRESS
    if any(m.action is MessageAction.TRANSFER for m in call.messages):
        return Outcome.TRANSFERRED
    if claim_complete(call):
        return Outcome.CLAIM_COMPLETE
    if call.connection.call_connection_id is None or not call.messages:  # no line, or no conversation
        return Outcome.FAILED
    return Outcome.HUNG_UP
