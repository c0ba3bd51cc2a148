"""The browser softphone end to end: Debian's headless Chromium (via Playwright) opens the simulator's
`/softphone`, its fake microphone plays a piper-voiced WAV, the bot (real local speech) answers in audio,
and the page shows the live transcript and the claim.

Needs `/usr/bin/chromium` and the `playwright` package; `SKIP_BROWSER_TESTS=1` skips it when Chromium
is missing. The screenshot lands in `test-artifacts/screenshots/` (git-ignored).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import CHROMIUM, CHROMIUM_ARGS, FAKE_MICROPHONE_ARGS, SCREENSHOTS, require_browser

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from local.dev import LocalStack
from shared.speech.audio import write_wav
from shared.speech.models import piper_voice_path
from shared.speech.piper_tts import PiperTts
from tests.stack import local_stack

RATE = 16000
WAIT_MS = 60_000


def _silence(seconds: float) -> bytes:
    return bytes(2 * int(RATE * seconds))


async def _caller_pcm() -> bytes:
    tts = PiperTts({"en": piper_voice_path()}, steady=True)

    async def voice(text: str) -> bytes:
        return b"".join([chunk async for chunk in tts.synthesize(text, lang="en-US")])

    return b"".join(
        [
            _silence(1),
            await voice("Hello, my car was damaged this morning."),
            _silence(3),
            await voice("My name is John Smith."),
            _silence(6),
        ]
    )


@pytest.fixture(scope="module")
def caller_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("softphone-voice") / "caller.wav"
    write_wav(path, asyncio.run(_caller_pcm()), RATE)
    return path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    data = tmp_path_factory.mktemp("softphone")
    with local_stack(data, speed=1.0, real_speech=True) as running:
        yield running


def test_a_browser_calls_the_bot_and_sees_the_transcript_and_the_claim(
    stack: LocalStack, caller_wav: Path, tmp_path: Path
) -> None:
    require_browser()
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                *[*CHROMIUM_ARGS, *FAKE_MICROPHONE_ARGS],
                f"--use-file-for-fake-audio-capture={caller_wav}",
            ],
            viewport={"width": 1000, "height": 900},
        )
        try:
            page = context.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.goto(stack.softphone_url)
            page.get_by_role("button", name="Call").click()

            expect(page.locator("#transcript li.caller").first).to_be_visible(timeout=WAIT_MS)
            expect(page.locator("#transcript li.bot").first).to_be_visible(timeout=WAIT_MS)
            expect(page.locator('#claim tr[data-field="caller_name"] td')).to_have_text(
                "John Smith", timeout=WAIT_MS
            )
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "softphone-call.png"), full_page=True)

            stats = page.evaluate("window.softphoneStats")
            assert stats["framesSent"] > 100, stats  # the microphone, in 20 ms frames
            assert stats["bytesReceived"] > RATE * 2, stats  # over a second of the bot's voice, played
            page.get_by_role("button", name="Hang up").click()
            expect(page.locator("#status")).to_have_text("Hung up")
            assert not problems, problems
        finally:
            context.close()

    simulator = stack.simulator
    assert simulator is not None
    softphone_calls = [c for c in simulator.calls.values() if c.caller.startswith("+1555")]
    assert softphone_calls, "the softphone never rang the bot"
    simulator.wait_until(lambda: all(c.ended for c in softphone_calls), 10, "the softphone call to end")


CALLER = "+33611112222"


async def _hesitant_caller_pcm() -> bytes:
    tts = PiperTts({"en": piper_voice_path()}, steady=True)

    async def voice(text: str) -> bytes:
        return b"".join([chunk async for chunk in tts.synthesize(text, lang="en-US")])

    return b"".join(
        [
            _silence(1),
            await voice("Hello, my car was damaged this morning."),
            _silence(3),
            await voice("My name is"),
            _silence(1),  # unfinished words: the turn waits, the words so far show as they are
            await voice("John Smith."),
            _silence(8),
        ]
    )


@pytest.fixture(scope="module")
def hesitant_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("softphone-hesitant") / "caller.wav"
    write_wav(path, asyncio.run(_hesitant_caller_pcm()), RATE)
    return path


def test_the_softphone_shows_who_speaks_the_level_the_missing_fields_and_the_texts_apart(
    stack: LocalStack, hesitant_wav: Path, tmp_path: Path
) -> None:
    require_browser()
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=[*CHROMIUM_ARGS, *FAKE_MICROPHONE_ARGS, f"--use-file-for-fake-audio-capture={hesitant_wav}"],
            viewport={"width": 1100, "height": 900},
        )
        try:
            page = context.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            response = page.goto(stack.softphone_url)
            assert response is not None
            assert "script-src 'self'" in response.headers["content-security-policy"]
            page.get_by_label("Your number").fill(CALLER)
            page.get_by_label("Language").select_option(label="English")
            page.get_by_role("button", name="Call").click()

            # the claim shows every field, in words, the missing ones said so
            email = page.locator('#claim tr[data-field="caller_email"]')
            expect(email.locator("th")).to_have_text("Caller email", timeout=WAIT_MS)
            expect(email.locator("td.missing")).to_have_text("missing")
            expect(page.locator("#state")).to_have_attribute("data-state", "bot-speaking", timeout=WAIT_MS)
            expect(page.locator('#claim tr[data-field="caller_name"] td')).to_have_text(
                "John Smith", timeout=WAIT_MS
            )
            stats = page.evaluate("window.softphoneStats")
            assert stats["peakLevel"] > 0.3, stats  # the meter followed the microphone
            assert stats["botSpeakingSeen"], stats
            assert stats["interimSeen"] > 0, stats  # "My name is" showed before the turn ended
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "softphone-claim.png"), full_page=True)

            page.get_by_role("button", name="Hang up").click()
            expect(page.locator("#status")).to_have_text("Hung up")
            # the post-call text arrives after the call: apart from the transcript, its link clickable
            text = page.locator('#sms li[data-persona="assistant"]').first
            expect(text).to_be_visible(timeout=WAIT_MS)
            assert text.locator("a").first.get_attribute("href", timeout=1000).startswith("http")  # type: ignore[union-attr]
            assert "/api/report/" not in page.locator("#transcript").inner_text()
            expect(page.locator("#report")).to_be_visible()
            page.screenshot(path=str(SCREENSHOTS / "softphone-after-call.png"), full_page=True)
            assert not problems, problems
        finally:
            context.close()

    simulator = stack.simulator
    assert simulator is not None
    assert any(c.caller == CALLER for c in simulator.calls.values()), "the chosen number did not ring"
