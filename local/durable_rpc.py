"""The Durable Functions extension's client API, locally: what a `durableClient` binding talks to.

On Azure the worker hands a `durableClient` input binding a JSON context (task hub, `rpcBaseUrl`...), and
`DurableOrchestrationClient` calls the extension over HTTP at `rpcBaseUrl`. The Functions host stand-in
does the same: the binding gets such a context, and these routes answer the two calls the post-call
starter makes, the way the extension answers them, over the local durabletask runner:

- `POST {rpcBaseUrl}orchestrators/{name}/{instanceId}` (the serialized input as a JSON string):
  202 `{"id": ...}`;
- `GET {rpcBaseUrl}instances/{instanceId}`: the instance's status, 200 when completed, 202 while pending
  or running, 400 when failed or terminated, 404 (empty body) when there is none.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import cast

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from local.post_call import LocalPostCall
from shared.insights.orchestration import PostCallInput

RPC_PATH = "/runtime/webhooks/durabletask/"
DEFAULT_TASK_HUB = "CallCenterLocal"

# durabletask status name -> (the extension's runtimeStatus, its HTTP status)
_STATUSES = {
    "PENDING": ("Pending", 202),
    "RUNNING": ("Running", 202),
    "SUSPENDED": ("Suspended", 202),
    "CONTINUED_AS_NEW": ("ContinuedAsNew", 202),
    "COMPLETED": ("Completed", 200),
    "FAILED": ("Failed", 400),
    "TERMINATED": ("Terminated", 400),
    "CANCELED": ("Canceled", 400),
}


async def close_client_session() -> None:
    """Close the Durable SDK's process-wide HTTP session, bound to the loop that opened it: the worker
    has one loop per process, the local stack one per start (tests start several in one process)."""
    from azure.durable_functions.models.utils import http_utils  # noqa: PLC0415

    await http_utils._close_session()  # the SDK's own closer; it has no public one


def client_binding(base_url: str, task_hub: str = DEFAULT_TASK_HUB) -> str:
    """The JSON context the worker gives a `durableClient` binding, pointing at these routes."""
    rpc = base_url.rstrip("/") + RPC_PATH
    return json.dumps(
        {
            "taskHubName": task_hub,
            "creationUrls": {},
            "managementUrls": {},
            "baseUrl": rpc,
            "requiredQueryStringParameters": "",
            "rpcBaseUrl": rpc,
        }
    )


def durable_routes(runner: Callable[[], LocalPostCall | None]) -> list[Route]:
    """The extension's client routes, over whichever runner is live (None: 503, not started)."""

    async def start_new(request: Request) -> Response:
        post_call = runner()
        if post_call is None:
            return JSONResponse({"Message": "the Durable runtime is not running"}, status_code=503)
        name, instance = request.path_params["name"], request.path_params["instance"]
        body = await request.body()
        # The SDK posts the serialized input as a JSON string (JSON in JSON); the extension keeps that
        # text as the orchestration's input.
        payload = json.loads(body) if body else None
        if isinstance(payload, str):
            payload = json.loads(payload)
        await post_call.schedule(name, instance, cast(PostCallInput, payload))
        return JSONResponse({"id": instance}, status_code=202)

    async def status(request: Request) -> Response:
        post_call = runner()
        if post_call is None:
            return JSONResponse({"Message": "the Durable runtime is not running"}, status_code=503)
        instance = request.path_params["instance"]
        found = await post_call.status(instance)
        if found is None:
            return Response(status_code=404)
        runtime_status, code = _STATUSES.get(found, (found.title(), 202))
        return JSONResponse({"instanceId": instance, "runtimeStatus": runtime_status}, status_code=code)

    return [
        Route(RPC_PATH + "orchestrators/{name}/{instance}", start_new, methods=["POST"]),
        Route(RPC_PATH + "instances/{instance}", status, methods=["GET"]),
    ]
