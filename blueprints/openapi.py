"""The OpenAPI document told true: the statuses this API really answers.

FastAPI documents a 422 for every route that validates input, but this API answers a validation
problem with 400 and one readable line per problem (`blueprints.api`). It also answers 401 for a
missing or wrong key, 503 when no key is configured, 404 for an unknown call and 413 for a body over
the limit (`blueprints.body_limit`), which FastAPI cannot know about. This rewrites the generated
document once, from the routes themselves.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from blueprints.dependencies import API_KEY_HEADER

_DETAIL_LINES = {
    "application/json": {
        "schema": {
            "type": "object",
            "properties": {"detail": {"type": "array", "items": {"type": "string"}}},
            "required": ["detail"],
        }
    }
}
_DETAIL = {
    "application/json": {
        "schema": {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
    }
}


def _statuses(path: str, method: str, operation: dict[str, Any], max_body_bytes: int) -> dict[str, Any]:
    statuses: dict[str, dict[str, Any]] = {}
    headers = {p.get("name", "").lower() for p in operation.get("parameters", []) if p.get("in") == "header"}
    if API_KEY_HEADER in headers and path.startswith("/api/call"):
        statuses["401"] = {"description": f"missing or wrong {API_KEY_HEADER} header", "content": _DETAIL}
        statuses["503"] = {"description": "API__KEY is not configured on the server", "content": _DETAIL}
    if "{call_id}" in path:
        statuses["404"] = {"description": "no such call", "content": _DETAIL}
    if method in ("post", "put", "patch"):
        statuses["413"] = {"description": f"body larger than {max_body_bytes} bytes", "content": _DETAIL}
    return statuses


def install_truthful_openapi(app: FastAPI, *, max_body_bytes: int) -> None:
    """Make `app.openapi()` document 400 instead of 422, and the 401/404/413/503 the API answers."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = get_openapi(title=app.title, version=app.version, routes=app.routes)
        for path, operations in document.get("paths", {}).items():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                if responses.pop("422", None) is not None:
                    responses["400"] = {
                        "description": "invalid input: one line per problem",
                        "content": _DETAIL_LINES,
                    }
                for status, response in _statuses(path, method, operation, max_body_bytes).items():
                    responses.setdefault(status, response)
        schemas = document.get("components", {}).get("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
