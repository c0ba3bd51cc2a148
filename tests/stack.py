"""Helpers for tests that drive the local stack (simulator + function app + media host) over loopback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from local.dev import LocalStack, free_port
from local.speech_stubs import EnergyVad, ScriptedStt, ToneTts
from shared.composition import Services
from shared.mappings import deep_merge
from shared.speech.base import SpeechEngines


async def eventually(check: Callable[[], Any], what: str, within: float = 20.0) -> Any:
    """Poll `check` (sync or async) until it returns something truthy; fail naming `what` otherwise."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def local_stack(
    data: Path,
    *,
    flags: str | None = None,
    speed: float = 0,
    real_speech: bool = False,
    overrides: Mapping[str, Any] | None = None,
) -> LocalStack:
    """A LocalStack (not started) on free loopback ports: `flags` is the text of its flags YAML,
    instant stub speech engines unless `real_speech`, `speed` 0 streams as fast as possible."""
    wiring: dict[str, Any] = {}
    if flags is not None:
        (data / "flags.yaml").write_text(flags)
        wiring["flags"] = {"yaml_path": data / "flags.yaml"}
    return LocalStack(
        api_port=free_port(),
        media_port=free_port(),
        data_dir=data,
        speed=speed,
        overrides=deep_merge(wiring, overrides or {}),
        speech=None if real_speech else _stub_engines,
    )


def _stub_engines(_services: Services) -> SpeechEngines:
    return SpeechEngines(vad=EnergyVad(), stt=ScriptedStt(), tts=ToneTts())
