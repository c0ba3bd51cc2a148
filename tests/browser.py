"""Headless Debian Chromium for the Playwright tests (Playwright never downloads a browser here)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FAKE_MICROPHONE_ARGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"


def require_browser() -> None:
    """Fail with the fix when Chromium or Playwright is missing; skip only with SKIP_BROWSER_TESTS=1 and no
    Chromium on the machine."""
    problem = None
    if not CHROMIUM.exists():
        problem = f"{CHROMIUM} is missing"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright package is missing"
    if problem is None:
        return
    if not CHROMIUM.exists() and os.environ.get("SKIP_BROWSER_TESTS") == "1":
        pytest.skip(f"browser tests skipped (SKIP_BROWSER_TESTS=1): {problem}")
    pytest.fail(f"{problem}: run `make install` (Debian chromium + playwright), or set SKIP_BROWSER_TESTS=1")


@contextmanager
def chromium_context(profile: Path, **options: Any) -> Iterator[BrowserContext]:
    """Headless Chromium (Debian's) with a fresh user-data dir `profile`; `options` go to the context."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
            **options,
        )
        try:
            yield context
        finally:
            context.close()
