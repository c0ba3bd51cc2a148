"""The Azure Functions surface: registered functions and a request through the real ASGI middleware."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import azure.functions as func
import pytest
from azure.functions.decorators.core import BindingDirection

EXPECTED_FUNCTIONS = {
    # name: (trigger type, route, auth level)
    "http_app_func": ("httpTrigger", "/{*route}", "anonymous"),
}


@pytest.fixture
def function_app() -> ModuleType:
    import function_app as module  # imported once: the host imports it once too

    return module


def _bindings(function: Any) -> list[dict[str, Any]]:
    return [binding.get_dict_repr() for binding in function.get_bindings()]


def test_every_expected_function_is_registered_with_its_bindings(function_app: ModuleType) -> None:
    functions = {f.get_function_name(): f for f in function_app.app.get_functions()}
    assert set(functions) == set(EXPECTED_FUNCTIONS)
    for name, (trigger_type, route, auth_level) in EXPECTED_FUNCTIONS.items():
        bindings = _bindings(functions[name])
        trigger = next(b for b in bindings if b["direction"] == BindingDirection.IN)
        assert trigger["type"] == trigger_type
        assert trigger["route"] == route
        assert trigger["authLevel"].value == auth_level
        output = next(b for b in bindings if b["direction"] == BindingDirection.OUT)
        assert output["type"] == "http"


def _request(path: str) -> func.HttpRequest:
    return func.HttpRequest(method="GET", url=f"http://localhost:7071{path}", headers={}, body=b"")


async def _invoke(function_app: ModuleType, path: str) -> func.HttpResponse:
    function = next(f for f in function_app.app.get_functions() if f.get_function_name() == "http_app_func")
    response: func.HttpResponse = await function.get_user_function()(_request(path), None)
    return response


async def test_liveness_through_the_functions_asgi_middleware(function_app: ModuleType) -> None:
    response = await _invoke(function_app, "/api/health/liveness")
    assert response.status_code == 200
    assert json.loads(response.get_body()) == {"status": "alive"}


async def test_readiness_through_the_functions_asgi_middleware(function_app: ModuleType) -> None:
    response = await _invoke(function_app, "/api/health/readiness")
    assert response.status_code == 200, response.get_body()
    assert json.loads(response.get_body()) == {"status": "ready"}


async def test_unknown_route_is_404(function_app: ModuleType) -> None:
    response = await _invoke(function_app, "/api/nope")
    assert response.status_code == 404
