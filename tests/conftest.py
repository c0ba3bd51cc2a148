"""Test-wide setup: no hub downloads, no stray settings from the developer's machine."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from shared.composition import Services, build_services

if TYPE_CHECKING:
    from local.dev import LocalStack

os.environ.setdefault("HF_HUB_OFFLINE", "1")

pytest_plugins = ("tests.scripted_model",)  # llm_server, llm_model: the scripted OpenAI-compatible server

_SETTING_PREFIXES = (
    "MODE",
    "API__",
    "STORE__",
    "CACHE__",
    "FLAGS__",
    "LLM__",
    "CONVERSATION__",
    "SMS__",
    "REPORT__",
    "BLOBS__",
    "TRANSLATOR__",
    "APPLICATIONINSIGHTS_",  # no test exports telemetry to a developer's Application Insights or collector
    "OTEL_",
    "LOG_",
)


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Each test starts from the defaults: no settings variables, no local.settings.json, no config.yaml."""
    for name in list(os.environ):
        if name.startswith(_SETTING_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LOCAL_SETTINGS_PATH", str(tmp_path / "absent-local.settings.json"))
    monkeypatch.chdir(tmp_path)
    yield


@pytest.fixture
async def services(stack: LocalStack) -> AsyncIterator[Services]:
    """Services on this test's event loop, on the same store and simulator as a module's running `stack`
    (the modules that drive the local stack define the `stack` fixture)."""
    assert stack.settings is not None
    built = build_services(stack.settings)
    yield built
    await built.aclose()


@pytest.fixture
async def api(stack: LocalStack) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the running `stack`'s function app, with its API key."""
    headers = {"x-functions-key": stack.api_key}
    async with httpx.AsyncClient(base_url=stack.api_url, headers=headers) as client:
        yield client
