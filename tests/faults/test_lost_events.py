"""Events lost while the function app could not take them (down, or refusing): the reconciliation
sweep finds the calls stuck in `connected` or `created`, checks them with the telephony service, and
finishes each with exactly one post-call job."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from uuid import UUID, uuid4

import httpx
import pytest

from local.dev import LocalStack
from shared.calls.reconcile import reconcile_calls
from shared.calls.routing import with_new_secrets
from shared.composition import Services
from shared.jobs.base import MemoryJobQueue
from shared.models import Call, CallDirection, CallState
from shared.models.call import utc_now
from shared.store.base import update_call
from tests.calls.test_telephony_flow import call_in_state, place, post_call_jobs
from tests.stack import local_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with local_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


def _jobs(services: Services, call_id: UUID) -> int:
    assert isinstance(services.jobs, MemoryJobQueue)
    return sum(1 for job in services.jobs.sent if job.call_id == str(call_id))


async def test_a_call_whose_disconnect_was_lost_is_finished_once_by_the_sweep(
    stack: LocalStack, api: httpx.AsyncClient, services: Services
) -> None:
    assert stack.simulator is not None
    call_id = UUID((await place(api))["call_id"])
    call = await call_in_state(services, call_id, CallState.CONNECTED)

    def refuse_callbacks(stored: Call) -> None:  # the app refuses every callback from now on (401)
        stored.secrets.callback = "rotated"

    call = await update_call(services.store, call_id, refuse_callbacks)
    await services.telephony.hang_up(call)
    stack.simulator.wait_for_delivery("CallDisconnected", call_id=call.connection.call_connection_id)
    stuck = await services.store.get(call_id)
    assert stuck is not None and stuck.connection.state is CallState.CONNECTED  # the event was lost

    later = utc_now() + timedelta(minutes=3)
    first = await reconcile_calls(services, now=later)
    again = await reconcile_calls(services, now=later + timedelta(minutes=1))
    assert call_id in first.finished and call_id not in again.finished
    finished = await services.store.get(call_id)
    assert finished is not None and finished.connection.state is CallState.DISCONNECTED
    assert _jobs(services, call_id) + post_call_jobs(call_id) == 1


async def test_a_live_call_is_left_alone(
    stack: LocalStack, api: httpx.AsyncClient, services: Services
) -> None:
    call_id = UUID((await place(api))["call_id"])
    call = await call_in_state(services, call_id, CallState.CONNECTED)
    result = await reconcile_calls(services, now=utc_now() + timedelta(minutes=3))
    assert call_id in result.live
    await services.telephony.hang_up(call)
    await call_in_state(services, call_id, CallState.DISCONNECTED)


async def test_a_call_answered_just_before_a_crash_is_finished(services: Services) -> None:
    orphan = with_new_secrets(Call(caller_phone="+33644444444", direction=CallDirection.INBOUND))
    orphan.created_at = orphan.updated_at = utc_now() - timedelta(minutes=10)
    created = await services.store.create(orphan)  # no connection id was ever written
    result = await reconcile_calls(services)
    assert created.call_id in result.finished
    stored = await services.store.get(created.call_id)
    assert stored is not None and stored.connection.state is CallState.DISCONNECTED
    assert _jobs(services, created.call_id) == 1


async def test_a_post_call_job_that_died_with_its_process_is_enqueued_again(services: Services) -> None:
    died = with_new_secrets(Call(caller_phone="+33655555555", direction=CallDirection.INBOUND))
    died.connection.state = CallState.DISCONNECTED
    died.post_call_enqueued_at = utc_now() - timedelta(minutes=20)  # the job went with the process
    done = died.model_copy(deep=True, update={"call_id": uuid4(), "post_call_done_at": utc_now()})
    for call in (died, done):
        await services.store.create(call)

    first = await reconcile_calls(services)
    again = await reconcile_calls(services)
    assert first.requeued == [died.call_id]
    assert again.requeued == []  # enqueued just now: its new run gets time to finish
    assert _jobs(services, died.call_id) == 1 and _jobs(services, done.call_id) == 0
    stored = await services.store.get(died.call_id)
    assert stored is not None and stored.post_call_requeued == 1
