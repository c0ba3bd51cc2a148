"""The Azure Functions surface: registered functions and a request through the real ASGI middleware."""

from __future__ import annotations

import json
from typing import Any

import azure.functions as func
import pytest
from azure.functions.decorators.core import BindingDirection

EXPECTED_FUNCTIONS = {
    # name: (trigger type, route, auth level)
    "http_app_func": ("httpTrigger", "/{*route}", "anonymous"),
    "incoming_call": ("eventGridTrigger", None, None),
    "sms_received": ("eventGridTrigger", None, None),
    "post_call_starter": ("queueTrigger", None, None),
    "post_call_orchestrator": ("orchestrationTrigger", None, None),
    "synthesis": ("activityTrigger", None, None),
    "next_action": ("activityTrigger", None, None),
    "sms_summary": ("activityTrigger", None, None),
    "mark_done": ("activityTrigger", None, None),
    "reminder_callbacks": ("timerTrigger", None, None),
    "reconcile_calls": ("timerTrigger", None, None),
    "recording_file_status": ("eventGridTrigger", None, None),
}
# input bindings besides the trigger (the queue-triggered starter gets a Durable client)
EXTRA_INPUT_BINDINGS = {"post_call_starter": ["durableClient"]}


@pytest.fixture(scope="module")
def functions() -> dict[str, Any]:
    """The registered functions, read once: like the host, `get_functions()` may only be called once."""
    import function_app
    from local.functions_host import indexed_functions

    return {str(f.get_function_name()): f for f in indexed_functions(function_app.app)}


def _bindings(function: Any) -> list[dict[str, Any]]:
    return [binding.get_dict_repr() for binding in function.get_bindings()]


def test_every_expected_function_is_registered_with_its_bindings(functions: dict[str, Any]) -> None:
    assert set(functions) == set(EXPECTED_FUNCTIONS)
    for name, (trigger_type, route, auth_level) in EXPECTED_FUNCTIONS.items():
        bindings = _bindings(functions[name])
        trigger = next(b for b in bindings if str(b["type"]).endswith("Trigger"))
        assert trigger["type"] == trigger_type
        if trigger_type == "httpTrigger":
            assert trigger["route"] == route
            assert trigger["authLevel"].value == auth_level
            output = next(b for b in bindings if b["direction"] == BindingDirection.OUT)
            assert output["type"] == "http"
        else:  # a trigger with no output binding
            others = [b["type"] for b in bindings if b is not trigger]
            assert others == EXTRA_INPUT_BINDINGS.get(name, [])
            assert all(b["direction"] == BindingDirection.IN for b in bindings)


def _request(path: str) -> func.HttpRequest:
    return func.HttpRequest(method="GET", url=f"http://localhost:7071{path}", headers={}, body=b"")


async def _invoke(functions: dict[str, Any], path: str) -> func.HttpResponse:
    function = functions["http_app_func"]
    response: func.HttpResponse = await function.get_user_function()(_request(path), None)
    return response


async def test_liveness_through_the_functions_asgi_middleware(functions: dict[str, Any]) -> None:
    response = await _invoke(functions, "/api/health/liveness")
    assert response.status_code == 200
    assert json.loads(response.get_body()) == {"status": "alive"}


async def test_readiness_through_the_functions_asgi_middleware(functions: dict[str, Any]) -> None:
    response = await _invoke(functions, "/api/health/readiness")
    assert response.status_code == 200, response.get_body()
    assert json.loads(response.get_body()) == {"status": "ready"}


async def test_unknown_route_is_404(functions: dict[str, Any]) -> None:
    response = await _invoke(functions, "/api/nope")
    assert response.status_code == 404
