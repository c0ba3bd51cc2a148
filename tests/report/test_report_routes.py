"""`GET /api/report` and `GET /api/report/{call_id}` over HTTP: keys, filters, paging, signed links."""

from __future__ import annotations

import contextlib
import html
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import azure.functions as func
import httpx
import pytest

from blueprints.api import create_api
from shared.blobs.files import FileBlobStore
from shared.insights.links import report_link
from shared.models import Call
from shared.report.access import REPORT_PATH, relative_report_link
from shared.settings import Settings
from shared.store.sqlite import SqliteCallStore
from tests.report.support import KEY, MAIN_PHONE, OTHER_PHONE, SECRET_MARKERS, report_settings, seed

ROW = re.compile(r'<tr class="call-row" data-call-id="([0-9a-f-]+)">')
LINK = re.compile(r'class="call-link" href="([^"]+)"')


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return report_settings(tmp_path)


@pytest.fixture
async def seeded(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, list[Call]]]:
    calls = await seed(settings)
    app = create_api(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http, calls
    await app.state.services.aclose()


def rows(page: httpx.Response) -> list[str]:
    return ROW.findall(page.text)


async def listing(http: httpx.AsyncClient, **params: Any) -> httpx.Response:
    return await http.get(REPORT_PATH, params={"key": KEY, **params})


@pytest.mark.parametrize(
    ("params", "headers"),
    [({}, {}), ({"key": "wrong"}, {}), ({}, {"x-functions-key": "wrong"}), ({"key": ""}, {})],
)
async def test_the_list_needs_the_api_key(
    seeded: tuple[httpx.AsyncClient, list[Call]], params: dict[str, str], headers: dict[str, str]
) -> None:
    http, _calls = seeded
    page = await http.get(REPORT_PATH, params=params, headers=headers)
    assert page.status_code == 401
    assert page.headers["content-type"].startswith("text/html")
    assert "API key" in page.text and "call-row" not in page.text


async def test_the_key_opens_the_list_from_header_or_query(
    seeded: tuple[httpx.AsyncClient, list[Call]],
) -> None:
    http, calls = seeded
    by_header = await http.get(REPORT_PATH, headers={"x-functions-key": KEY})
    by_query = await listing(http)
    expected = [str(call.call_id) for call in calls]  # newest first
    assert rows(by_header) == rows(by_query) == expected
    carried = re.search(r'name="key" value="([^"]+)"', by_query.text)  # the form keeps the access
    assert carried is not None and carried.group(1) != KEY and KEY not in by_query.text  # never the key
    assert rows(await http.get(REPORT_PATH, params={"key": carried.group(1)})) == expected
    assert 'name="key"' not in by_header.text  # a header key is never written into the page
    csp = by_query.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert by_query.headers["referrer-policy"] == "no-referrer"


async def test_without_a_configured_key_the_list_is_closed(tmp_path: Path) -> None:
    app = create_api(report_settings(tmp_path, api={}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        page = await http.get(REPORT_PATH, params={"key": "anything"})
    await app.state.services.aclose()
    assert page.status_code == 503 and "API__KEY" in page.text


async def test_filters(seeded: tuple[httpx.AsyncClient, list[Call]]) -> None:
    http, (full, closed, first) = seeded
    ids = {name: str(call.call_id) for name, call in (("full", full), ("closed", closed), ("first", first))}
    cases: list[tuple[dict[str, str], list[str]]] = [
        ({"phone": MAIN_PHONE}, [ids["full"], ids["first"]]),
        ({"phone": OTHER_PHONE}, [ids["closed"]]),
        ({"since": "2025-03-10"}, [ids["full"], ids["closed"]]),
        ({"until": "2025-03-12"}, [ids["closed"], ids["first"]]),
        ({"since": "2025-03-12", "until": "2025-03-12"}, [ids["closed"]]),
        ({"phone": MAIN_PHONE, "since": "2025-03-10"}, [ids["full"]]),
        ({"phone": MAIN_PHONE, "until": "2025-03-10"}, [ids["first"]]),
        ({"next_action": "case_closed"}, [ids["closed"]]),
        ({"next_action": "requires_expertise"}, [ids["full"]]),
        ({"next_action": "none"}, [ids["first"]]),
        ({"next_action": "commercial_offer"}, []),
        ({"phone": MAIN_PHONE, "next_action": "none"}, [ids["first"]]),
    ]
    for params, expected in cases:
        page = await listing(http, **params)
        assert page.status_code == 200, params
        assert rows(page) == expected, params
    empty = await listing(http, next_action="commercial_offer")
    assert "No call matches" in empty.text


async def test_bad_filters_answer_400_with_the_form_and_the_reasons(
    seeded: tuple[httpx.AsyncClient, list[Call]],
) -> None:
    http, _calls = seeded
    page = await listing(http, phone="0612", since="soon")
    assert page.status_code == 400
    text = html.unescape(page.text)
    assert "phone: '0612' is not an E.164 phone number" in text
    assert "since: 'soon' is not an ISO date" in text
    assert '<form class="card filters"' in page.text
    stale = await listing(http, cursor="garbage")
    assert stale.status_code == 400 and "start again from the newest calls" in stale.text


async def test_paging_newest_first_without_repeats(seeded: tuple[httpx.AsyncClient, list[Call]]) -> None:
    http, calls = seeded
    seen: list[str] = []
    page = await listing(http, limit="1")
    for _ in range(5):
        seen += rows(page)
        found = re.search(r'rel="next" href="([^"]+)"', page.text)
        if found is None:
            break
        next_url = html.unescape(found.group(1))
        assert "key=v1." in next_url and f"key={KEY}" not in next_url and "limit=1" in next_url
        page = await http.get(next_url)
        assert page.status_code == 200
        assert "← Newest" in page.text
    assert seen == [str(call.call_id) for call in calls]


async def test_paging_keeps_the_filters(seeded: tuple[httpx.AsyncClient, list[Call]]) -> None:
    http, (full, _closed, first) = seeded
    page = await listing(http, phone=MAIN_PHONE, limit="1")
    assert rows(page) == [str(full.call_id)]
    next_url = html.unescape(re.search(r'rel="next" href="([^"]+)"', page.text).group(1))  # type: ignore[union-attr]
    second = await http.get(next_url)
    assert rows(second) == [str(first.call_id)]
    assert 'rel="next"' not in second.text


async def test_each_row_links_to_the_signed_call_page(seeded: tuple[httpx.AsyncClient, list[Call]]) -> None:
    http, calls = seeded
    links = [html.unescape(link) for link in LINK.findall((await listing(http)).text)]
    assert [urlsplit(link).path for link in links] == [f"{REPORT_PATH}/{call.call_id}" for call in calls]
    for link in links:
        assert "key=" not in link and "sig=" in link and "expires=" in link
        page = await http.get(link)  # no key: the signature alone opens it
        assert page.status_code == 200


async def test_a_signed_link_opens_the_call_page(
    seeded: tuple[httpx.AsyncClient, list[Call]], settings: Settings
) -> None:
    http, (full, *_rest) = seeded
    page = await http.get(relative_report_link(settings, full))
    assert page.status_code == 200, page.text
    text = html.unescape(page.text)
    for shown in (
        "Kitchen water leak reported by Jane Doe.",
        "Ask for photos of the damage earlier.",
        "Requires expertise",
        "A plumber must assess the damage before any refund.",
        "Jane Doe",
        "jane.doe@example.com",
        "Call back about the plumber",
        "Tool call: updated_claim",
        '"field": "caller_name"',
        "caller_name is now 'Jane Doe'",
        "en-US",
        "inbound",
    ):
        assert shown in text, shown
    assert '<audio controls preload="none" src="http://127.0.0.1:9/recordings/call.wav">' in page.text
    assert page.text.count('class="segment"') == 9
    assert "<script>" not in page.text


def _forged(settings: Settings, call: Call, other: Call) -> dict[str, str]:
    good = urlsplit(report_link(settings, call)).query
    query = dict(part.split("=", 1) for part in good.split("&"))  # expires, sig (and the partition key)
    expires, sig = query["expires"], query["sig"]
    expired = urlsplit(report_link(settings, call, now=time.time() - 100 * 3600)).query
    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    return {
        "tampered signature": f"{REPORT_PATH}/{call.call_id}?expires={expires}&sig={flipped}",
        "longer expiry": f"{REPORT_PATH}/{call.call_id}?expires={int(expires) + 3600}&sig={sig}",
        "another call's link": f"{REPORT_PATH}/{other.call_id}?expires={expires}&sig={sig}",
        "expired link": f"{REPORT_PATH}/{call.call_id}?{expired}",
        "no signature": f"{REPORT_PATH}/{call.call_id}?expires={expires}",
        "nothing": f"{REPORT_PATH}/{call.call_id}",
        "wrong key": f"{REPORT_PATH}/{call.call_id}?key=nope",
        "not a number": f"{REPORT_PATH}/{call.call_id}?expires=soon&sig={sig}",
    }


async def test_tampered_foreign_or_expired_links_are_forbidden(
    seeded: tuple[httpx.AsyncClient, list[Call]], settings: Settings
) -> None:
    http, (full, closed, _first) = seeded
    for case, link in _forged(settings, full, closed).items():
        page = await http.get(link)
        assert page.status_code == 403, case
        assert page.headers["content-type"].startswith("text/html"), case
        assert "not valid or has expired" in page.text, case
        assert "Jane" not in page.text, case


async def test_the_admin_key_opens_any_call_page(seeded: tuple[httpx.AsyncClient, list[Call]]) -> None:
    http, (full, *_rest) = seeded
    by_query = await http.get(f"{REPORT_PATH}/{full.call_id}", params={"key": KEY})
    by_header = await http.get(f"{REPORT_PATH}/{full.call_id}", headers={"x-functions-key": KEY})
    assert by_query.status_code == by_header.status_code == 200
    missing = await http.get(f"{REPORT_PATH}/00000000-0000-4000-8000-000000000000", params={"key": KEY})
    assert missing.status_code == 404
    not_an_id = await http.get(f"{REPORT_PATH}/nope", params={"key": KEY})
    assert not_an_id.status_code == 404


async def test_secrets_never_reach_a_page(seeded: tuple[httpx.AsyncClient, list[Call]]) -> None:
    http, calls = seeded
    pages = [await listing(http), await listing(http, phone=MAIN_PHONE)]
    pages += [await http.get(f"{REPORT_PATH}/{call.call_id}", params={"key": KEY}) for call in calls]
    for page in pages:
        assert page.status_code == 200
        assert not any(secret in page.text for secret in SECRET_MARKERS)
        assert "etag" not in page.text.lower()


Get = Callable[..., Awaitable[func.HttpResponse]]


@contextlib.asynccontextmanager
async def functions_host(settings: Settings) -> AsyncIterator[Get]:
    """The report app as the Azure Functions ASGI function the host calls: `get(path, headers)`."""
    app = func.AsgiFunctionApp(app=create_api(settings), http_auth_level=func.AuthLevel.ANONYMOUS)
    (function,) = app.get_functions()
    handler = function.get_user_function()

    async def get(path: str, headers: dict[str, str] | None = None) -> func.HttpResponse:
        request = func.HttpRequest(
            method="GET", url=f"http://localhost:7071{path}", headers=headers or {}, body=b""
        )
        response: func.HttpResponse = await handler(request, None)
        return response

    try:
        yield get
    finally:  # shut the app down here: the SDK's __del__ would call asyncio.run inside this event loop
        if app.startup_task_done:
            await app.middleware.notify_shutdown()  # type: ignore[no-untyped-call]
            app.startup_task_done = False


async def test_the_functions_host_routes_the_report(tmp_path: Path) -> None:
    """Through the Azure Functions ASGI function, whose host only serves paths under `routePrefix`."""
    host = json.loads((Path(__file__).parents[2] / "host.json").read_text())
    assert REPORT_PATH.startswith("/" + host["extensions"]["http"]["routePrefix"] + "/")
    settings = report_settings(tmp_path)
    full, *_rest = await seed(settings)
    async with functions_host(settings) as get:
        assert (await get(REPORT_PATH)).status_code == 401
        assert (await get(f"{REPORT_PATH}?key={KEY}")).status_code == 200
        signed = await get(relative_report_link(settings, full))
        assert signed.status_code == 200
        assert "Kitchen water leak" in signed.get_body().decode()


async def test_the_functions_host_passes_byte_ranges_of_a_local_recording(tmp_path: Path) -> None:
    """The Range header reaches the app through the Functions ASGI conversion, and its 206 comes back."""
    settings = report_settings(tmp_path, blobs={"files_dir": tmp_path / "blobs"})
    call = Call(caller_phone=MAIN_PHONE)
    audio = b"RIFF" + bytes(range(256)) * 8
    blobs = FileBlobStore(settings.blobs.files_dir, settings.blobs.container)
    call.recording_url = await blobs.put(
        f"{call.call_id}/recording-abc-0.wav", audio, content_type="audio/wav"
    )
    store = SqliteCallStore(settings.store.sqlite.path)
    try:
        await store.create(call)
    finally:
        await store.close()
    path = f"{REPORT_PATH}/{call.call_id}/recording?key={KEY}"
    async with functions_host(settings) as get:
        whole = await get(path)
        assert (whole.status_code, whole.get_body()) == (200, audio)
        assert whole.headers["Accept-Ranges"] == "bytes"
        part = await get(path, {"Range": "bytes=0-3"})
        assert (part.status_code, part.get_body()) == (206, b"RIFF")
        assert part.headers["Content-Range"] == f"bytes 0-3/{len(audio)}"
        assert part.mimetype == "audio/wav"
