"""The hottest reads are point reads: every URL the call hands out (callback, media socket, signed report
link) carries the call's partition key, so Cosmos DB reads one document instead of querying every
partition. Checked on the real SQLite store, wrapped to record the partition key each read carried."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import pytest

from media_host.admission import CLOSE_UNAUTHORIZED, admit
from shared.calls.events import handle_call_events
from shared.calls.routing import call_route, partition_key, with_new_secrets
from shared.composition import Services, build_services
from shared.insights.links import report_link
from shared.models import Call, CallState
from shared.report.pages import PageCredentials, call_page
from shared.settings import load_settings
from shared.store.sqlite import SqliteCallStore

CALLER = "+14155550123"


class ReadLog:
    """The real store; each `get` records the partition key it was given."""

    def __init__(self, store: SqliteCallStore) -> None:
        self._store = store
        self.reads: list[str | None] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def get(self, call_id: UUID, *, caller_phone: str | None = None) -> Call | None:
        self.reads.append(caller_phone)
        return await self._store.get(call_id, caller_phone=caller_phone)


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    built = build_services(
        load_settings(
            store={"sqlite": {"path": tmp_path / "calls.sqlite3"}},
            api={"public_url": "https://app.example", "key": "k"},
            media={"public_url": "wss://media.example"},
        )
    )
    built.store = ReadLog(built.store)  # type: ignore[arg-type]
    yield built
    await built.aclose()


async def _call(services: Services) -> Call:
    call = with_new_secrets(Call(caller_phone=CALLER))
    call.connection.state = CallState.CONNECTED
    return await services.store.create(call)


def _pk(url: str) -> str | None:
    return partition_key(parse_qs(urlsplit(url).query).get("pk", [None])[0])


async def test_callback_and_media_urls_carry_the_partition_key(services: Services) -> None:
    route = call_route(services.settings, await _call(services))
    assert _pk(route.callback_url) == CALLER and _pk(route.media_url) == CALLER
    assert "pk=%2B14155550123" in route.callback_url  # the + survives the query string


async def test_a_callback_reads_its_call_by_point_read(services: Services) -> None:
    call = await _call(services)
    route = call_route(services.settings, call)
    query = parse_qs(urlsplit(route.callback_url).query)
    event = {"type": "Microsoft.Communication.PlayCompleted", "id": "e1", "data": {}}
    await handle_call_events(
        services, call.call_id, query["secret"][0], [event], caller_phone=partition_key(query["pk"][0])
    )
    assert services.store.reads == [CALLER]  # type: ignore[attr-defined]


async def test_the_media_socket_reads_by_point_read_and_refuses_before_reading(services: Services) -> None:
    call = await _call(services)
    query = parse_qs(urlsplit(call_route(services.settings, call).media_url).query)
    admitted = await admit(services, call.call_id, {k: v[0] for k, v in query.items()}, {})
    assert admitted.call is not None and services.store.reads == [CALLER]  # type: ignore[attr-defined]
    refused = await admit(services, call.call_id, {"pk": CALLER}, {"authorization": "Bearer forged"})
    assert refused.code == CLOSE_UNAUTHORIZED
    assert services.store.reads == [CALLER]  # type: ignore[attr-defined]  # no read for a bad credential


async def test_a_signed_report_link_opens_its_page_by_point_read(services: Services) -> None:
    call = await _call(services)
    link = urlsplit(report_link(services.settings, call))
    query = {k: v[0] for k, v in parse_qs(link.query).items()}
    assert partition_key(query["pk"]) == CALLER

    async def opened(partition: str) -> int:
        credentials = PageCredentials(expires=query["expires"], signature=query["sig"], partition=partition)
        page = await call_page(services.store, services.settings, str(call.call_id), credentials)
        return page.status

    assert await opened(query["pk"]) == 200
    assert services.store.reads == [CALLER]  # type: ignore[attr-defined]
    assert await opened("+33612345678") == 404  # another partition holds nothing: a tampered pk opens nothing


def test_anything_but_an_e164_number_is_no_partition_key() -> None:
    assert partition_key(None) is None and partition_key("") is None
    assert partition_key("DROP TABLE") is None and partition_key(json.dumps({"a": 1})) is None
    assert partition_key("+33612345678") == "+33612345678"
