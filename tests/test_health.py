"""Readiness names the failing component with a 503."""

from __future__ import annotations

from pathlib import Path

import httpx

from blueprints.api import create_api
from shared.settings import load_settings


def _client(settings_overrides: dict[str, object]) -> httpx.AsyncClient:
    app = create_api(load_settings(**settings_overrides))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_readiness_is_ready_on_local_defaults(tmp_path: Path) -> None:
    async with _client({"store": {"sqlite": {"path": tmp_path / "calls.sqlite3"}}}) as client:
        response = await client.get("/api/health/readiness")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


async def test_readiness_reports_an_unreachable_cache_with_503(tmp_path: Path) -> None:
    overrides = {
        "store": {"sqlite": {"path": tmp_path / "calls.sqlite3"}},
        "cache": {"backend": "redis", "redis": {"url": "redis://127.0.0.1:1/0"}},
    }
    async with _client(overrides) as client:
        response = await client.get("/api/health/readiness")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert set(body["failures"]) == {"cache"}
    assert "127.0.0.1:1" in body["failures"]["cache"]


async def test_readiness_reports_a_broken_store_with_503(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    async with _client({"store": {"sqlite": {"path": blocker / "calls.sqlite3"}}}) as client:
        response = await client.get("/api/health/readiness")
    assert response.status_code == 503
    assert set(response.json()["failures"]) == {"store"}


async def test_liveness_needs_no_dependency() -> None:
    async with _client({"cache": {"backend": "redis", "redis": {"url": "redis://127.0.0.1:1/0"}}}) as client:
        response = await client.get("/api/health/liveness")
    assert response.status_code == 200
