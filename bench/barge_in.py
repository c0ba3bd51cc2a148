"""Benchmark: barge-in, from the caller's speech onset to StopAudio reaching the phone.

One call through the ACS simulator at real time, real local engines, and a scripted zero-delay LLM
whose every answer is a long, several-sentence explanation. While the bot speaks it, the caller cuts
in with a continuous phrase (piper voice); that phrase is also the next turn, so the bot starts a new
long answer and the caller cuts in again, N times. Per barge-in: delay = timeline STOP_AUDIO -
CALLER_SPEECH_START - the clip's leading silence (20 ms frames at or below -45 dBFS), that is, from
the actual speech onset. Target: p95 <= vad_cutoff_timeout_ms (250) + 50 ms.

    .venv/bin/python -m bench.barge_in [--barge-ins 10] [--into-answer 1.2]
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from bench.common import (
    FRAME_BYTES,
    Contention,
    cell,
    leading_silence_ms,
    machine,
    ring,
    scripted_llm_stack,
    simulator_of,
    summary,
    synthesize,
    wait_bot_quiet,
    wait_event,
)
from local.acs_simulator import TimelineKind
from local.dev import LocalStack
from media_host.turns import SpeechStarted, TurnConfig, TurnDetector
from shared.flags.base import FeatureFlags
from shared.speech.audio import level_dbfs
from shared.speech.base import SAMPLE_RATE, VAD_FRAME_BYTES, VAD_FRAME_SAMPLES
from shared.speech.vad import SileroVadEngine

CALLER = "+33655500002"
CUTOFF_MS = 250
TARGET_P95_MS = CUTOFF_MS + 50.0
LONG_ANSWER = (
    "I understand, let me explain how the claim process works for you. "
    "First, we record what happened, where it happened and who was involved. "
    "Then an expert reviews the damage and sends you a detailed estimate within a few days. "
    "Once you agree with the estimate, we pay the garage directly, usually within ten working days. "
    "If you need a rental car in the meantime, your policy may cover it, and I can check that for you."
)
TRIGGER = "Can you explain how the claim process works?"
PHRASES = (
    "Excuse me, I have another question about my contract.",
    "Sorry to interrupt, but what about the rental car?",
    "Wait, I think you misunderstood what I said before.",
    "Hold on, can you tell me how long this will take?",
    "Actually, I would rather speak about the other vehicle.",
    "Just a moment, my wife is asking about the deductible.",
    "Sorry, could you go back to the part about the expert?",
    "Excuse me, does this also apply to the windshield?",
    "One second, I need to find my policy number first.",
    "Pardon me, but the garage already has the car.",
)


def echo_guard_level(answer: bytes) -> float:
    """The median, over the bot's answer, of the echo guard's reference level (the loudest 20 ms
    frame of the last 200 ms): what the caller's frames are compared with while the bot speaks."""
    frame = FRAME_BYTES
    levels = [level_dbfs(answer[at : at + frame]) for at in range(0, len(answer) - frame + 1, frame)]
    windows = sorted(max(levels[at : at + 10]) for at in range(max(1, len(levels) - 9)))
    return windows[len(windows) // 2]


def replay_detection_ms(
    clip: bytes, echo_dbfs: float | None, engine: SileroVadEngine, into_answer: float
) -> float | None:
    """Offline: when the media host's detector (silero + TurnDetector, the bot speaking) would call
    the barge-in on this clip, from its speech onset; no transport, no event loop. The clip follows
    `into_answer` seconds of the phone's silence while the bot speaks, as in the live call (the echo
    guard learns the line from them)."""
    vad = engine.new_stream()
    detector = TurnDetector(
        TurnConfig.from_flags(FeatureFlags(vad_cutoff_timeout_ms=CUTOFF_MS))
    )  # as on a call
    frame_s = VAD_FRAME_SAMPLES / SAMPLE_RATE
    lead = int(into_answer / frame_s)
    audio = bytes(lead * VAD_FRAME_BYTES) + clip
    for index in range(len(audio) // VAD_FRAME_BYTES):
        frame = audio[index * VAD_FRAME_BYTES : (index + 1) * VAD_FRAME_BYTES]
        happened = detector.feed(
            frame,
            probability=vad.speech_probability(frame),
            echo_level_dbfs=echo_dbfs,
            bot_speaking=True,
            now=(index + 1) * frame_s,
        )
        if any(isinstance(event, SpeechStarted) for event in happened):
            return round((index + 1 - lead) * frame_s * 1000 - leading_silence_ms(clip), 1)
    return None


def run_call(
    stack: LocalStack, trigger: bytes, clips: list[bytes], into_answer: float
) -> list[dict[str, Any]]:
    simulator = simulator_of(stack)
    connection = ring(stack, CALLER)
    results: list[dict[str, Any]] = []
    try:
        wait_bot_quiet(simulator, connection)  # the greeting
        simulator.say(connection, trigger)
        for clip in clips:
            end = simulator.wait_for_timeline(
                connection,
                TimelineKind.CALLER_SPEECH_END,
                count=len(results) + 1,
                timeout=30,
            )
            first = wait_event(
                simulator, connection, TimelineKind.BOT_AUDIO_FIRST_FRAME, after=end.at, timeout=20
            )
            if first is None:
                results.append({"delay_ms": None, "why": "the bot never answered"})
                break
            time.sleep(max(0.0, first.at + into_answer - time.monotonic()))  # well into the long answer
            said_at = time.monotonic()
            simulator.say(connection, clip)
            start = wait_event(
                simulator, connection, TimelineKind.CALLER_SPEECH_START, after=said_at, timeout=5
            )
            assert start is not None, "the phone never started the caller's phrase"
            stop = wait_event(simulator, connection, TimelineKind.STOP_AUDIO, after=start.at, timeout=5)
            lead = leading_silence_ms(clip)
            if stop is None:
                results.append({"delay_ms": None, "lead_ms": lead, "why": "no StopAudio"})
                continue
            raw = (stop.at - start.at) * 1000
            results.append(
                {
                    "delay_ms": round(raw - lead, 1),
                    "raw_ms": round(raw, 1),
                    "lead_ms": lead,
                    "bot_ms_before": round((start.at - first.at) * 1000),
                    "dropped_bytes": stop.dropped_bytes,
                }
            )
    finally:
        simulator.hang_up_as_caller(connection)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--barge-ins", type=int, default=10)
    parser.add_argument(
        "--into-answer", type=float, default=1.2, help="seconds of bot answer before the caller cuts in"
    )
    args = parser.parse_args()

    texts = [PHRASES[index % len(PHRASES)] for index in range(args.barge_ins)]
    answer, trigger, *clips = synthesize([LONG_ANSWER, TRIGGER, *texts])
    engine = SileroVadEngine()
    echo_dbfs = echo_guard_level(answer)
    replays = [
        (
            replay_detection_ms(clip, None, engine, args.into_answer),
            replay_detection_ms(clip, echo_dbfs, engine, args.into_answer),
        )
        for clip in clips
    ]
    started = time.monotonic()
    contention = Contention()
    with scripted_llm_stack(LONG_ANSWER, vad_cutoff_timeout_ms=CUTOFF_MS) as stack:
        results = run_call(stack, trigger, clips, args.into_answer)
    wall = time.monotonic() - started
    others = contention.others_cores()

    for row, (plain, guarded) in zip(results, replays, strict=False):
        row["replay_vad_ms"], row["replay_vad_echo_guard_ms"] = plain, guarded
    print(f"{'#':>3} {'delay':>8} {'raw':>8} {'lead':>6} {'replay':>8} {'+guard':>8}  phrase")
    for index, (text, row) in enumerate(zip(texts, results, strict=False)):
        print(
            f"{index + 1:>3} {cell(row.get('delay_ms'))} {cell(row.get('raw_ms'))}"
            f" {cell(row.get('lead_ms'), 6)}"
            f" {cell(row.get('replay_vad_ms'))} {cell(row.get('replay_vad_echo_guard_ms'))}"
            f"  {text[:50]}{'  (' + row['why'] + ')' if 'why' in row else ''}"
        )
    samples = [row["delay_ms"] for row in results if row.get("delay_ms") is not None]
    missed = args.barge_ins - len(samples)
    stats = summary(samples)
    print(
        f"\nspeech onset -> StopAudio at the phone: n={stats.get('n')} p50={stats.get('p50')} "
        f"p95={stats.get('p95')} max={stats.get('max')} ms, missed={missed}"
        f"; other processes used {others} cores"
    )
    replay_plain = summary([plain for plain, _ in replays if plain is not None])
    replay_guarded = summary([guarded for _, guarded in replays if guarded is not None])
    print(
        f"offline detector replay (silero + TurnDetector, no transport): p50={replay_plain.get('p50')} "
        f"p95={replay_plain.get('p95')} ms; with the echo guard at the bot's median level "
        f"({echo_dbfs:.1f} dBFS): p50={replay_guarded.get('p50')} p95={replay_guarded.get('p95')} ms"
    )
    passed = bool(samples) and not missed and stats["p95"] <= TARGET_P95_MS
    result = {
        "benchmark": "barge_in_stop_audio_ms",
        **stats,
        "missed": missed,
        "vad_cutoff_timeout_ms": CUTOFF_MS,
        "target_p95": TARGET_P95_MS,
        "passed": passed,
        "replay_ms": replay_plain,
        "replay_echo_guard_ms": {**replay_guarded, "echo_dbfs": round(echo_dbfs, 1)},
        "barge_ins": [{"phrase": text, **row} for text, row in zip(texts, results, strict=False)],
        "wall_s": round(wall, 1),
        "other_processes_cores": others,
        "machine": machine(),
    }
    print(json.dumps(result))
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
