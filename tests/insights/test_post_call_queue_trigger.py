"""With the storage job queue selected (Azurite), the post-call job goes the way it goes on Azure: the
function app enqueues it in a real Storage queue, the Functions host stand-in's queue trigger reads the
queue its binding names (resolving the binding's connection from app settings, as the host does) and
invokes the production starter, which starts the orchestration through a Durable client."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import httpx
import pytest

from local.dev import LocalStack
from local.host_settings import HostIndexingError
from shared.composition import Services
from shared.jobs.storage_queue import StorageJobQueue
from shared.models import Call, CallState, Message, Persona
from shared.store.base import append_message
from tests.azurite import azurite
from tests.stack import eventually, local_stack


@pytest.fixture(scope="module")
def queue_connection(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with azurite("queue", tmp_path_factory.mktemp("azurite-jobs")) as connection:
        yield connection


def _storage_jobs(connection: str) -> dict[str, object]:
    return {"jobs": {"backend": "storage", "connection_string": connection}}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, queue_connection: str) -> Iterator[LocalStack]:
    data = tmp_path_factory.mktemp("post-call-queue")
    running = local_stack(data, overrides=_storage_jobs(queue_connection))
    running.app_settings = {"JobsStorage": queue_connection}  # the binding's app setting, as on Azure
    with running:
        yield running


async def test_the_post_call_job_runs_through_the_storage_queue_trigger(
    stack: LocalStack, api: httpx.AsyncClient, services: Services
) -> None:
    assert isinstance(services.jobs, StorageJobQueue)
    response = await api.post(
        "/api/call",
        json={
            "bot_company": "Contoso",
            "bot_name": "Amélie",
            "phone_number": "+33612349001",
            "task": "Claim.",
        },
    )
    assert response.status_code == 201, response.text
    call_id = UUID(response.json()["call_id"])

    async def connected() -> Call | None:
        call = await services.store.get(call_id)
        return call if call is not None and call.connection.state is CallState.CONNECTED else None

    call: Call = await eventually(connected, "call connected")
    said = Message(persona=Persona.HUMAN, content="My bike was stolen this morning, I am Ana Souza.")
    await append_message(services.store, call.call_id, said)
    await services.telephony.hang_up(call)

    async def finished() -> Call | None:
        stored = await services.store.get(call_id)
        return stored if stored is not None and stored.post_call_done_at is not None else None

    done: Call = await eventually(finished, "post-call job done through the queue", within=40)
    assert done.synthesis is not None and done.summary_sms_sent_at is not None
    assert stack.functions is not None
    starts = [name for name, _ in stack.functions.invocations if name == "post_call_starter"]
    assert starts, "the queue trigger invoked the production starter"


def test_the_stack_refuses_to_start_without_the_bindings_app_setting(
    tmp_path_factory: pytest.TempPathFactory, queue_connection: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only JOBS__CONNECTION_STRING set (what the producer reads): the host finds no `JobsStorage`."""
    monkeypatch.delenv("JobsStorage", raising=False)
    monkeypatch.setenv("LOCAL_SETTINGS_PATH", str(tmp_path_factory.mktemp("no-settings") / "none.json"))
    data = tmp_path_factory.mktemp("refused")
    refused = local_stack(data, overrides=_storage_jobs(queue_connection))
    with pytest.raises(HostIndexingError, match="'JobsStorage' does not exist"):
        refused.start()
