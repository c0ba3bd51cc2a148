"""The OpenAPI document says what the API answers: 400 (never 422) for bad input, 401 without the key,
404 for an unknown call, 413 over the body limit; and the API does answer what it says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from blueprints.api import create_api
from shared.settings import load_settings


async def test_the_document_lists_the_statuses_the_api_answers(tmp_path: Path) -> None:
    app = create_api(load_settings(api={"key": "k"}, store={"sqlite": {"path": tmp_path / "calls.sqlite3"}}))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            document: dict[str, Any] = (await http.get("/api/openapi.json")).json()
            bad = await http.post("/api/call", json={"phone_number": "123"}, headers={"x-functions-key": "k"})
            unknown = await http.get(
                "/api/call/7d5f1a4e-5d6b-4b6e-9f0e-2f3c1d2e3f4a", headers={"x-functions-key": "k"}
            )
    finally:
        await app.state.services.aclose()
    assert "422" not in str(document["paths"])
    create = document["paths"]["/api/call"]["post"]["responses"]
    assert {"201", "400", "401", "413"} <= set(create)
    read = document["paths"]["/api/call/{call_id}"]["get"]["responses"]
    assert {"200", "400", "401", "404"} <= set(read)
    assert bad.status_code == 400 and isinstance(bad.json()["detail"], list)
    assert unknown.status_code == 404
