"""The report as an admin uses it, in Debian's headless Chromium: words search, sorting, the count, the CSV
download, the call page's way back, duration, stacked latency chart and recording player (the recording
is a blob in the local folder, served by the app). Screenshots land in `test-artifacts/screenshots/`.
"""

from __future__ import annotations

import asyncio
import csv
import io
import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from blueprints.api import create_api
from local.threaded_server import ThreadedServer
from shared.blobs.files import FileBlobStore
from shared.models import Call, Message, Persona, TurnLatency
from shared.report.access import REPORT_PATH
from shared.settings import Settings
from shared.store.sqlite import SqliteCallStore
from tests.browser import SCREENSHOTS, chromium_context
from tests.report.support import KEY, MAIN_PHONE, NOW, full_call, isolated_report_settings, sparse_calls

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

RATE = 16000
RECORDING_SECONDS = 1.5


def _wav(seconds: float) -> bytes:
    samples = int(RATE * seconds)
    pcm = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / RATE))) for i in range(samples)
    )
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(pcm), b"WAVE", b"fmt ", 16, 1, 1, RATE, RATE * 2, 2, 16,
        b"data", len(pcm),
    )  # fmt: skip
    return header + pcm


@dataclass
class Server:
    url: str
    settings: Settings
    calls: list[Call]


async def _seed(settings: Settings) -> list[Call]:
    recorded = full_call()
    recorded.turns = [
        TurnLatency(
            end_of_turn_ms=300, stt_final_ms=420, first_sentence_ms=610, tts_first_audio_ms=700,
            first_frame_out_ms=720,
        ),
        TurnLatency(end_of_turn_ms=300, stt_final_ms=280, first_sentence_ms=500, first_frame_out_ms=560),
    ]  # fmt: skip
    blobs = FileBlobStore(settings.blobs.files_dir, settings.blobs.container)
    recorded.recording_url = await blobs.put(
        f"{recorded.call_id}/recording-abc-0.wav", _wav(RECORDING_SECONDS), content_type="audio/wav"
    )
    long_one = Call(created_at=NOW - timedelta(days=5), caller_phone="+33611223344")
    long_one.messages = [
        Message(created_at=long_one.created_at, persona=Persona.HUMAN, content="My roof is leaking."),
        Message(
            created_at=long_one.created_at + timedelta(minutes=7), persona=Persona.ASSISTANT, content="Bye."
        ),
    ]
    store = SqliteCallStore(settings.store.sqlite.path)
    try:
        return [await store.create(call) for call in [recorded, long_one, *sparse_calls()]]
    finally:
        await store.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("report-admin")
    settings = isolated_report_settings(data, blobs={"files_dir": data / "blobs"})
    calls = asyncio.run(_seed(settings))
    server = ThreadedServer(create_api(settings), name="report app", lifespan="on")
    server.start(timeout=20)
    try:
        yield Server(f"http://127.0.0.1:{server.port}", settings, calls)
    finally:
        server.stop(timeout=10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    with chromium_context(tmp_path_factory.mktemp("chromium-profile"), accept_downloads=True) as context:
        yield context


@pytest.fixture
def page(browser: BrowserContext) -> Iterator[Page]:
    tab = browser.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(str(error)))
    tab.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    try:
        yield tab
        # no CSP violation, no failed load (but the 401 page a test opens on purpose)
        assert [p for p in problems if "status of 401" not in p] == [], problems
    finally:
        tab.close()


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _row_ids(page: Page) -> list[str | None]:
    rows = page.locator("tr.call-row")
    return [rows.nth(i).get_attribute("data-call-id") for i in range(rows.count())]


def test_the_list_searches_words_sorts_counts_and_exports(server: Server, page: Page) -> None:
    recorded, long_one, closed, first = (str(call.call_id) for call in server.calls)
    page.goto(f"{server.url}{REPORT_PATH}?key={KEY}")
    assert page.locator(".count").inner_text() == "4 calls"
    assert _row_ids(page) == [recorded, closed, long_one, first]  # newest first
    page.get_by_label("Search").fill("leak")  # in a claim, a synthesis and what a caller said
    with page.expect_navigation():  # the next page, not the one still shown
        page.get_by_role("button", name="Search").click()
    assert page.locator(".count").inner_text() == "2 calls"
    assert set(_row_ids(page)) == {recorded, long_one}
    page.get_by_label("Search").fill("JANE kitchen")  # every word, any case
    with page.expect_navigation():  # the next page, not the one still shown
        page.get_by_role("button", name="Search").click()
    assert _row_ids(page) == [recorded]
    page.get_by_label("Search").fill("")
    page.get_by_label("Sort").select_option("longest")
    with page.expect_navigation():  # the next page, not the one still shown
        page.get_by_role("button", name="Search").click()
    assert _row_ids(page)[:2] == [long_one, recorded]  # 7 min, then 1 min
    assert page.locator("tr.call-row").first.locator("td[data-label=Duration]").inner_text() == "7 min 00 s"
    page.get_by_label("Sort").select_option("oldest")
    with page.expect_navigation():  # the next page, not the one still shown
        page.get_by_role("button", name="Search").click()
    assert _row_ids(page) == [first, long_one, closed, recorded]
    screenshot(page, "report-list-search")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("calls-") and download.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert [row["call_id"] for row in rows] == [first, long_one, closed, recorded]  # the list's order
    exported = rows[-1]
    assert exported["caller_phone"] == MAIN_PHONE and exported["duration_s"] == "60"
    assert exported["next_action"] == "Requires expertise" and exported["satisfaction"] == "high"
    assert '"caller_name": "Jane Doe"' in exported["claim"]


