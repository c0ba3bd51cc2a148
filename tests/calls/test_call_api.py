"""`POST /api/call` and the call reads: validation, API key, no half-made calls."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from blueprints.api import create_api
from shared.settings import Settings, load_settings

KEY = "test-key"
VALID: dict[str, Any] = {
    "bot_company": "Contoso",
    "bot_name": "Amélie",
    "phone_number": "+33612345678",
    "task": "Help the customer with their insurance claim.",
    "agent_phone_number": "+33699999999",
    "claim": [{"name": "hardware_info", "type": "text"}, {"name": "first_seen", "type": "datetime"}],
}


def settings_for(tmp_path: Path, **acs: Any) -> Settings:
    return load_settings(
        api={"key": KEY}, store={"sqlite": {"path": tmp_path / "calls.sqlite3"}}, acs=acs or {}
    )


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_api(settings_for(tmp_path))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test", headers={"x-functions-key": KEY}
    ) as http:
        yield http
    await app.state.services.aclose()


def with_(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(json.dumps(VALID))
    for key, value in changes.items():
        if value is ...:
            body.pop(key)
        else:
            body[key] = value
    return body


BAD_BODIES: list[tuple[str, Any, str]] = [
    ("missing phone", with_(phone_number=...), "phone_number"),
    ("short phone", with_(phone_number="12345"), "E.164"),
    ("national phone", with_(phone_number="0612345678"), "E.164"),
    ("phone as number", with_(phone_number=33612345678), "phone_number"),
    ("empty bot name", with_(bot_name=""), "bot_name"),
    ("NUL in bot name", with_(bot_name="Amé\x00lie"), "bot_name"),
    ("control character in company", with_(bot_company="Con\x1btoso"), "bot_company"),
    ("line feed in bot name", with_(bot_name="Amélie\nBob"), "bot_name"),
    ("the bot's own number", with_(phone_number="+33100000000"), "own number"),
    ("long bot name", with_(bot_name="x" * 51), "bot_name"),
    ("missing company", with_(bot_company=...), "bot_company"),
    ("empty task", with_(task="   "), "task"),
    ("long task", with_(task="x" * 4001), "task"),
    ("bad agent number", with_(agent_phone_number="call me"), "agent_phone_number"),
    ("claim not a list", with_(claim="name"), "claim"),
    ("bad field name", with_(claim=[{"name": "1st field", "type": "text"}]), "claim"),
    (
        "duplicate fields",
        with_(claim=[{"name": "a", "type": "text"}, {"name": "A", "type": "email"}]),
        "claim",
    ),
    ("too many fields", with_(claim=[{"name": f"f{i}", "type": "text"} for i in range(21)]), "claim"),
    ("unknown field type", with_(claim=[{"name": "age", "type": "number"}]), "claim"),
    ("long description", with_(claim=[{"name": "a", "type": "text", "description": "d" * 301}]), "claim"),
    ("reserved field name", with_(claim=[{"name": "model_dump", "type": "text"}]), "claim"),
    ("unknown property", with_(priority="high"), "priority"),
    ("bad language code", with_(lang={"default_short_code": "english"}), "lang"),
    ("body is an array", [VALID], "body"),
]


@pytest.mark.parametrize(("case", "body", "mentions"), BAD_BODIES, ids=[c[0] for c in BAD_BODIES])
async def test_bad_call_requests_are_400_with_a_reason_and_store_nothing(
    client: httpx.AsyncClient, case: str, body: Any, mentions: str
) -> None:
    response = await client.post("/api/call", json=body)
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert any(mentions in line for line in detail), detail
    listing = await client.get("/api/call", params={"phone_number": "+33612345678"})
    assert listing.json()["calls"] == []


async def test_body_that_is_not_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/call", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400


async def test_oversized_body_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/call", json=with_(task="x" * 300_000))
    assert response.status_code == 413


@pytest.mark.parametrize("headers", [{}, {"x-functions-key": "wrong"}])
async def test_missing_or_wrong_api_key_is_401(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    client.headers.pop("x-functions-key")
    response = await client.post("/api/call", json=VALID, headers=headers)
    assert response.status_code == 401
    assert (
        await client.get("/api/call/00000000-0000-0000-0000-000000000000", headers=headers)
    ).status_code == 401


async def test_valid_call_is_201_stored_and_readable_without_secrets(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/call", json=VALID)
    assert response.status_code == 201, response.text
    call = response.json()
    assert call["caller_phone"] == "+33612345678"
    assert call["direction"] == "outbound"
    assert "secrets" not in call and "etag" not in call
    assert [f["name"] for f in call["initiate"]["claim"]] == ["hardware_info", "first_seen"]

    read = await client.get(f"/api/call/{call['call_id']}")
    assert read.status_code == 200 and read.json()["call_id"] == call["call_id"]
    listing = await client.get("/api/call", params={"phone_number": "+33612345678", "limit": 5})
    assert [c["call_id"] for c in listing.json()["calls"]] == [call["call_id"]]


async def test_unknown_call_is_404_and_bad_listing_is_400(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/call/8d5b7d0e-7d4c-4b47-9d1c-3f2b2f6f1d11")).status_code == 404
    assert (await client.get("/api/call/not-a-uuid")).status_code == 400
    assert (await client.get("/api/call", params={"phone_number": "123"})).status_code == 400
    assert (
        await client.get("/api/call", params={"phone_number": "+33612345678", "cursor": "zz"})
    ).status_code == 400


async def test_telephony_failure_is_502_and_leaves_no_call(tmp_path: Path) -> None:
    app = create_api(settings_for(tmp_path, endpoint="http://127.0.0.1:1", access_key="a2V5"))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test", headers={"x-functions-key": KEY}
    ) as http:
        response = await http.post("/api/call", json=VALID)
        assert response.status_code == 502
        assert "could not be placed" in response.json()["detail"]
        listing = await http.get("/api/call", params={"phone_number": "+33612345678"})
    await app.state.services.aclose()
    assert listing.json()["calls"] == []
