"""The fleet view as an operator opens it, in Debian's headless Chromium: from the call list's link, the
two charts (calls per day by outcome, voice-to-voice p50/p95 per day and agent), the tables, the slowest
call's link to its page, a narrow screen. Screenshots land in `test-artifacts/screenshots/`."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from blueprints.api import create_api
from local.threaded_server import ThreadedServer
from shared.calls.outcome import Outcome, call_outcome
from shared.models import Call
from shared.report.access import REPORT_PATH
from shared.settings import Settings
from shared.store.sqlite import SqliteCallStore
from tests.browser import SCREENSHOTS, chromium_context
from tests.report.fleet_calls import fleet_calls
from tests.report.support import KEY, isolated_report_settings

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page


@dataclass
class Server:
    url: str
    calls: list[Call]


async def _seed(settings: Settings, calls: list[Call]) -> list[Call]:
    store = SqliteCallStore(settings.store.sqlite.path)
    try:
        return [await store.create(call) for call in calls]
    finally:
        await store.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("report-fleet")
    settings = isolated_report_settings(data)
    calls = asyncio.run(_seed(settings, fleet_calls(datetime.now(UTC), days=10)))
    app = ThreadedServer(create_api(settings), name="report app", lifespan="on")
    app.start(timeout=20)
    try:
        yield Server(f"http://127.0.0.1:{app.port}", calls)
    finally:
        app.stop(timeout=10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    with chromium_context(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


@pytest.fixture
def page(browser: BrowserContext) -> Iterator[Page]:
    tab = browser.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(str(error)))
    tab.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    try:
        yield tab
        assert problems == [], problems  # no CSP violation, no failed load
    finally:
        tab.close()


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_the_fleet_view_charts_the_calls_and_links_the_slowest(server: Server, page: Page) -> None:
    page.goto(f"{server.url}{REPORT_PATH}?key={KEY}")
    with page.expect_navigation():  # the next page, not the one still shown
        page.get_by_role("link", name="Fleet view").click()
    assert page.locator("h1").inner_text() == "Fleet"
    assert f"{len(server.calls)} calls" in page.locator("#summary-title").inner_text()
    outcomes = [call_outcome(call) for call in server.calls]
    for outcome in Outcome:
        shown = page.locator(f"li[data-outcome={outcome.value}] .count").inner_text()
        assert shown == str(outcomes.count(outcome))

    bars = page.locator("svg#calls-per-day g.day")
    assert bars.count() == 14
    counts = [int(bars.nth(i).get_attribute("data-calls") or "-1") for i in range(14)]
    assert counts[:4] == [0, 0, 0, 0] and counts[-1] == 3 and sum(counts) == len(server.calls)
    box = page.locator("svg#calls-per-day").bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 100  # drawn, not collapsed
    latency = page.locator("svg#latency-per-day")
    for agent in ("llm", "form"):
        measured = {c.created_at.astimezone(UTC).date() for c in server.calls if c.agent == agent and c.turns}
        for stat in ("p50", "p95"):
            points = latency.locator(f"g.series[data-agent={agent}][data-stat={stat}] circle")
            assert points.count() == len(measured), (agent, stat)  # one per day with turns of that agent
    llm_p95 = latency.locator("g.series[data-agent=llm][data-stat=p95] circle").last
    assert float(llm_p95.get_attribute("data-ms") or 0) == 3100.0  # today's slow call
    assert page.locator("tr[data-agent=llm] td").nth(0).inner_text() == str(
        sum(len(c.turns) for c in server.calls if c.agent == "llm")
    )
    screenshot(page, "report-fleet")
    page.locator("svg#calls-per-day").screenshot(path=str(SCREENSHOTS / "report-fleet-calls-chart.png"))
    latency.screenshot(path=str(SCREENSHOTS / "report-fleet-latency-chart.png"))

    slowest = page.locator("tr.slow-call").first
    slow_id = slowest.get_attribute("data-call-id")
    assert "3,100 ms" in slowest.inner_text()
    with page.expect_navigation():  # the next page, not the one still shown
        slowest.locator("a.call-link").click()
    assert f"/report/{slow_id}?" in page.url and "sig=" in page.url
    assert page.locator("svg.latency-chart g.turn").count() == 2


def test_the_fleet_view_on_a_phone_and_its_period_choice(server: Server, page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{server.url}{REPORT_PATH}/fleet?key={KEY}")
    page.get_by_label("Days").select_option("7")
    with page.expect_navigation():  # the next page, not the one still shown
        page.get_by_role("button", name="Show").click()
    assert "days=7" in page.url
    assert page.locator("svg#calls-per-day g.day").count() == 7
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width  # the charts scroll in their cards, the page does not
    screenshot(page, "report-fleet-phone")
