"""Durable post-call insights on Azure: a queue-triggered starter, the orchestrator, four activities.

Thin: the orchestration body and the activities live in `shared/insights/`; this module adapts them
to Durable Functions. Locally the same body runs on durabletask (`local/post_call.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from typing import Any, cast

import azure.durable_functions as df
import azure.functions as func

from blueprints import runtime
from shared.insights.activities import post_call_input, run_activity
from shared.insights.orchestration import (
    MARK_DONE,
    NEXT_ACTION,
    ORCHESTRATOR,
    SMS_SUMMARY,
    SYNTHESIS,
    PostCallInput,
    RetryPlan,
    instance_id,
    post_call_steps,
    should_start,
)
from shared.jobs.base import Job

log = logging.getLogger(__name__)

POST_CALL_QUEUE = "post-call"  # JOBS__QUEUE_NAME's default: the binding needs the name itself
# The binding's connection: a flat app-setting name (the host reads `__` as a section separator, so a
# name such as JOBS__CONNECTION_STRING is never found). `JobsStorage` holds a connection string, or
# identity-based sub-settings: JobsStorage__queueServiceUri, JobsStorage__credential, JobsStorage__clientId.
QUEUE_CONNECTION = "JobsStorage"

bp = df.Blueprint()


def _durable(*decorators: Any) -> Callable[[Callable[..., Any]], Any]:
    """Apply Durable Functions decorators (untyped in the SDK), top one first, as stacked decorators do."""

    def apply(function: Callable[..., Any]) -> Any:
        result: Any = function
        for decorator in reversed(decorators):
            result = decorator(result)
        return result

    return apply


class BackoffRetryOptions(df.RetryOptions):  # type: ignore[misc]
    """`RetryOptions` with the backoff fields the Durable extension reads but the Python SDK omits."""

    def __init__(self, plan: RetryPlan) -> None:
        super().__init__(round(plan.first_interval_sec * 1000), plan.max_attempts)
        self._plan = plan

    def to_json(self) -> dict[str, Any]:
        data = cast(dict[str, Any], super().to_json())
        data["backoffCoefficient"] = self._plan.backoff
        data["maxRetryIntervalInMilliseconds"] = round(self._plan.max_interval_sec * 1000)
        return data


class DurableSteps:
    """The `Steps` adapter over a Durable Functions orchestration context."""

    def __init__(self, context: df.DurableOrchestrationContext, plan: RetryPlan) -> None:
        self._context = context
        self._retry = BackoffRetryOptions(plan)

    def activity(self, name: str, payload: PostCallInput) -> Any:
        return self._context.call_activity_with_retry(name, self._retry, payload)


@_durable(
    bp.function_name("post_call_starter"),
    bp.queue_trigger(arg_name="message", queue_name=POST_CALL_QUEUE, connection=QUEUE_CONNECTION),
    bp.durable_client_input(client_name="client"),
)
async def post_call_starter(message: func.QueueMessage, client: df.DurableOrchestrationClient) -> None:
    """One orchestration per call: a redelivered message finds the instance and starts nothing."""
    try:
        job = Job.from_json(message.get_body().decode("utf-8"))
    except ValueError as exc:
        log.warning("post-call message %s dropped: %s", message.id, exc)
        return
    payload = await post_call_input(await runtime.current().get(), job)
    if payload is None:
        return
    instance = instance_id(payload["call_id"])
    status = await client.get_status(instance)
    existing = getattr(status, "runtime_status", None)
    if not should_start(existing.value if existing is not None else None):
        log.info("post-call %s already %s: not started again", instance, existing)
        return
    await client.start_new(ORCHESTRATOR, instance_id=instance, client_input=payload)
    log.info("post-call %s started", instance)


@_durable(bp.function_name(ORCHESTRATOR), bp.orchestration_trigger(context_name="context"))
def post_call_orchestrator(
    context: df.DurableOrchestrationContext,
) -> Generator[Any, Any, dict[str, Any]]:
    payload = cast(PostCallInput, context.get_input())
    return (yield from post_call_steps(DurableSteps(context, RetryPlan()), payload))


async def _activity(name: str, payload: PostCallInput) -> dict[str, Any]:
    return await run_activity(await runtime.current().get(), name, payload)


@_durable(bp.function_name(SYNTHESIS), bp.activity_trigger(input_name="payload"))
async def synthesis(payload: PostCallInput) -> dict[str, Any]:
    return await _activity(SYNTHESIS, payload)


@_durable(bp.function_name(NEXT_ACTION), bp.activity_trigger(input_name="payload"))
async def next_action(payload: PostCallInput) -> dict[str, Any]:
    return await _activity(NEXT_ACTION, payload)


@_durable(bp.function_name(SMS_SUMMARY), bp.activity_trigger(input_name="payload"))
async def sms_summary(payload: PostCallInput) -> dict[str, Any]:
    return await _activity(SMS_SUMMARY, payload)


@_durable(bp.function_name(MARK_DONE), bp.activity_trigger(input_name="payload"))
async def mark_done(payload: PostCallInput) -> dict[str, Any]:
    return await _activity(MARK_DONE, payload)
