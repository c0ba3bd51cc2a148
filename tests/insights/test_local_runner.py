"""The orchestration body on durabletask's in-memory backend (loopback gRPC), as `callcenter dev` runs it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from durabletask.client import OrchestrationStatus

from local.post_call import LocalPostCall
from shared.composition import Services
from shared.insights.orchestration import RetryPlan
from shared.jobs.base import POST_CALL, Job
from shared.models import Call
from shared.sms.base import SmsUnavailableError
from tests.insights.support import ScriptedSms, local_services, new_call

FAST_RETRIES = RetryPlan(first_interval_sec=0.05, backoff=2.0, max_interval_sec=0.2, max_attempts=4)


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    built = local_services(tmp_path)
    built.sms = ScriptedSms()
    yield built
    await built.aclose()


@pytest.fixture
async def runner(services: Services) -> AsyncIterator[LocalPostCall]:
    async def get() -> Services:
        return services

    started = LocalPostCall(get, plan=FAST_RETRIES)
    await started.start()
    yield started
    await started.aclose()


def _job(call: Call) -> Job:
    return Job(kind=POST_CALL, call_id=str(call.call_id))


async def _reload(services: Services, call: Call) -> Call:
    stored = await services.store.get(call.call_id)
    assert stored is not None
    return stored


async def test_a_job_runs_the_whole_orchestration_once(services: Services, runner: LocalPostCall) -> None:
    call = await new_call(services, said=["My car was stolen last night."])
    instance = await runner.submit(_job(call))
    assert instance == f"post-call-{call.call_id}"
    assert await runner.wait(instance) is OrchestrationStatus.COMPLETED
    done = await _reload(services, call)
    assert done.synthesis is not None and done.next is not None
    assert done.summary_sms_sent_at is not None and done.post_call_done_at is not None
    assert await runner.submit(_job(call)) is None  # redelivered: the completed instance is found
    assert isinstance(services.sms, ScriptedSms) and len(services.sms.outbox) == 1


async def test_a_transient_sms_failure_is_retried_with_backoff(
    services: Services, runner: LocalPostCall
) -> None:
    assert isinstance(services.sms, ScriptedSms)
    services.sms.errors += [SmsUnavailableError("busy"), SmsUnavailableError("still busy")]
    call = await new_call(services, said=["Hello"])
    instance = await runner.submit(_job(call))
    assert instance is not None and await runner.wait(instance) is OrchestrationStatus.COMPLETED
    assert len(services.sms.outbox) == 1 and services.sms.errors == []
    assert (await _reload(services, call)).summary_sms_sent_at is not None


async def test_a_call_without_interaction_is_only_marked_done(
    services: Services, runner: LocalPostCall
) -> None:
    call = await new_call(services)
    instance = await runner.submit(_job(call))
    assert instance is not None and await runner.wait(instance) is OrchestrationStatus.COMPLETED
    stored = await _reload(services, call)
    assert stored.post_call_done_at is not None
    assert stored.synthesis is None and stored.next is None and stored.summary_sms_sent_at is None
    assert isinstance(services.sms, ScriptedSms) and services.sms.outbox == []


async def test_jobs_for_unknown_calls_start_nothing(runner: LocalPostCall) -> None:
    assert await runner.submit(Job(kind=POST_CALL, call_id="5b4ad7a6-0c61-4b8c-9b39-1f1c2e0c8b11")) is None
    assert await runner.submit(Job(kind=POST_CALL, call_id="nope")) is None