def test_the_call_page_plays_its_recording_and_leads_back(server: Server, page: Page) -> None:
    recorded = server.calls[0]
    page.goto(f"{server.url}{REPORT_PATH}?key={KEY}")
    page.locator(f"tr[data-call-id='{recorded.call_id}'] a.call-link").click()
    page.wait_for_url(lambda url: f"/{recorded.call_id}?" in url)  # the call page, not the list still
    assert "sig=" in page.url and "key=" not in page.url
    assert page.locator(".duration").inner_text() == "1 min 00 s"
    claim = page.locator("section.claim")
    assert "Caller name" in claim.locator("[data-field=caller_name] dt").inner_text()
    assert (
        claim.locator("[data-field=incident_datetime] dd").inner_text()
        == "Thu 13 Mar 2025, 22:30 (UTC+01:00)"
    )

    chart = page.locator("svg.latency-chart")
    first_turn = chart.locator("g.turn").first
    stages = first_turn.locator("rect.segment")
    assert [stages.nth(i).get_attribute("data-stage") for i in range(stages.count())] == [
        "wait",
        "stt",
        "agent",
        "tts",
    ]
    assert first_turn.get_attribute("data-total-ms") == "720"
    second = chart.locator("g.turn").nth(1).locator("rect.segment")  # STT ready before the turn ended
    assert [second.nth(i).get_attribute("data-stage") for i in range(second.count())] == [
        "wait",
        "agent",
        "tts",
    ]

    player = page.locator("section.recording audio")
    source = player.get_attribute("src")
    assert source is not None and source.startswith(f"{REPORT_PATH}/{recorded.call_id}/recording?")
    with page.expect_response(lambda r: "/recording?" in r.url) as answer:
        duration = player.evaluate(
            """audio => new Promise((resolve, reject) => {
                audio.addEventListener("loadedmetadata", () => resolve(audio.duration), {once: true});
                audio.addEventListener("error", () => reject(new Error("cannot load")), {once: true});
                audio.preload = "auto";
                audio.load();
            })"""
        )
    # The media element asks for a range; the app answers the whole file (200), and when the page
    # load already fetched it Chromium answers the range from its cache (206): both play.
    assert answer.value.status in (200, 206) and answer.value.headers["content-type"] == "audio/wav"
    direct = page.request.get(f"{server.url}{source}")
    assert direct.status == 200 and direct.headers["content-type"] == "audio/wav"
    assert direct.body()[:4] == b"RIFF"
    assert duration == pytest.approx(RECORDING_SECONDS, abs=0.05)
    screenshot(page, "report-call-recording")

    with page.expect_navigation():  # the next page, not the one still shown
        page.get_by_role("link", name="← All calls").click()
    assert page.locator("h1").inner_text() == "401 · Unauthorized"  # a signed link does not open the list
    page.get_by_label("API key").fill(KEY)
    with page.expect_navigation():  # the next page, not the one still shown
        page.get_by_role("button", name="Open the call list").click()
    assert page.locator("tr.call-row").count() == 4


def test_the_recording_needs_the_page_access(server: Server, page: Page) -> None:
    recorded = server.calls[0]
    answer = page.request.get(f"{server.url}{REPORT_PATH}/{recorded.call_id}/recording?expires=1&sig=00")
    assert answer.status == 403
    answer = page.request.get(f"{server.url}{REPORT_PATH}/{recorded.call_id}/recording?key={KEY}")
    assert answer.status == 200 and len(answer.body()) > RATE
    other = server.calls[2]  # no recording
    assert page.request.get(f"{server.url}{REPORT_PATH}/{other.call_id}/recording?key={KEY}").status == 404


def test_the_recording_answers_byte_ranges(server: Server, page: Page) -> None:
    """Seeking in a long recording, and Safari's player, need ranges from the app itself."""
    url = f"{server.url}{REPORT_PATH}/{server.calls[0].call_id}/recording?key={KEY}"
    whole = page.request.get(url)
    assert whole.status == 200 and whole.headers["accept-ranges"] == "bytes"
    size = len(whole.body())
    part = page.request.get(url, headers={"Range": "bytes=100-199"})
    assert part.status == 206 and part.body() == whole.body()[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{size}"
    assert part.headers["content-type"] == "audio/wav"
    tail = page.request.get(url, headers={"Range": "bytes=-44"})
    assert tail.status == 206 and tail.body() == whole.body()[-44:]
    past = page.request.get(url, headers={"Range": f"bytes={size}-"})
    assert past.status == 416 and past.headers["content-range"] == f"bytes */{size}"
