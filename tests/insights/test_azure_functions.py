"""The Durable Functions side: the orchestrator (replayed with the SDK's generator wrapper), the
queue-triggered starter (one instance per call), and the bindings the host reads."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import azure.durable_functions as df
import azure.functions as func
import pytest
from azure.durable_functions.testing import orchestrator_generator_wrapper

from blueprints import runtime
from shared.composition import Services, ServicesHolder, build_services
from shared.insights.orchestration import ORCHESTRATOR
from shared.jobs.base import POST_CALL, Job
from shared.models import Call, Message, Persona
from shared.settings import Settings, load_settings

CALL_ID = "5b4ad7a6-0c61-4b8c-9b39-1f1c2e0c8b11"
PAYLOAD = {"call_id": CALL_ID, "caller_phone": "+33612345678", "interaction": True}


@pytest.fixture(scope="module")
def functions() -> dict[str, Any]:
    import function_app
    from local.functions_host import indexed_functions

    return {str(f.get_function_name()): f for f in indexed_functions(function_app.app)}


def _task(name: str) -> MagicMock:
    task = MagicMock(name=f"task {name}")
    task.result = {"status": "written", "activity": name}
    return task


def _context(payload: dict[str, Any]) -> MagicMock:
    context = MagicMock(spec=df.DurableOrchestrationContext)
    context.get_input.return_value = payload
    context.call_activity_with_retry.side_effect = lambda name, retry, input_: _task(name)
    return context


def _run(functions: dict[str, Any], context: MagicMock) -> list[Any]:
    orchestrator = functions[ORCHESTRATOR].get_user_function().orchestrator_function
    return list(orchestrator_generator_wrapper(orchestrator(context)))


def test_the_orchestrator_calls_the_four_activities_in_order_with_backoff(functions: dict[str, Any]) -> None:
    context = _context(PAYLOAD)
    yielded = _run(functions, context)
    calls = context.call_activity_with_retry.call_args_list
    assert [c.args[0] for c in calls] == ["synthesis", "next_action", "sms_summary", "mark_done"]
    assert all(c.args[2] == PAYLOAD for c in calls)
    retry = calls[0].args[1].to_json()
    assert retry["maxNumberOfAttempts"] > 1 and retry["firstRetryIntervalInMilliseconds"] > 0
    assert retry["backoffCoefficient"] > 1 and retry["maxRetryIntervalInMilliseconds"] > 0
    outcome = yielded[-1]
    assert outcome["call_id"] == CALL_ID
    assert outcome["sms_summary"] == {"status": "written", "activity": "sms_summary"}


def test_a_call_without_interaction_only_gets_its_done_mark(functions: dict[str, Any]) -> None:
    context = _context({**PAYLOAD, "interaction": False})
    yielded = _run(functions, context)
    assert [c.args[0] for c in context.call_activity_with_retry.call_args_list] == ["mark_done"]
    assert yielded[-1]["skipped"] == "no human message"


def test_a_failing_activity_fails_the_orchestration(functions: dict[str, Any]) -> None:
    context = _context(PAYLOAD)
    failing = MagicMock()
    type(failing).result = property(lambda _self: (_ for _ in ()).throw(RuntimeError("retries exhausted")))
    context.call_activity_with_retry.side_effect = lambda name, retry, input_: (
        failing if name == "next_action" else _task(name)
    )
    with pytest.raises(RuntimeError, match="retries exhausted"):
        _run(functions, context)
    assert [c.args[0] for c in context.call_activity_with_retry.call_args_list] == [
        "synthesis",
        "next_action",
    ]


def test_the_starter_binds_the_post_call_queue_and_a_durable_client(functions: dict[str, Any]) -> None:
    bindings = json.loads(functions["post_call_starter"].get_function_json())["bindings"]
    queue = next(b for b in bindings if b["type"] == "queueTrigger")
    # a flat app-setting name: the host reads `__` as a section, so JOBS__CONNECTION_STRING was never found
    assert queue["queueName"] == "post-call" and queue["connection"] == "JobsStorage"
    assert any(b["type"] == "durableClient" for b in bindings)


class FakeClient:
    """The parts of DurableOrchestrationClient the starter uses."""

    def __init__(self, status: str | None = None) -> None:
        self.status = status
        self.started: list[tuple[str, str | None, Any]] = []

    async def get_status(self, instance_id: str) -> Any:
        status = MagicMock()
        status.runtime_status = df.OrchestrationRuntimeStatus(self.status) if self.status else None
        return status

    async def start_new(self, name: str, instance_id: str | None = None, client_input: Any = None) -> str:
        self.started.append((name, instance_id, client_input))
        self.status = "Pending"
        return instance_id or ""


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(store={"sqlite": {"path": tmp_path / "calls.sqlite3"}})


@pytest.fixture
async def services(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Services]:
    holder = ServicesHolder(settings)
    monkeypatch.setattr(runtime, "_holder", holder)
    built = build_services(settings)
    yield built
    await built.aclose()
    await holder.aclose()


def _message(job: Job | str) -> func.QueueMessage:
    body = job.to_json() if isinstance(job, Job) else job
    return func.QueueMessage(id="msg-1", body=body.encode())


async def _start(functions: dict[str, Any], client: FakeClient, message: func.QueueMessage) -> None:
    starter = functions["post_call_starter"].get_user_function().client_function
    await starter(message=message, client=client)


async def test_the_starter_starts_one_orchestration_per_call(
    functions: dict[str, Any], services: Services
) -> None:
    call = await services.store.create(
        Call(caller_phone="+33612345678", messages=[Message(persona=Persona.HUMAN, content="Hello")])
    )
    client = FakeClient()
    job = Job(kind=POST_CALL, call_id=str(call.call_id))
    await _start(functions, client, _message(job))
    await _start(functions, client, _message(job))  # redelivered: the instance is pending
    assert client.started == [
        (
            "post_call_orchestrator",
            f"post-call-{call.call_id}",
            {"call_id": str(call.call_id), "caller_phone": call.caller_phone, "interaction": True},
        )
    ]
    for status, starts in (("Running", 0), ("Completed", 0), ("Failed", 1), ("Terminated", 1)):
        client.started.clear()
        client.status = status
        await _start(functions, client, _message(job))
        assert len(client.started) == starts, status


async def test_the_starter_drops_bad_messages_and_unknown_calls(
    functions: dict[str, Any], services: Services
) -> None:
    client = FakeClient()
    for body in ("not json", '{"kind": "post_call"}', Job(kind=POST_CALL, call_id="nope").to_json()):
        await _start(functions, client, _message(body))
    await _start(functions, client, _message(Job(kind=POST_CALL, call_id=CALL_ID)))
    assert client.started == []
