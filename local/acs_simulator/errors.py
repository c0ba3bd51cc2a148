"""ACS REST errors and request-body helpers."""

from __future__ import annotations

from typing import Any

__all__ = ["AcsError", "bad_request", "optional_str", "require_str"]


class AcsError(Exception):
    """An error answered in the ACS shape `{"error": {"code", "message"}}`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


def require_str(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise AcsError(400, "BadRequest", f"'{key}' is required and must be a non-empty string.")
    return value


def optional_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    return value if isinstance(value, str) and value else None


def bad_request(message: str) -> AcsError:
    return AcsError(400, "BadRequest", message)
