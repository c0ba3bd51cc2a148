"""Headless Debian Chromium for the Playwright tests (Playwright never downloads a browser here)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
