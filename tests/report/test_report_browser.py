"""The report in a real browser: Debian's headless Chromium (via Playwright) against the app under uvicorn.

Screenshots land in `test-artifacts/screenshots/` (git-ignored). Needs `/usr/bin/chromium` and the
`playwright` package (`make install`); `SKIP_BROWSER_TESTS=1` skips these tests when Chromium is missing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from blueprints.api import create_api
from local.threaded_server import ThreadedServer
from shared.models import Call
from shared.report.access import REPORT_PATH, relative_report_link
from shared.settings import Settings
from tests.browser import SCREENSHOTS, chromium_context
from tests.report.support import KEY, MAIN_PHONE, SCRIPT, SECRET_MARKERS, isolated_report_settings, seed

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, ConsoleMessage, Dialog, Page, ViewportSize

PHONE: ViewportSize = {"width": 390, "height": 844}


@dataclass
class Server:
    url: str
    settings: Settings
    calls: list[Call]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The function app's FastAPI app under uvicorn on a free loopback port, over a seeded SQLite store."""
    data = tmp_path_factory.mktemp("report-browser")
    settings = isolated_report_settings(data)
    calls = asyncio.run(seed(settings))
    server = ThreadedServer(create_api(settings), name="report app", lifespan="on")
    server.start(timeout=20)
    try:
        yield Server(f"http://127.0.0.1:{server.port}", settings, calls)
    finally:
        server.stop(timeout=10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    with chromium_context(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


@dataclass
class Watched:
    page: Page
    requests: list[str]
    problems: list[str]


@pytest.fixture
def tab(browser: BrowserContext) -> Iterator[Watched]:
    """A new tab that records every request, console error and dialog (a script that ran)."""
    page = browser.new_page()
    watched = Watched(page, [], [])
    page.on("request", lambda request: watched.requests.append(request.url))
    page.on("pageerror", lambda error: watched.problems.append(str(error)))

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":  # a CSP violation, a failed load...
            watched.problems.append(message.text)

    def on_dialog(dialog: Dialog) -> None:
        watched.problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    page.on("console", on_console)
    page.on("dialog", on_dialog)
    try:
        yield watched
    finally:
        page.close()


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def fits_the_width(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"))


def test_the_list_shows_calls_newest_first_and_searches_by_phone(server: Server, tab: Watched) -> None:
    page = tab.page
    page.goto(f"{server.url}{REPORT_PATH}?key={KEY}")
    rows = page.locator("tr.call-row")
    assert rows.count() == 3
    assert [rows.nth(i).get_attribute("data-call-id") for i in range(3)] == [
        str(call.call_id) for call in server.calls
    ]
    assert "Kitchen water leak reported by Jane Doe." in rows.first.inner_text()
    screenshot(page, "report-list")
    page.get_by_label("Caller phone (E.164)").fill(MAIN_PHONE)
    page.get_by_role("button", name="Search").click()
    page.wait_for_load_state()
    assert page.locator("tr.call-row").count() == 2
    assert f"phone=%2B{MAIN_PHONE[1:]}" in page.url
    page.get_by_label("Next action").select_option("none")
    page.get_by_role("button", name="Search").click()
    page.wait_for_load_state()
    assert page.locator("tr.call-row").count() == 1
    assert "Is anyone there?" in page.locator("tr.call-row").inner_text()
    assert tab.problems == []
    assert all(url.startswith(server.url) for url in tab.requests)  # nothing from elsewhere


def test_a_call_page_opened_from_the_list(server: Server, tab: Watched) -> None:
    page = tab.page
    page.goto(f"{server.url}{REPORT_PATH}?key={KEY}")
    page.locator("tr.call-row").first.locator("a.call-link").click()
    page.wait_for_load_state()
    assert "sig=" in page.url and "key=" not in page.url  # the signed link, not the admin key
    assert page.locator("h1").inner_text() == f"Call with {MAIN_PHONE}"
    claim = page.locator("section.claim")
    assert claim.locator("[data-field=caller_name] dd").inner_text() == "Jane Doe"
    assert claim.locator("[data-field=caller_email] dd").inner_text() == "jane.doe@example.com"
    assert "e-mail" in claim.locator("[data-field=caller_email] dt").inner_text()
    assert page.locator("section.synthesis .lead").inner_text() == "Kitchen water leak reported by Jane Doe."
    assert "Requires expertise" in page.locator("section.next-action").inner_text()
    assert "Call back about the plumber" in page.locator("section.reminders").inner_text()
    assert page.get_by_text(SCRIPT, exact=False).first.is_visible()  # shown as text, never run

    chart = page.get_by_role("img", name=f"Latency per turn of call {server.calls[0].call_id}")
    assert chart.is_visible()
    assert chart.locator("rect.segment").count() == 9  # 3 turns stacked as STT, agent, TTS
    assert chart.locator("g.turn").count() == 3
    assert chart.locator("g.turn").first.get_attribute("data-total-ms") == "590"  # first frame out
    box = chart.bounding_box()
    assert box is not None and box["width"] > 200

    tool = page.locator("details.tool-call").first
    arguments = tool.locator("pre.arguments")
    assert tool.get_attribute("open") is None and not arguments.is_visible()
    tool.locator("summary").click()
    assert tool.get_attribute("open") is not None
    assert arguments.is_visible() and '"caller_name"' in arguments.inner_text()
    assert "caller_name is now 'Jane Doe'" in tool.locator("pre.result").inner_text()
    assert page.locator("audio[controls]").count() == 1
    content = page.content()
    assert not any(secret in content for secret in SECRET_MARKERS)
    screenshot(page, "report-call")
    assert tab.problems == []


def test_both_pages_fit_a_phone_screen(server: Server, tab: Watched) -> None:
    page = tab.page
    page.set_viewport_size(PHONE)
    page.goto(f"{server.url}{REPORT_PATH}?key={KEY}")
    assert fits_the_width(page)
    assert page.locator("tr.call-row").first.is_visible()
    screenshot(page, "report-list-phone")
    page.goto(server.url + relative_report_link(server.settings, server.calls[0]))
    page.locator("details.tool-call summary").first.click()
    assert fits_the_width(page)
    chart = page.locator("svg.latency-chart").bounding_box()
    assert chart is not None and chart["width"] <= PHONE["width"]
    screenshot(page, "report-call-phone")


def test_a_tampered_link_shows_the_forbidden_page(server: Server, tab: Watched) -> None:
    link = relative_report_link(server.settings, server.calls[0])
    response = tab.page.goto(server.url + link.replace("sig=", "sig=ff"))
    assert response is not None and response.status == 403
    assert "not valid or has expired" in tab.page.locator("main").inner_text()
    assert "Jane" not in tab.page.content()
    screenshot(tab.page, "report-forbidden")


def test_the_api_docs_page_works_offline(server: Server, tab: Watched) -> None:
    """Swagger UI at /api/docs, from the installed package: same-origin files only, CSP-clean."""
    page = tab.page
    response = page.goto(f"{server.url}/api/docs")
    assert response is not None and response.status == 200
    csp = response.headers["content-security-policy"]
    scripts = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
    assert scripts.strip() == "script-src 'self'"  # no inline script, no eval
    operations = page.locator(".opblock-summary-path")
    operations.first.wait_for(timeout=15_000)
    paths = {operations.nth(i).get_attribute("data-path") for i in range(operations.count())}
    assert {"/api/call", "/api/call/{call_id}"} <= paths, paths
    assert "Call Center AI" in page.locator(".info .title").inner_text()
    page.locator(".opblock-summary-path[data-path='/api/call']").first.click()
    page.locator(".opblock-body").first.wait_for()
    screenshot(page, "api-docs")
    assert tab.problems == []  # no CSP violation, no failed load, no script error
    assert all(url.startswith(server.url) for url in tab.requests), tab.requests  # no CDN
