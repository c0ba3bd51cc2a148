"""Shared helpers of the call benchmarks: the machine, percentiles, caller voices, the local stack's
phone side (ring, wait for the bot to be quiet, timeline look-ups) and the stored call.

Everything here is synchronous: the stack runs in background threads and a benchmark drives it from
its own thread(s), as a caller would.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import platform
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from local.acs_simulator import AcsSimulator, TimelineEvent, TimelineKind
from local.dev import LocalStack, free_port
from local.llm_script import ScriptedLlm
from local.llm_server import ScriptedLlmServer
from shared.composition import build_services
from shared.mappings import deep_merge
from shared.models import Call
from shared.speech.audio import frames, rms_dbfs
from shared.speech.base import SAMPLE_RATE, SAMPLE_WIDTH

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the local models are installed packages: never download

SPEECH_DBFS = -45.0
"""A 20 ms frame louder than this is speech (for the leading/trailing silence of a synthesised clip)."""
FRAME_MS = 20
FRAME_BYTES = SAMPLE_RATE * SAMPLE_WIDTH * FRAME_MS // 1000
BOT_NUMBER_FALLBACK = "+33100000000"


# The machine and statistics.


def machine() -> dict[str, Any]:
    """What the numbers were measured on (CPU model, cores, memory, Python)."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gib: float | None = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    return {
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": memory_gib,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU time of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU time spent by every process of the machine (non-idle jiffies of /proc/stat)."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(values) - values[3] - values[4]) / CLOCK_TICKS


class Contention:
    """How busy the rest of the machine was during a measurement: the CPU time other processes
    used, in cores (0 = a quiet machine, 2 = both cores taken by someone else)."""

    def __init__(self, pids: Iterable[int] = ()) -> None:
        self.pids = list(pids)
        self._start = self._read()

    def _read(self) -> tuple[float, float, float]:
        own = process_cpu_seconds()
        for pid in self.pids:
            with contextlib.suppress(OSError):
                own += process_cpu_seconds(pid)
        return time.monotonic(), machine_busy_seconds(), own

    def others_cores(self) -> float:
        at, busy, own = self._read()
        start_at, start_busy, start_own = self._start
        return round(max(0.0, (busy - start_busy) - (own - start_own)) / max(1e-9, at - start_at), 2)


