"""Benchmark: IncomingCall delivery -> the answer request reaching ACS (the local simulator).

Runs the local stack (simulator + function app + Event Grid stand-in) on loopback, rings the bot's
number N times after a warm-up, and measures from the moment the simulator posts the Event Grid
IncomingCall to the moment it receives the answer request (its `connected` mark, with no connect
delay). Target: p95 <= 100 ms warm. Prints a table and a JSON line.

    .venv/bin/python -m bench.incoming_call [--calls 50] [--warmup 5]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

from local.acs_simulator import TimelineKind
from local.dev import LocalStack, free_port

CALLER_PREFIX = "+3361234"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def ring_once(stack: LocalStack, number: int) -> float:
    simulator = stack.simulator
    assert simulator is not None and stack.settings is not None
    caller = f"{CALLER_PREFIX}{number:04d}"
    started = time.monotonic()
    call_id = simulator.call_id_for(simulator.ring(caller, stack.settings.acs.phone_number))
    event = simulator.wait_for_timeline(call_id, TimelineKind.CONNECTED, timeout=10)
    simulator.hang_up_as_caller(call_id)
    return (event.at - started) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as data,
        LocalStack(api_port=free_port(), media_port=free_port(), data_dir=Path(data), speed=0) as stack,
    ):
        for number in range(args.warmup):
            ring_once(stack, number)
        samples = [ring_once(stack, args.warmup + number) for number in range(args.calls)]
    result = {
        "benchmark": "incoming_call_to_answer_ms",
        "calls": len(samples),
        "p50": round(statistics.median(samples), 1),
        "p95": round(percentile(samples, 0.95), 1),
        "max": round(max(samples), 1),
        "target_p95": 100,
        "machine": f"{platform.machine()} {platform.python_version()}",
    }
    print(f"{'calls':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    print(f"{result['calls']:>6} {result['p50']:>8} {result['p95']:>8} {result['max']:>8}")
    print(json.dumps(result))
    return 0 if percentile(samples, 0.95) <= 100 else 1


if __name__ == "__main__":
    raise SystemExit(main())
