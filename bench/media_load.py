"""Benchmark: media-loop overhead, N concurrent calls with instant stub speech engines.

The local stack (ACS simulator + function app + media host, loopback) at real time with `EnergyVad`,
a stub STT that always hears "Could you repeat that please?" and `ToneTts` (instant tone audio), so
what costs is the media loop itself: websocket frames in, VAD windows, turn detection, the
conversation (form agent, SQLite store) and paced 20 ms frames out. N calls are rung; each caller
then says an 800 ms tone every `--period` seconds (phases spread at random), and the bot answers
each with a tone ("May I have your full name, please?", 1.4 s). Over a steady `--window`:

- late frames, at the phone: each bot frame's arrival is recorded on the simulator's phone and
  compared with the pacing schedule of its answer (first frame + k x 20 ms, minus the media host's
  100 ms lead); late = more than 40 ms behind (also counted: more than 100 ms, the lead, which the
  phone's buffer cannot hide). In-process runs also sum the media host's own `Playback.late_frames`;
- CPU: process CPU time over the window / window, total and per call, split per thread (simulator,
  media host, function app, others) from /proc;
- memory: resident set size, and its growth per call.

By default everything runs in this one process, as `LocalStack` does: the simulator's CPU is then
included, and all threads share one GIL. `--media-process` serves the media host from a child
process (`python -m media_host`: its own GIL, as in production where ACS is elsewhere), built from the
same settings; `--media-workers N` makes that N worker processes behind the one port (`media.workers`),
and the CPU reported is that of all of them.

Target: 100 calls on 2 cores with no outbound frame more than 40 ms late.

    .venv/bin/python -m bench.media_load [--calls 100] [--window 20] [--period 4] [--media-process]
    .venv/bin/python -m bench.media_load --calls 100 --media-workers 2   # two media-host processes
    .venv/bin/python -m bench.media_load --calls 25,50,100      # one fresh stack per level
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import cProfile
import json
import os
import pstats
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from bench.common import Contention, flags_overrides, machine, percentile, simulator_of
from local.acs_simulator import AcsSimulator, TimelineKind
from local.acs_simulator.state import CallAudio
from local.dev import LocalStack, end_process, free_port
from local.speech_stubs import EnergyVad, ScriptedStt, ToneTts, tone
from media_host.app import MediaHost
from media_host.playback import DEFAULT_LEAD_SEC, FRAME_MS
from shared.composition import Services
from shared.speech.base import SpeechEngines, Transcript

LATE_MS = 40.0
CALLER_TEXT = "Could you repeat that please?"  # the form agent says its last question again
UTTERANCE_MS = 800
BURST_GAP_S = 1.0
"""Bot frames arriving more than this apart belong to different answers (turns are seconds apart)."""
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
THREAD_GROUPS = ("acs-simulator", "media-host", "function-app", "MainThread")


class RepeatingStt(ScriptedStt):
    """The scripted stub STT, hearing `text` once its script is exhausted (shared by every call)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    async def transcribe(self, pcm: bytes, *, lang: str) -> Transcript:
        result = await super().transcribe(pcm, lang=lang)
        return result if result.text else Transcript(text=self.text, lang=lang)


def stub_engines(_services: Services) -> SpeechEngines:
    return SpeechEngines(vad=EnergyVad(), stt=RepeatingStt(CALLER_TEXT), tts=ToneTts())


# Phone-side frame timing.


class TimedAudio(CallAudio):
    """The phone's audio record, also noting when each bot frame arrives: the phone adds each
    AudioData's PCM size to `received_bytes` as it receives it (one 20 ms frame per message)."""

    @property
    def received_bytes(self) -> int:
        return int(self.__dict__.get("received_bytes", 0))

    @received_bytes.setter
    def received_bytes(self, value: int) -> None:
        self.__dict__["received_bytes"] = value
        self.arrivals.append(time.monotonic())

    @property
    def arrivals(self) -> list[float]:
        found: list[float] = self.__dict__.setdefault("arrivals", [])
        return found


def time_arrivals(simulator: AcsSimulator, connection: str) -> TimedAudio:
    """Switch the call's audio record to `TimedAudio` (same object and fields, one more property);
    done right after the ring, long before its media stream connects."""
    audio = simulator.call(connection).audio
    audio.__class__ = TimedAudio
    assert isinstance(audio, TimedAudio)
    return audio


