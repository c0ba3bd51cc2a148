"""Offline replay of the end-of-turn decision on the paused callers' clips: no transport, no event
loop timing, the media host's own parts (silero VAD, `TurnDetector`, Whisper tiny.en on the same
10 s window, smart-turn, `TurnEndPolicy`) frame by frame. For the pause inserted in each clip it
prints what the decision saw: the transcript so far, the words' verdict, the model's probability and
the silence it would wait; and whether that pause would have ended the turn (a premature answer for
an unfinished cut). Whisper and the model are given all the time they need, so this is the
decision's own quality, apart from the live timing that `bench.paused_callers` measures.

`--phases` replays every clip again after a few ms of leading silence: the 32 ms VAD windows then
fall elsewhere in the speech, the cuts move by a frame, and Whisper hears slightly different audio,
as on a live call (where a short last word it drops on one phase it keeps on another).

    .venv/bin/python -m bench.turn_replay [--threshold 0.5] [--phases 0,11,21]
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from bench.common import machine, synthesize, trim_trailing_silence
from bench.paused_callers import PAUSED, make_clips
from bench.voice_latency import sentences
from media_host.end_of_turn import TurnEndPolicy, count_words, words_verdict
from media_host.turns import FRAME_MS, Pause, Segment, TurnConfig, TurnDetector, TurnEnded
from shared.speech.base import VAD_FRAME_BYTES
from shared.speech.models import tiny_en_dir
from shared.speech.smart_turn import SmartTurnModel
from shared.speech.vad import SileroVadEngine
from shared.speech.whisper_stt import WhisperStt

BYTES_PER_MS = 32


async def replay(
    pcm: bytes, stop_ms: float, vad: SileroVadEngine, stt: WhisperStt, model: SmartTurnModel
) -> dict[str, Any]:
    """What the decision saw at the last pause before `stop_ms` into `pcm`: the transcript so far,
    the words' verdict, the model's probability, and how long the caller had been silent then."""
    detector = TurnDetector(TurnConfig(silence_ms=10_000))
    stream = vad.new_stream()
    texts: list[str] = []
    pause_text, audio, silence = "", b"", 0.0
    row: dict[str, Any] = {}
    for index in range(len(pcm) // VAD_FRAME_BYTES):
        frame = pcm[index * VAD_FRAME_BYTES : (index + 1) * VAD_FRAME_BYTES]
        now_ms = (index + 1) * FRAME_MS
        if now_ms >= stop_ms:
            break
        for event in detector.feed(frame, probability=stream.speech_probability(frame), now=now_ms / 1000):
            if isinstance(event, Pause):
                pause_text = (await stt.transcribe(event.pcm, lang="en-US")).text.strip()
                probability = await model.probability(audio + event.pcm)
                text = " ".join(part for part in [*texts, pause_text] if part)
                verdict = words_verdict(text, "en-US")
                row = {
                    "text": text,
                    "verdict": verdict,
                    "words": count_words(text),
                    "p": round(probability, 3),
                }
            elif isinstance(event, Segment | TurnEnded):
                texts.append(pause_text if event.pause is not None else "")
                audio += event.pcm
        silence = detector.silence_ms
    return {**row, "silence_ms": round(silence)}


async def run(jobs: list[tuple[bytes, float]]) -> list[dict[str, Any]]:
    vad, model = SileroVadEngine(), SmartTurnModel()
    stt = WhisperStt({"en": tiny_en_dir()}, cpu_threads=2)
    try:
        return [await replay(pcm, stop_ms, vad, stt, model) for pcm, stop_ms in jobs]
    finally:
        stt.close()
        model.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--threshold", type=float, default=0.5, help="vad_end_of_turn_threshold")
    parser.add_argument("--complete", type=int, default=12, help="complete sentences replayed too")
    parser.add_argument("--phases", default="0", help="ms of leading silence, one replay each (0,11,21)")
    args = parser.parse_args()
    policy = TurnEndPolicy(model_threshold=args.threshold)
    clips, _heard = make_clips(PAUSED)
    complete_texts = sentences(args.complete)
    complete = [trim_trailing_silence(pcm) for pcm in synthesize(complete_texts)]
    tail = int(policy.longest_ms + 200)
    jobs: list[tuple[bytes, float]] = []
    labels: list[tuple[int, str, int]] = []
    for phase in (int(ms) for ms in args.phases.split(",")):
        lead = bytes(phase * BYTES_PER_MS)
        jobs += [(lead + clip.pcm, clip.last_part_ms + phase) for clip in clips]
        jobs += [
            (lead + pcm + bytes(tail * BYTES_PER_MS), len(lead + pcm) / BYTES_PER_MS + tail)
            for pcm in complete
        ]
        labels += [(phase, c.item.kind, c.item.pause_ms) for c in clips] + [(phase, "sentence", 0)] * len(
            complete
        )
    rows = asyncio.run(run(jobs))
    premature: dict[int, int] = {}
    for number, ((phase, kind, pause_ms), row) in enumerate(zip(labels, rows, strict=True), start=1):
        verdict = row.get("verdict")
        wait = policy.wait_ms(verdict, row.get("p"), row.get("words"))
        ends = kind == "sentence" or row["silence_ms"] >= wait
        premature[phase] = premature.get(phase, 0) + (kind not in ("complete", "sentence") and ends)
        row |= {"phase": phase, "kind": kind, "wait_ms": wait, "verdict": verdict.value if verdict else None}
        print(
            f"{number:>3} {phase:>2} {kind:<12} {pause_ms:>5} {row['verdict'] or '-':<10}"
            f" p={row.get('p', '-')!s:<6} silence={row['silence_ms']:<5} wait={wait:<6}"
            f" {'ENDS' if ends else 'holds':<6} {row.get('text', '')!r}"
        )
    unfinished = sum(kind not in ("complete", "sentence") for _, kind, _ in labels) // len(premature)
    for phase, count in premature.items():
        waits = [row["wait_ms"] for row in rows if row["kind"] == "sentence" and row["phase"] == phase]
        print(
            f"\nphase {phase} ms: unfinished cuts the decision would answer: {count}/{unfinished};"
            f" complete sentences wait {waits}"
        )
    total = sum(premature.values())
    print(json.dumps({"benchmark": "turn_replay", "premature": total, "rows": rows, "machine": machine()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
