"""Benchmark: callers who pause mid-sentence, and callers who say complete sentences, one call each.

The paused set (made for this project, 26 utterances): each is ONE piper synthesis of the whole
sentence (so the voice keeps its mid-sentence intonation) with 300-1,000 ms of silence inserted at a
word boundary: after a verb, an article or a preposition, after a filler, inside a number, after a
trailing-off phrase (22 "unfinished" cuts), or after a complete sentence the caller goes on from (4
"complete" cuts). The word boundary is the quietest 20 ms frame near where the prefix, synthesised
alone, ends; each first part is transcribed offline with Whisper tiny.en and printed, so the cut can
be checked. The complete set is `bench.voice_latency`'s 12 sentences.

Per paused utterance, from the phone's timeline and the audio it played:
- premature (unfinished cut): any bot audio played before the caller's last part started, or the
  utterance stored as two caller messages (split);
- premature (complete cut): more than 300 ms of bot audio played over the caller's continuation (from
  its start to the StopAudio), or split;
- latency: first bot frame after the last speech sample (the clip ends with the speech).

Runs once per configuration: `rules+model` (the shipped flags), `rules` (the end-of-turn model off:
`vad_end_of_turn_threshold: 0`), `before` (every new flag at 0: the 300 ms sentence-end rule alone).

    .venv/bin/python -m bench.paused_callers [--configs rules+model,rules,before] [--complete 12]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

from bench.common import (
    FRAME_BYTES,
    FRAME_MS,
    Contention,
    cell,
    heard_bytes,
    machine,
    ring,
    scripted_llm_stack,
    simulator_of,
    speech_levels,
    stored_call,
    summary,
    synthesize,
    trim_trailing_silence,
    wait_bot_quiet,
    wait_event,
)
from bench.voice_latency import REPLIES, sentences
from bench.voice_latency import run_call as run_complete_call
from local.acs_simulator import TimelineKind
from local.dev import LocalStack
from shared.models import Persona
from shared.speech.base import SAMPLE_RATE

CALLER = "+33655500003"
MAX_HEARD_OVER_CONTINUATION_MS = 300.0
BYTES_PER_MS = 32  # 16 kHz PCM16 at the phone
ANSWER = REPLIES["short"]  # the answer the numbers in docs/performance.md were measured with
CONFIGS: dict[str, dict[str, float]] = {
    "rules+model": {},
    "rules": {"vad_end_of_turn_threshold": 0},
    "before": {
        "vad_unfinished_timeout_ms": 0,
        "vad_end_of_turn_threshold": 0,
        "vad_continuation_window_ms": 0,
    },
}


@dataclass(frozen=True)
class Paused:
    text: str
    cut_after: str  # the words before the pause (a prefix of `text`)
    pause_ms: int
    kind: str  # what the first part ends with; "complete" = a finished sentence the caller goes on from


PAUSED = (
    Paused(
        "My account number is seven seven one, zero four, five five.", "My account number is", 700, "verb"
    ),
    Paused("It happened around noon, I think.", "It happened around", 800, "preposition"),
    Paused("The car is a blue Peugeot two hundred and eight.", "The car is a", 500, "article"),
    Paused(
        "I was driving to the office and a truck hit me from behind.",
        "I was driving to the office and",
        900,
        "conjunction",
    ),
    Paused("I would like to know if a rental car is covered.", "I would like to know if", 600, "conjunction"),
    Paused(
        "The accident happened on the road between Lyon and Grenoble.",
        "The accident happened on the road between",
        700,
        "preposition",
    ),
    Paused("My name is John Smith.", "My name is", 1000, "verb"),
    Paused("I need to talk to my insurance advisor.", "I need to talk to my", 500, "possessive"),
    Paused("The other driver was going way too fast.", "The other driver was", 300, "verb"),
    Paused("You can reach me at the office after six.", "You can reach me at", 600, "preposition"),
    Paused("Um, I think it was on Tuesday.", "Um,", 700, "filler"),
    Paused("It was, uh, around eight in the morning.", "It was, uh,", 500, "filler"),
    Paused("I'm calling about, um, the damage to my garage door.", "I'm calling about, um,", 900, "filler"),
    Paused("So, er, what do I need to send you?", "So, er,", 400, "filler"),
    Paused(
        "My phone number is zero six, twelve, thirty four, fifty six, seventy eight.",
        "My phone number is zero six, twelve,",
        600,
        "number",
    ),
    Paused(
        "My policy number is four four seven, one zero two three.",
        "My policy number is four four seven,",
        800,
        "number",
    ),
    Paused(
        "My claim number is two two nine, eight one five.", "My claim number is two two nine,", 500, "number"
    ),
    Paused(
        "Call me back on zero six, eleven, twenty two, thirty three, forty four.",
        "Call me back on zero six, eleven,",
        1000,
        "number",
    ),
    Paused("It's kind of hard to explain, the whole side is dented.", "It's kind of", 800, "trailing off"),
    Paused("And then the other car just left.", "And then the", 600, "trailing off"),
    Paused("I'm not sure if the police wrote a report.", "I'm not sure if", 700, "trailing off"),
    Paused(
        "The garage said something about a broken axle.",
        "The garage said something about",
        900,
        "trailing off",
    ),
    Paused("Just a second. I need to find the letter.", "Just a second.", 900, "complete"),
    Paused(
        "I had a car accident this morning. The other driver ran a red light.",
        "I had a car accident this morning.",
        800,
        "complete",
    ),
    Paused("Yes. And I also have photos of the damage.", "Yes.", 600, "complete"),
    Paused("That's right. My wife was driving, not me.", "That's right.", 1000, "complete"),
)


@dataclass(frozen=True)
class Clip:
    item: Paused
    pcm: bytes
    first_ms: float  # where the inserted pause starts
    last_part_ms: float  # where the caller's last part starts


class AlignedVoice:
    """The caller's piper voice (steady) with piper's phoneme alignments: where each word ends."""

    def __init__(self) -> None:
        from piper import PiperVoice, SynthesisConfig  # noqa: PLC0415 (heavy)

        from shared.speech.models import piper_voice_path  # noqa: PLC0415

        path = piper_voice_path()
        self.voice = PiperVoice.load(
            path, config_path=path.with_name(path.name + ".json"), include_alignments=True
        )
        length = self.voice.config.length_scale
        self.config = SynthesisConfig(length_scale=length, noise_scale=0.0, noise_w_scale=0.0)

    def gaps_in(self, text: str) -> int:
        """How many word gaps (sentence ends included) piper's phonemes of `text` have."""
        sentences = ["".join(phonemes).strip() for phonemes in self.voice.phonemize(text)]
        return sum(phonemes.count(" ") + 1 for phonemes in sentences if phonemes)

    def speak(self, text: str) -> tuple[bytes, list[float]]:
        """16 kHz PCM16 and, for each word gap (phoneme " " or a sentence end), its time in ms."""
        from shared.speech.audio import StreamResampler  # noqa: PLC0415

        rate = self.voice.config.sample_rate
        resampler = StreamResampler(rate, SAMPLE_RATE)
        pcm, gaps, start = b"", [], 0  # start: the chunk's first sample (each sentence is a chunk)
        for chunk in self.voice.synthesize(text, syn_config=self.config, include_alignments=True):
            if chunk.phoneme_alignments is None:
                raise RuntimeError("this piper voice gives no alignments (install onnx)")
            at = start
            for alignment in chunk.phoneme_alignments:
                if alignment.phoneme == " ":
                    gaps.append(1000 * (at + alignment.num_samples / 2) / rate)
                at += int(alignment.num_samples)
            start += len(chunk.audio_int16_bytes) // 2
            gaps.append(1000 * start / rate)
            pcm += resampler.process(chunk.audio_int16_bytes)
        return pcm + resampler.flush(), gaps