def percentile(values: Iterable[float], fraction: float) -> float:
    """Nearest-rank percentile (the same rule as `bench.incoming_call`)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> dict[str, float | int]:
    """Count, p50, p95 and max, rounded to 0.1 ms."""
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": round(percentile(values, 0.5), 1),
        "p95": round(percentile(values, 0.95), 1),
        "max": round(max(values), 1),
    }


def cell(value: float | None, width: int = 8) -> str:
    return f"{'-' if value is None else f'{value:.0f}':>{width}}"


# Caller voices.


def speech_levels(pcm: bytes) -> list[float]:
    return [rms_dbfs(frame) for frame in frames(pcm, FRAME_BYTES)]


def leading_silence_ms(pcm: bytes) -> float:
    """Time before the first 20 ms frame louder than SPEECH_DBFS (the clip's speech onset)."""
    levels = speech_levels(pcm)
    first = next((index for index, level in enumerate(levels) if level > SPEECH_DBFS), len(levels))
    return float(first * FRAME_MS)


def trailing_silence_ms(pcm: bytes) -> float:
    """Time after the last 20 ms frame louder than SPEECH_DBFS (the clip's speech offset)."""
    levels = speech_levels(pcm)
    last = next((index for index, level in enumerate(reversed(levels)) if level > SPEECH_DBFS), len(levels))
    return float(last * FRAME_MS)


def trim_trailing_silence(pcm: bytes) -> bytes:
    """The clip up to the end of its last speech frame (the phone sends digital silence after it)."""
    keep = len(pcm) - int(trailing_silence_ms(pcm)) * FRAME_BYTES // FRAME_MS
    return pcm[: max(0, keep)]


def synthesize(texts: Iterable[str]) -> list[bytes]:
    """Caller utterances in the piper voice the e2e tests use (16 kHz PCM16), once each."""
    from shared.speech.models import piper_voice_path  # noqa: PLC0415 (heavy: only the real-engine benches)
    from shared.speech.piper_tts import PiperTts  # noqa: PLC0415

    tts = PiperTts({"en": piper_voice_path()}, steady=True)

    async def run() -> list[bytes]:
        clips = []
        for text in texts:
            clips.append(b"".join([chunk async for chunk in tts.synthesize(text, lang="en-US")]))
        return clips

    return asyncio.run(run())


def duration_ms(pcm: bytes) -> float:
    return 1000 * len(pcm) / (SAMPLE_RATE * SAMPLE_WIDTH)


# Stack configuration.


def flags_overrides(data_dir: Path, **flags: object) -> dict[str, Any]:
    """Settings overrides pointing the feature flags at a YAML file holding `flags`."""
    path = data_dir / "flags.yaml"
    path.write_text("".join(f"{name}: {value}\n" for name, value in flags.items()))
    return {"flags": {"yaml_path": path}}


def scripted_llm(
    default_text: str, *, ttft_ms: float = 0.0, inter_token_ms: float = 0.0
) -> ScriptedLlmServer:
    """An OpenAI-compatible server answering `default_text` to every turn (not started), at once unless
    given a time to first token and a delay between tokens."""
    script = ScriptedLlm(default_text=default_text)
    return ScriptedLlmServer(script, ttft_ms=ttft_ms, inter_token_ms=inter_token_ms)


def llm_overrides(server: ScriptedLlmServer) -> dict[str, Any]:
    return {"llm": {"fast": {"base_url": server.base_url, "model": "fast"}}}


def merge(*parts: Mapping[str, Any]) -> dict[str, Any]:
    return functools.reduce(deep_merge, parts, {})


@contextlib.contextmanager
def scripted_llm_stack(
    answer: str, *, llm_ttft_ms: float = 0.0, llm_inter_token_ms: float = 0.0, **flags: object
) -> Iterator[LocalStack]:
    """The local stack at real time with the real local engines and a scripted LLM that answers
    `answer` to every turn (at once unless given a time to first token and a delay between tokens);
    `flags` are feature flags (the silence prompts are off)."""
    with (
        tempfile.TemporaryDirectory() as data,
        scripted_llm(answer, ttft_ms=llm_ttft_ms, inter_token_ms=llm_inter_token_ms) as llm,
        LocalStack(
            api_port=free_port(),
            media_port=free_port(),
            data_dir=Path(data),
            speed=1.0,
            overrides=merge(
                llm_overrides(llm), flags_overrides(Path(data), **{"phone_silence_timeout_sec": 0, **flags})
            ),
        ) as stack,
    ):
        yield stack


# The phone side.


def simulator_of(stack: LocalStack) -> AcsSimulator:
    assert stack.simulator is not None, "the stack is not started"
    return stack.simulator


def ring(stack: LocalStack, caller: str, timeout: float = 30.0) -> str:
    """Dial the bot, wait for the media stream; returns the call connection id."""
    simulator = simulator_of(stack)
    bot = stack.settings.acs.phone_number if stack.settings is not None else None
    connection = simulator.call_id_for(simulator.ring(caller, bot or BOT_NUMBER_FALLBACK))
    simulator.wait_for_timeline(connection, TimelineKind.MEDIA_CONNECTED, timeout=timeout)
    return connection


def heard_bytes(simulator: AcsSimulator, connection: str) -> int:
    """Bot audio the phone has played so far (no copy of the audio)."""
    return len(simulator.call(connection).audio.heard)


def wait_bot_quiet(
    simulator: AcsSimulator, connection: str, quiet_sec: float = 0.8, within: float = 60.0
) -> None:
    """Wait until the phone has played bot audio and then nothing new for `quiet_sec`."""
    deadline = time.monotonic() + within
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        size = heard_bytes(simulator, connection)
        if size != last:
            last, since = size, time.monotonic()
        elif size and time.monotonic() - since >= quiet_sec:
            return
        time.sleep(0.05)
    raise TimeoutError(f"the bot never went quiet on call {connection}")


def events(simulator: AcsSimulator, connection: str, kind: TimelineKind) -> list[TimelineEvent]:
    return [event for event in simulator.timeline(connection) if event.kind is kind]


def wait_event(
    simulator: AcsSimulator,
    connection: str,
    kind: TimelineKind,
    *,
    after: float = 0.0,
    timeout: float = 30.0,
) -> TimelineEvent | None:
    """The first timeline event of `kind` later than `after` (monotonic), or None at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        found = [event for event in events(simulator, connection, kind) if event.at > after]
        if found:
            return found[0]
        if time.monotonic() > deadline:
            return None
        time.sleep(0.005)


def stored_call(stack: LocalStack, caller: str) -> Call | None:
    """The caller's latest call document, read from the stack's store."""
    assert stack.settings is not None
    settings = stack.settings

    async def load() -> Call | None:
        services = build_services(settings)
        try:
            page = await services.store.list_by_phone(caller, limit=1)
            return page.items[0] if page.items else None
        finally:
            await services.aclose()

    return asyncio.run(load())


def wait_stored_turns(stack: LocalStack, caller: str, count: int, within: float = 15.0) -> Call | None:
    """The call once it stores `count` turn latencies (or as it is at the deadline)."""
    deadline = time.monotonic() + within
    while True:
        call = stored_call(stack, caller)
        if (call is not None and len(call.turns) >= count) or time.monotonic() > deadline:
            return call
        time.sleep(0.3)