def lateness_ms(arrivals: list[float], start: float, end: float) -> list[float]:
    """Each frame's delay behind its answer's pacing schedule, for frames arriving in [start, end)."""
    frame_s = FRAME_MS / 1000
    late: list[float] = []
    first, index, previous = 0.0, 0, -1e9
    for at in arrivals:
        if at - previous > BURST_GAP_S:  # a new answer: its first frame sets the schedule
            first, index = at, 0
        previous = at
        due = first + max(0.0, index * frame_s - DEFAULT_LEAD_SEC)
        index += 1
        if start <= at < end:
            late.append(max(0.0, (at - due) * 1000))
    return late


# CPU and memory (Linux /proc).


def _cpu_seconds(stat: Path) -> float:
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def thread_cpu() -> dict[str, float]:
    """CPU seconds of this process's threads, grouped by name (the stack names its threads)."""
    names = {thread.native_id: thread.name for thread in threading.enumerate()}
    cpu = dict.fromkeys((*THREAD_GROUPS, "other"), 0.0)
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(OSError):
            name = names.get(int(task.name), "other")
            group = name if name in THREAD_GROUPS else "other"
            cpu[group] += _cpu_seconds(task / "stat")
    return cpu


def rss_mib(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# The media host: in this process (found in the stack) or in a child process.


def in_process_host(stack: LocalStack) -> MediaHost:
    """The stack's media host object (LocalStack serves it without keeping a reference)."""
    for server in stack._servers:
        if server.name == "media-host":
            app = server.server.config.app
            assert isinstance(app, Starlette)
            host = app.state.host
            assert isinstance(host, MediaHost)
            return host
    raise RuntimeError("the stack serves no media host")


def child_settings(stack: LocalStack, media_url: str) -> dict[str, Any]:
    """The overrides `LocalStack` gives its own media host, for a media host in another process."""
    simulator = simulator_of(stack)
    settings = stack.settings
    assert settings is not None
    return {
        "api": {"public_url": stack.api_url, "key": stack.api_key},
        "acs": {
            "endpoint": simulator.endpoint,
            "access_key": simulator.access_key,
            "phone_number": settings.acs.phone_number,
            "callback_jwt": {
                "issuer": simulator.issuer,
                "audience": simulator.audience,
                "jwks_url": simulator.jwks_url,
            },
        },
        "media": {"public_url": media_url},
        "store": {"sqlite": {"path": str(settings.store.sqlite.path)}},
        "flags": {"yaml_path": str(settings.flags.yaml_path)},
    }


@contextlib.contextmanager
def media_process(
    stack: LocalStack, port: int, data: Path, workers: int = 1
) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m media_host` (stub engines, `workers` processes) on `port` until the block ends; its
    output goes to `data/media-host.log`."""
    config = data / "media-host.json"
    config.write_text(json.dumps(child_settings(stack, f"ws://127.0.0.1:{port}"), default=str))
    with (data / "media-host.log").open("wb") as log:
        command = [
            *(sys.executable, "-m", "media_host", "--port", str(port), "--workers", str(workers)),
            *("--overrides", str(config), "--engines", "bench.media_load:stub_engines"),
        ]
        child = subprocess.Popen(command, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 60
            answered: set[int] = set()  # every worker listens before the first ring
            while len(answered) < workers:
                try:
                    url = f"http://127.0.0.1:{port}/health/liveness"
                    with urllib.request.urlopen(url, timeout=1) as response:
                        answered.add(json.loads(response.read())["pid"])
                except OSError:
                    time.sleep(0.1)
                if child.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the media host started {len(answered)} of {workers} workers")
            yield child
        finally:
            end_process(child, timeout=10)


def media_pids(pid: int) -> list[int]:
    """The media-host process and its descendants (uvicorn's workers), from /proc."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
    return found


def processes_cpu(pids: list[int]) -> dict[int, float]:
    """CPU seconds of each process (0 once it is gone)."""
    cpu = {}
    for pid in pids:
        try:
            cpu[pid] = _cpu_seconds(Path(f"/proc/{pid}/stat"))
        except OSError:
            cpu[pid] = 0.0
    return cpu


# An optional profile (`--profile`, in-process runs): cProfile inside the media host's and the
# simulator's event-loop threads over the window. It slows them down: the timing of such a run is
# not a measurement, only the attribution is.


class LoopProfile:
    """cProfile enabled from inside an event loop's thread (cProfile profiles the calling thread)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.profiler = cProfile.Profile()
        self._call(self.profiler.enable)

    def _call(self, action: Callable[[], object]) -> None:
        done = threading.Event()

        def run() -> None:
            action()
            done.set()

        self.loop.call_soon_threadsafe(run)
        done.wait(10)

    def stop(self, top: int = 15) -> dict[str, Any]:
        self._call(self.profiler.disable)
        stats = pstats.Stats(self.profiler).stats  # type: ignore[attr-defined]
        total = sum(entry[2] for entry in stats.values()) or 1.0
        ranked = sorted(stats.items(), key=lambda item: -item[1][2])[:top]
        return {
            "profiled_s": round(total, 2),
            "self_time_pct": {_where(key): round(100 * entry[2] / total, 1) for key, entry in ranked},
        }


def _where(key: tuple[str, int, str]) -> str:
    filename, _line, function = key
    if filename == "~":
        return function
    path = filename.split("site-packages/")[-1].split("/work/main/")[-1]
    return f"{path.removesuffix('.py')}:{function}"


async def loop_lag(until: float, lags: list[float]) -> None:
    """How late a 20 ms sleep wakes up on this event loop (its lag), until `until` (monotonic)."""
    loop = asyncio.get_running_loop()
    while time.monotonic() < until:
        started = loop.time()
        await asyncio.sleep(FRAME_MS / 1000)
        lags.append(max(0.0, (loop.time() - started) * 1000 - FRAME_MS))


def loops(stack: LocalStack, host: MediaHost) -> dict[str, asyncio.AbstractEventLoop]:
    """The event loops of the media host (from a live session's task) and of the simulator."""
    found: dict[str, asyncio.AbstractEventLoop] = {}
    for session in host.sessions.values():
        for task in session.tasks.live:
            found["media-host"] = task.get_loop()
            break
        if found:
            break
    simulator_loop = simulator_of(stack)._loop
    if simulator_loop is not None:
        found["acs-simulator"] = simulator_loop
    return found


# The load.


@dataclass
class Level:
    calls: int
    connections: list[str] = field(default_factory=list)
    audio: list[TimedAudio] = field(default_factory=list)
    said: int = 0


def connect_all(stack: LocalStack, level: Level, spacing: float) -> float:
    """Ring every call (spaced), time its bot frames, wait for every media stream; returns seconds."""
    simulator = simulator_of(stack)
    assert stack.settings is not None
    started = time.monotonic()
    for number in range(level.calls):
        context = simulator.ring(f"+3365560{number:04d}", stack.settings.acs.phone_number)
        connection = simulator.call_id_for(context)
        level.connections.append(connection)
        level.audio.append(time_arrivals(simulator, connection))
        time.sleep(spacing)
    for connection in level.connections:
        simulator.wait_for_timeline(connection, TimelineKind.MEDIA_CONNECTED, timeout=120)
    return time.monotonic() - started


def talk(
    simulator: AcsSimulator, level: Level, until: float, period: float, rng: random.Random
) -> Iterator[None]:
    """Each caller says the tone every `period` seconds, phases spread; yields after each say."""
    clip = tone(UTTERANCE_MS)
    now = time.monotonic()
    due = sorted((now + rng.uniform(0, period), index) for index in range(level.calls))
    while due and due[0][0] < until:
        at, index = due.pop(0)
        time.sleep(max(0.0, at - time.monotonic()))
        simulator.say(level.connections[index], clip)
        level.said += 1
        due.append((at + period, index))
        due.sort()
        yield


@dataclass
class Probe:
    """Reads the counters at the window's start and end."""

    level: Level
    host: MediaHost | None = None
    child: int | None = None
    pids: list[int] = field(default_factory=list)  # the child and its workers, found at the first sample

    def sample(self) -> dict[str, Any]:
        sessions = list(self.host.sessions.values()) if self.host is not None else []
        if self.child and not self.pids:
            self.pids = media_pids(self.child)
        return {
            "cpu": time.process_time(),
            "threads": thread_cpu(),
            "media_cpu": processes_cpu(self.pids),
            "host_late": sum(session.playback.late_frames for session in sessions),
            "host_sent": sum(session.playback.frames_sent for session in sessions),
            "said": self.level.said,
            "at": time.monotonic(),
        }

    def rss(self) -> float:
        if not self.child:
            return rss_mib()
        total = 0.0
        for pid in self.pids or media_pids(self.child):
            with contextlib.suppress(OSError):
                total += rss_mib(pid)
        return total


def count_events(simulator: AcsSimulator, level: Level, kind: TimelineKind, start: float, end: float) -> int:
    return sum(
        1
        for connection in level.connections
        for event in simulator.timeline(connection)
        if event.kind is kind and start <= event.at < end
    )


def measure(stack: LocalStack, level: Level, probe: Probe, args: argparse.Namespace) -> dict[str, Any]:
    simulator = simulator_of(stack)
    begin = time.monotonic()
    window_start, window_end = begin + args.settle, begin + args.settle + args.window
    before: dict[str, Any] | None = None
    contention: Contention | None = None
    profiles: dict[str, LoopProfile] = {}
    lags: dict[str, list[float]] = {}
    lag_probes: list[concurrent.futures.Future[None]] = []
    rss_samples: list[float] = []
    for _ in talk(simulator, level, window_end, args.period, random.Random(args.seed)):
        now = time.monotonic()
        if before is None and now >= window_start:
            before = probe.sample()
        if now >= window_start and len(rss_samples) < 200:
            rss_samples.append(probe.rss())
        if contention is None and now >= window_start:
            contention = Contention(probe.pids)
            if probe.host is not None:
                for name, loop in loops(stack, probe.host).items():
                    lags[name] = []
                    lag_probes.append(
                        asyncio.run_coroutine_threadsafe(loop_lag(window_end, lags[name]), loop)
                    )
            if args.profile and probe.host is not None:
                profiles = {name: LoopProfile(loop) for name, loop in loops(stack, probe.host).items()}
    if before is None:
        time.sleep(max(0.0, window_start - time.monotonic()))
        before = probe.sample()
    contention = contention or Contention(probe.pids)
    time.sleep(max(0.0, window_end - time.monotonic()))
    after = probe.sample()
    others = contention.others_cores()
    profile = {name: profiler.stop() for name, profiler in profiles.items()}
    for future in lag_probes:
        future.result(timeout=10)
    start, end = before["at"], after["at"]
    elapsed = end - start
    lateness = [late for audio in level.audio for late in lateness_ms(list(audio.arrivals), start, end)]
    parent_cpu = after["cpu"] - before["cpu"]
    per_process = {pid: after["media_cpu"][pid] - before["media_cpu"][pid] for pid in before["media_cpu"]}
    child_cpu = sum(per_process.values())
    threads = {
        name: round((after["threads"][name] - before["threads"][name]) / elapsed * 100, 1)
        for name in before["threads"]
    }
    media_cpu = child_cpu if probe.child else after["threads"]["media-host"] - before["threads"]["media-host"]
    return {
        "calls": level.calls,
        "media_process": bool(probe.child),
        "media_workers": args.media_workers if probe.child else 0,
        "window_s": round(elapsed, 1),
        "phone_frames": len(lateness),
        "phone_late_40ms": sum(1 for late in lateness if late > LATE_MS),
        "phone_late_100ms": sum(1 for late in lateness if late > DEFAULT_LEAD_SEC * 1000),
        "phone_lateness_p99_ms": round(percentile(lateness, 0.99), 1) if lateness else None,
        "phone_lateness_max_ms": round(max(lateness), 1) if lateness else None,
        "host_frames_sent": None if probe.host is None else after["host_sent"] - before["host_sent"],
        "host_late_frames": None if probe.host is None else after["host_late"] - before["host_late"],
        "utterances": after["said"] - before["said"],
        "answers": count_events(simulator, level, TimelineKind.BOT_AUDIO_FIRST_FRAME, start, end),
        "stop_audio": count_events(simulator, level, TimelineKind.STOP_AUDIO, start, end),
        "cpu_pct": round((parent_cpu + child_cpu) / elapsed * 100, 1),
        "thread_cpu_pct": threads,
        "media_host_cpu_pct": round(media_cpu / elapsed * 100, 1),
        "media_host_cpu_pct_per_call": round(media_cpu / elapsed * 100 / level.calls, 2),
        "media_process_cpu_pct": [round(cpu / elapsed * 100, 1) for cpu in per_process.values()],
        "rss_window_mib": round(max(rss_samples) if rss_samples else probe.rss(), 1),
        "other_processes_cores": others,
        "loop_lag_ms": {
            name: {"p99": round(percentile(values, 0.99), 1), "max": round(max(values), 1)}
            for name, values in lags.items()
            if values
        },
        **({"profile": profile} if profile else {}),
    }


def run_level(calls: int, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as temp:
        data = Path(temp)
        with contextlib.ExitStack() as resources:
            child_port = free_port()
            overrides = flags_overrides(data, phone_silence_timeout_sec=0)
            if args.media_process:
                overrides["media"] = {"public_url": f"ws://127.0.0.1:{child_port}"}
            stack = resources.enter_context(
                LocalStack(
                    api_port=free_port(),
                    media_port=free_port(),
                    data_dir=data,
                    speed=1.0,
                    speech=stub_engines,
                    overrides=overrides,
                )
            )
            if args.media_process:
                child = resources.enter_context(media_process(stack, child_port, data, args.media_workers))
                probe = Probe(Level(calls), child=child.pid)
            else:
                probe = Probe(Level(calls), host=in_process_host(stack))
            rss_before = probe.rss()
            connect_s = connect_all(stack, probe.level, args.ring_spacing)
            result = measure(stack, probe.level, probe, args)
            simulator = simulator_of(stack)
            for connection in probe.level.connections:
                simulator.hang_up_as_caller(connection)
            time.sleep(1)
        log = data / "media-host.log"
        text = log.read_text(errors="replace") if log.exists() else None
        errors = (
            None if text is None else text.count("media session failed") + text.count("media step failed")
        )
    result.update(
        connect_s=round(connect_s, 1),
        rss_before_mib=round(rss_before, 1),
        rss_per_call_mib=round((result["rss_window_mib"] - rss_before) / calls, 2),
        media_process_failures_logged=errors,
    )
    return result


def print_table(results: list[dict[str, Any]]) -> None:
    print(
        f"{'calls':>5} {'media':>7} {'frames':>7} {'>40ms':>6} {'>100ms':>6} {'p99 ms':>7} {'max ms':>7}"
        f" {'host':>5} {'answers':>9} {'cpu %':>6} {'sim %':>6} {'media %':>7} {'%/call':>6}"
        f" {'rss MiB':>8} {'MiB/call':>8} {'others':>6}"
    )
    for row in results:
        threads = row["thread_cpu_pct"]
        host_late = "-" if row["host_late_frames"] is None else row["host_late_frames"]
        print(
            f"{row['calls']:>5} {_media_kind(row):>7} {row['phone_frames']:>7}"
            f" {row['phone_late_40ms']:>6} {row['phone_late_100ms']:>6} {row['phone_lateness_p99_ms']!s:>7}"
            f" {row['phone_lateness_max_ms']!s:>7} {host_late!s:>5}"
            f" {str(row['answers']) + '/' + str(row['utterances']):>9} {row['cpu_pct']:>6}"
            f" {threads['acs-simulator']:>6} {row['media_host_cpu_pct']:>7}"
            f" {row['media_host_cpu_pct_per_call']:>6}"
            f" {row['rss_window_mib']:>8} {row['rss_per_call_mib']:>8} {row['other_processes_cores']:>6}"
        )


def _media_kind(row: dict[str, Any]) -> str:
    if not row["media_process"]:
        return "thread"
    return "process" if row["media_workers"] == 1 else f"{row['media_workers']} proc"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", default="100", help="concurrent calls; a comma list runs several levels")
    parser.add_argument("--window", type=float, default=20.0, help="steady measurement window, seconds")
    parser.add_argument("--period", type=float, default=4.0, help="seconds between a caller's utterances")
    parser.add_argument("--settle", type=float, default=8.0, help="seconds of talk before the window")
    parser.add_argument("--ring-spacing", type=float, default=0.03, help="seconds between two rings")
    parser.add_argument(
        "--media-process", action="store_true", help="serve the media host from a child process"
    )
    parser.add_argument(
        "--media-workers",
        type=int,
        default=1,
        help="media-host processes behind the one port (implies --media-process when above 1)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile the media host and simulator threads (distorts timing)",
    )
    args = parser.parse_args()
    levels = [int(value) for value in args.calls.split(",")]
    args.media_process = args.media_process or args.media_workers > 1

    results = []
    for calls in levels:
        results.append(run_level(calls, args))
        print(f"{calls} calls: done", flush=True)
    print_table(results)
    for row in results:
        if row["media_process"]:
            shares = ", ".join(f"{cpu}%" for cpu in row["media_process_cpu_pct"])
            print(f"{row['calls']} calls, media-host processes' CPU (supervisor first): {shares}")
    for row in results:
        if row["loop_lag_ms"]:
            lag = ", ".join(f"{name} p99 {v['p99']} max {v['max']}" for name, v in row["loop_lag_ms"].items())
            print(f"{row['calls']} calls, event-loop lag (ms): {lag}")
    for row in results:
        for thread, report in row.get("profile", {}).items():
            print(f"\n{row['calls']} calls, {thread} thread, {report['profiled_s']} s profiled, self time:")
            for where, share in report["self_time_pct"].items():
                print(f"  {share:>5}%  {where}")
    target = max(results, key=lambda row: row["calls"])
    passed = target["calls"] >= 100 and target["phone_late_40ms"] == 0
    print(
        json.dumps(
            {
                "benchmark": "media_load",
                "levels": results,
                "target": "100 calls, no outbound frame more than 40 ms late (at the phone)",
                "passed": passed,
                "machine": machine(),
            }
        )
    )
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
