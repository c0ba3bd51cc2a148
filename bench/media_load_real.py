"""Benchmark: how many concurrent calls the real local engines serve with p95 voice-to-voice <= 1.5 s.

The local stack at real time with the real local engines (silero VAD, faster-whisper, piper) and a
scripted zero-delay LLM. Ramp: 1, 2, 3... concurrent calls (one warm-up call first). At each level
every call waits for its greeting, then does `--turns` turns: after the bot went quiet and a random
pause (0-1 s, so callers are not in lock-step), the caller says a piper-synthesised sentence
(trailing silence trimmed) and the bot answers. Voice-to-voice = timeline BOT_AUDIO_FIRST_FRAME -
CALLER_SPEECH_END, as in `bench.voice_latency`. The ramp stops when a level's p95 exceeds 1.5 s,
at `--max-calls`, or when the next level would not fit in `--budget` seconds.

    .venv/bin/python -m bench.media_load_real [--max-calls 6] [--turns 4] [--budget 300]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.common import (
    Contention,
    events,
    machine,
    process_cpu_seconds,
    ring,
    scripted_llm_stack,
    simulator_of,
    stored_call,
    summary,
    synthesize,
    trim_trailing_silence,
    wait_bot_quiet,
    wait_event,
)
from bench.voice_latency import BREAKDOWN, REPLIES, SENTENCES
from local.acs_simulator import TimelineKind
from local.dev import LocalStack

TARGET_P95_MS = 1500.0


def one_call(stack: LocalStack, caller: str, clips: list[bytes], seed: int) -> list[float | None]:
    """Ring, wait for the greeting, say each clip once the bot is quiet; each turn's latency."""
    simulator = simulator_of(stack)
    rng = random.Random(seed)
    connection = ring(stack, caller, timeout=60)
    latencies: list[float | None] = []
    try:
        wait_bot_quiet(simulator, connection, within=90)
        for clip in clips:
            wait_bot_quiet(simulator, connection, within=90)
            time.sleep(rng.uniform(0.0, 1.0))
            ends = len(events(simulator, connection, TimelineKind.CALLER_SPEECH_END))
            simulator.say(connection, clip)
            end = simulator.wait_for_timeline(
                connection, TimelineKind.CALLER_SPEECH_END, count=ends + 1, timeout=60
            )
            first = wait_event(
                simulator, connection, TimelineKind.BOT_AUDIO_FIRST_FRAME, after=end.at, timeout=30
            )
            latencies.append(None if first is None else (first.at - end.at) * 1000)
    finally:
        simulator.hang_up_as_caller(connection)
    return latencies


def run_level(stack: LocalStack, calls: int, clips: list[bytes], turns: int) -> dict[str, Any]:
    started = time.monotonic()
    cpu = process_cpu_seconds()
    contention = Contention()
    callers = [f"+3365570{calls:02d}{index:02d}" for index in range(calls)]
    with ThreadPoolExecutor(max_workers=calls, thread_name_prefix="caller") as pool:
        futures = [
            pool.submit(
                one_call,
                stack,
                callers[index],
                [clips[(index * turns + turn) % len(clips)] for turn in range(turns)],
                calls * 100 + index,
            )
            for index in range(calls)
        ]
        per_call = [future.result() for future in futures]
    elapsed = time.monotonic() - started
    samples = [latency for call in per_call for latency in call if latency is not None]
    missed = sum(1 for call in per_call for latency in call if latency is None)
    stats = summary(samples)
    turns_stored = [turn for caller in callers if (call := stored_call(stack, caller)) for turn in call.turns]
    breakdown = {
        name: round(statistics.median(values), 1)
        for name in BREAKDOWN
        if (values := [value for turn in turns_stored if (value := getattr(turn, name)) is not None])
    }
    return {
        "calls": calls,
        **stats,
        "breakdown_median_ms": breakdown,
        "latencies_ms": [round(latency, 1) for latency in samples],
        "missed": missed,
        "passed": bool(samples) and not missed and stats["p95"] <= TARGET_P95_MS,
        "cpu_pct": round((process_cpu_seconds() - cpu) / elapsed * 100, 1),
        "other_processes_cores": contention.others_cores(),
        "level_s": round(elapsed, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--max-calls", type=int, default=6)
    parser.add_argument("--turns", type=int, default=4, help="turns per call at each level")
    parser.add_argument("--budget", type=float, default=300.0, help="seconds for the whole run")
    parser.add_argument(
        "--require", type=int, default=1, help="exit status 0 when at least this many calls pass"
    )
    args = parser.parse_args()

    begin = time.monotonic()
    warmup, *clips = [
        trim_trailing_silence(clip) for clip in synthesize(["Hello, can you hear me?", *SENTENCES])
    ]
    levels: list[dict[str, Any]] = []
    with scripted_llm_stack(REPLIES["short"]) as stack:
        one_call(stack, "+33655709999", [warmup], seed=0)  # loads the models: not measured
        for calls in range(1, args.max_calls + 1):
            level = run_level(stack, calls, clips, args.turns)
            levels.append(level)
            print(
                f"{calls} calls: p50={level.get('p50')} p95={level.get('p95')} ms "
                f"({level['level_s']} s, others {level['other_processes_cores']} cores)",
                flush=True,
            )
            projected = level["level_s"] * (1 + 1 / calls) * 1.1  # the next level has one more call
            if not level["passed"] or time.monotonic() - begin + projected > args.budget:
                break
    wall = time.monotonic() - begin

    print(
        f"\n{'calls':>5} {'turns':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'missed':>6} {'cpu %':>6}"
        f" {'others':>6} {'stt':>6} {'frame':>6}  p95 <= {TARGET_P95_MS:.0f}"
    )
    for level in levels:
        breakdown = level["breakdown_median_ms"]
        print(
            f"{level['calls']:>5} {level.get('n', 0):>6} {level.get('p50')!s:>8} {level.get('p95')!s:>8}"
            f" {level.get('max')!s:>8} {level['missed']:>6} {level['cpu_pct']:>6}"
            f" {level['other_processes_cores']:>6} {breakdown.get('stt_final_ms')!s:>6}"
            f" {breakdown.get('first_frame_out_ms')!s:>6}  {'yes' if level['passed'] else 'NO'}"
        )
    kept = 0
    for level in levels:  # the largest level such that it and every level below it passed
        if not level["passed"]:
            break
        kept = level["calls"]
    ended = "p95 over target" if levels and not levels[-1]["passed"] else "max calls or time budget"
    print(
        f"\nconcurrent calls with p95 voice-to-voice <= {TARGET_P95_MS:.0f} ms: {kept} (ramp ended: {ended})"
    )
    result = {
        "benchmark": "media_load_real",
        "max_calls_within_target": kept,
        "target_p95": TARGET_P95_MS,
        "required": args.require,
        "ramp_ended": ended,
        "levels": levels,
        "turns_per_call": args.turns,
        "wall_s": round(wall, 1),
        "machine": machine(),
    }
    print(json.dumps(result))
    return 0 if kept >= args.require else 1


if __name__ == "__main__":
    raise SystemExit(main())
