"""Post-call orchestrations without a Functions host: the shared orchestration body on durabletask's
in-memory backend (a gRPC server on loopback) and a durabletask worker. It stands in for the Durable
extension: the production queue-triggered starter reaches it through `LocalDurableClient`
(local/queue_trigger.py); `submit(job)` does what that starter does, for tests.

`LocalPostCall` is owned by the function app's event loop (the local stack starts it in the app's
lifespan). The worker runs orchestrations and activities on its own threads; each activity is handed
back to the owner's loop, where the process's services (store, cache, SMS) live.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Generator
from concurrent import futures
from datetime import timedelta
from typing import Any

import grpc  # type: ignore[import-untyped]
from durabletask import task
from durabletask.client import AsyncTaskHubGrpcClient, OrchestrationStatus
from durabletask.internal import orchestrator_service_pb2 as pb
from durabletask.internal import orchestrator_service_pb2_grpc as stubs
from durabletask.testing.in_memory_backend import InMemoryOrchestrationBackend
from durabletask.worker import TaskHubGrpcWorker

from shared.composition import Services
from shared.insights.activities import post_call_input, run_activity
from shared.insights.orchestration import (
    ACTIVITIES,
    ORCHESTRATOR,
    PostCallInput,
    RetryPlan,
    instance_id,
    post_call_steps,
    should_start,
)
from shared.jobs.base import Job

log = logging.getLogger(__name__)

ACTIVITY_TIMEOUT_SEC = 300.0
_quiet = logging.getLogger("local.post_call.durabletask")
_quiet.setLevel(logging.ERROR)  # its INFO chatter and the stream-cancelled warning at every stop
_REPLACEABLE = pb.OrchestrationIdReusePolicy(
    replaceableStatus=[pb.ORCHESTRATION_STATUS_FAILED, pb.ORCHESTRATION_STATUS_TERMINATED]
)


class LoopbackBackend(InMemoryOrchestrationBackend):
    """The in-memory backend, listening on 127.0.0.1 and a free port (the stock one binds `[::]`)."""

    def start(self) -> str:
        self._shutdown_event.clear()
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="durabletask"))
        stubs.add_TaskHubSidecarServiceServicer_to_server(self, server)  # type: ignore[no-untyped-call]
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        self._server = server
        return f"127.0.0.1:{port}"


class DurableTaskSteps:
    """The `Steps` adapter over a durabletask orchestration context."""

    def __init__(self, context: task.OrchestrationContext, plan: RetryPlan) -> None:
        self._context = context
        self._retry = task.RetryPolicy(
            first_retry_interval=timedelta(seconds=plan.first_interval_sec),
            max_number_of_attempts=plan.max_attempts,
            backoff_coefficient=plan.backoff,
            max_retry_interval=timedelta(seconds=plan.max_interval_sec),
        )

    def activity(self, name: str, payload: PostCallInput) -> Any:
        return self._context.call_activity(name, input=payload, retry_policy=self._retry)


class LocalPostCall:
    """durabletask backend + worker + client; `submit(job)` starts one orchestration per call."""

    def __init__(self, services: Callable[[], Awaitable[Services]], *, plan: RetryPlan | None = None) -> None:
        self._services = services
        self._plan = plan or RetryPlan()
        self._backend: LoopbackBackend | None = None
        self._worker: TaskHubGrpcWorker | None = None
        self._client: AsyncTaskHubGrpcClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._backend = LoopbackBackend()
        address = self._backend.start()
        worker = TaskHubGrpcWorker(host_address=address, logger=_quiet)
        worker.add_orchestrator(self._orchestrator())
        for name in ACTIVITIES:
            worker.add_activity(self._activity(name))
        worker.start()  # type: ignore[no-untyped-call]
        self._worker = worker
        self._client = AsyncTaskHubGrpcClient(host_address=address, logger=_quiet)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The owner's loop: call `submit` and `wait` there (from elsewhere: run_coroutine_threadsafe)."""
        assert self._loop is not None, "start() first"
        return self._loop

    def _orchestrator(self) -> Callable[[task.OrchestrationContext, PostCallInput], Generator[Any, Any, Any]]:
        plan = self._plan

        def post_call_orchestrator(context: task.OrchestrationContext, payload: PostCallInput) -> Any:
            return (yield from post_call_steps(DurableTaskSteps(context, plan), payload))

        post_call_orchestrator.__name__ = ORCHESTRATOR
        return post_call_orchestrator

    def _activity(self, name: str) -> Callable[[task.ActivityContext, PostCallInput], dict[str, Any]]:
        """A worker-thread activity that runs the shared activity on the owner's loop and waits."""

        async def run(payload: PostCallInput) -> dict[str, Any]:
            try:
                return await run_activity(await self._services(), name, payload)
            except Exception as exc:  # durabletask retries it; say so (its own logs are quieted)
                log.warning("post-call %s for call %s failed: %r", name, payload.get("call_id"), exc)
                raise

        def activity(_context: task.ActivityContext, payload: PostCallInput) -> dict[str, Any]:
            assert self._loop is not None
            return asyncio.run_coroutine_threadsafe(run(payload), self._loop).result(ACTIVITY_TIMEOUT_SEC)

        activity.__name__ = name
        return activity

    async def status(self, instance: str) -> str | None:
        """The instance's runtime status name (`RUNNING`, `COMPLETED`...), None when there is none."""
        assert self._client is not None, "start() first"
        state = await self._client.get_orchestration_state(instance, fetch_payloads=False)
        return state.runtime_status.name if state is not None else None

    async def schedule(self, orchestrator: str, instance: str, payload: PostCallInput) -> str:
        """Schedule an orchestration (a failed or terminated instance is replaced)."""
        assert self._client is not None, "start() first"
        try:
            await self._client.schedule_new_orchestration(
                orchestrator, input=payload, instance_id=instance, reuse_id_policy=_REPLACEABLE
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() is not grpc.StatusCode.ALREADY_EXISTS:  # else a concurrent start won the race
                raise
        return instance

    async def submit(self, job: Job) -> str | None:
        """Start the job's orchestration unless its instance is already pending, running or done."""
        payload = await post_call_input(await self._services(), job)
        if payload is None:
            return None
        instance = instance_id(payload["call_id"])
        if not should_start(await self.status(instance)):
            log.info("post-call %s already started: not started again", instance)
            return None
        await self.schedule(ORCHESTRATOR, instance, payload)
        log.info("post-call %s started", instance)
        return instance

    async def wait(self, instance: str, timeout_sec: float = 30.0) -> OrchestrationStatus | None:
        assert self._client is not None, "start() first"
        state = await self._client.wait_for_orchestration_completion(instance, timeout=int(timeout_sec))
        return state.runtime_status if state is not None else None

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._worker is not None:
            await asyncio.to_thread(self._worker.stop)
            self._worker = None
        if self._backend is not None:
            await asyncio.to_thread(self._backend.stop, 1.0)
            self._backend = None