def make_clips(items: tuple[Paused, ...]) -> tuple[list[Clip], list[str]]:
    """The paused clips, and Whisper's transcript of each first part (to check the cuts)."""
    from shared.speech.models import tiny_en_dir  # noqa: PLC0415 (heavy)
    from shared.speech.whisper_stt import WhisperStt  # noqa: PLC0415

    voice = AlignedVoice()
    clips = []
    for item in items:
        whole, gaps = voice.speak(item.text)
        gap_ms = gaps[voice.gaps_in(item.cut_after) - 1]
        levels = speech_levels(whole)  # the quietest 20 ms frame within 40 ms of the gap
        near = range(max(0, int(gap_ms - 40) // FRAME_MS), min(len(levels), int(gap_ms + 40) // FRAME_MS + 1))
        at = min(near, key=lambda index: levels[index]) * FRAME_BYTES + FRAME_BYTES // 2
        pcm = trim_trailing_silence(whole[:at] + bytes(item.pause_ms * BYTES_PER_MS) + whole[at:])
        first_ms = at / BYTES_PER_MS
        clips.append(Clip(item, pcm, first_ms, first_ms + item.pause_ms))
    stt = WhisperStt({"en": tiny_en_dir()}, cpu_threads=2)

    async def heard() -> list[str]:
        return [
            (await stt.transcribe(clip.pcm[: int(clip.first_ms) * BYTES_PER_MS], lang="en-US")).text
            for clip in clips
        ]

    try:
        return clips, asyncio.run(heard())
    finally:
        stt.close()


def human_messages(stack: LocalStack) -> int:
    call = stored_call(stack, CALLER)
    return 0 if call is None else sum(1 for m in call.messages if m.persona is Persona.HUMAN)


def play(stack: LocalStack, connection: str, clip: Clip) -> dict[str, Any]:
    """Say one paused clip; what the phone played around it and when the answer came."""
    simulator = simulator_of(stack)
    wait_bot_quiet(simulator, connection)
    before = human_messages(stack)
    said_at = time.monotonic()
    samples: list[tuple[float, int]] = [(said_at, heard_bytes(simulator, connection))]
    simulator.say(connection, clip.pcm)
    end = None
    while time.monotonic() - said_at < 30:
        samples.append((time.monotonic(), heard_bytes(simulator, connection)))
        if end is None:
            end = wait_event(simulator, connection, TimelineKind.CALLER_SPEECH_END, after=said_at, timeout=0)
        elif time.monotonic() - end.at > 4:
            break
        time.sleep(0.005)
    start = wait_event(simulator, connection, TimelineKind.CALLER_SPEECH_START, after=said_at, timeout=1)
    if start is None or end is None:
        return {"error": "the phone never played the clip"}

    def heard_at(at: float) -> int:
        return max((size for when, size in samples if when <= at), default=0)

    last_part_at = start.at + clip.last_part_ms / 1000
    stop = wait_event(simulator, connection, TimelineKind.STOP_AUDIO, after=last_part_at, timeout=0)
    first = wait_event(simulator, connection, TimelineKind.BOT_AUDIO_FIRST_FRAME, after=end.at, timeout=10)
    wait_bot_quiet(simulator, connection)
    split = human_messages(stack) - before > 1
    before_ms = (heard_at(last_part_at) - heard_at(start.at)) / BYTES_PER_MS
    over_end = min(stop.at if stop is not None else end.at, end.at)
    over_ms = (heard_at(over_end) - heard_at(last_part_at)) / BYTES_PER_MS
    if clip.item.kind == "complete":
        premature = split or over_ms > MAX_HEARD_OVER_CONTINUATION_MS
    else:
        premature = split or before_ms > 0
    return {
        "bot_ms_before_last_part": round(before_ms),
        "bot_ms_over_continuation": round(over_ms),
        "split": split,
        "premature": premature,
        "latency_ms": None if first is None else round((first.at - end.at) * 1000, 1),
    }


def run_paused(stack: LocalStack, clips: list[Clip]) -> list[dict[str, Any]]:
    connection = ring(stack, CALLER)
    try:
        wait_bot_quiet(simulator_of(stack), connection)  # the greeting
        return [play(stack, connection, clip) for clip in clips]
    finally:
        simulator_of(stack).hang_up_as_caller(connection)


def run_config(name: str, clips: list[Clip], complete: list[bytes]) -> dict[str, Any]:
    contention = Contention()
    started = time.monotonic()
    with scripted_llm_stack(ANSWER, **CONFIGS[name]) as stack:
        paused = run_paused(stack, clips)
        complete_latencies = run_complete_call(stack, complete)[1:]  # the first one warms up
    unfinished = [row for row, clip in zip(paused, clips, strict=True) if clip.item.kind != "complete"]
    continued = [row for row, clip in zip(paused, clips, strict=True) if clip.item.kind == "complete"]
    return {
        "config": name,
        "flags": CONFIGS[name],
        "paused": paused,
        "premature_unfinished": sum(1 for row in unfinished if row.get("premature", True)),
        "premature_complete": sum(1 for row in continued if row.get("premature", True)),
        "paused_latency": summary([row["latency_ms"] for row in paused if row.get("latency_ms") is not None]),
        "complete_latency": summary([value for value in complete_latencies if value is not None]),
        "complete_missed": sum(1 for value in complete_latencies if value is None),
        "wall_s": round(time.monotonic() - started, 1),
        "other_processes_cores": contention.others_cores(),
        "load_average": machine()["load_average"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--configs", default="rules+model,rules,before", help=f"among {', '.join(CONFIGS)}")
    parser.add_argument("--complete", type=int, default=12, help="complete sentences (after one warm-up)")
    parser.add_argument("--cuts-only", action="store_true", help="only make the clips and print the cuts")
    args = parser.parse_args()
    names = [name.strip() for name in args.configs.split(",") if name.strip()]
    if unknown := [name for name in names if name not in CONFIGS]:
        parser.error(f"unknown configuration(s): {', '.join(unknown)}")

    clips, first_parts = make_clips(PAUSED)
    if args.cuts_only:
        for clip, heard in zip(clips, first_parts, strict=True):
            print(f"{clip.first_ms:>6.0f} ms {heard!r:<50} | {clip.item.text}")
        return 0
    complete = [
        trim_trailing_silence(pcm)
        for pcm in synthesize(["Hello, can you hear me?", *sentences(args.complete)])
    ]
    results = [run_config(name, clips, complete) for name in names]

    print(f"{'#':>3} {'kind':<12} {'pause':>5} " + "".join(f"{name[:22]:>24}" for name in names), end="")
    print(
        "   (bot ms before the last part, or over the continuation / latency ms) first part heard | sentence"
    )
    for index, (clip, heard) in enumerate(zip(clips, first_parts, strict=True)):
        cells = ""
        for result in results:
            row = result["paused"][index]
            if "error" in row:
                cells += f"{'error':>24}"
                continue
            key = "bot_ms_over_continuation" if clip.item.kind == "complete" else "bot_ms_before_last_part"
            mark = "PREMATURE" if row["premature"] else "ok"
            cells += f"{mark:>10} {row[key]:>5}/{cell(row['latency_ms'], 6)}"
        print(
            f"{index + 1:>3} {clip.item.kind:<12} {clip.item.pause_ms:>5} {cells}"
            f"   {heard!r} | {clip.item.text}"
        )
    continued = sum(1 for clip in clips if clip.item.kind == "complete")
    for result in results:
        print(
            f"\n{result['config']}: premature {result['premature_unfinished']}/{len(clips) - continued}"
            f" unfinished, {result['premature_complete']}/{continued} complete-then-continued;"
            f" paused set latency {result['paused_latency']};"
            f" complete set latency {result['complete_latency']} (missed {result['complete_missed']});"
            f" others {result['other_processes_cores']} cores, load {result['load_average']}"
        )
    print(
        json.dumps(
            {
                "benchmark": "paused_callers",
                "results": results,
                "first_parts": first_parts,
                "machine": machine(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
