"""Offline: does another Whisper decoding keep the short last word of a half-finished utterance?

The paused callers' unfinished cuts (`bench.paused_callers.PAUSED`) end on a short word ("I would like
to know if", "You can reach me at"); when Whisper drops it the transcript looks finished ("I would
like to know.") and the end-of-turn decision may answer. Each first part, followed by 96 ms of
silence (what the speculative pause hands over), shifted by a few ms of leading silence as on a live
call (`--phases`), is decoded with each setting of `--settings`: the short window (`w10`, as the
media host), a wider beam on it, greedy, or faster-whisper's 30 s path (`w0`). Per setting: how
many first parts keep their last word with no final period, and how many of the complete sentences
of `bench.voice_latency` come out word for word, with the median decode time.

    .venv/bin/python -m bench.pause_decoding [--phases 0,7,13,19,26] [--settings w10b3,w10b5,w10b1,w0b3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import time
from typing import Any

from bench.common import machine, synthesize, trim_trailing_silence
from bench.paused_callers import BYTES_PER_MS, PAUSED, make_clips
from bench.voice_latency import sentences
from shared.speech.models import tiny_en_dir
from shared.speech.whisper_stt import WhisperStt

PAUSE_TAIL_MS = 96


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def parse_setting(name: str) -> tuple[int, int]:
    """`w10b3` -> (10 s window, beam 3); `w0` is faster-whisper's 30 s path."""
    found = re.fullmatch(r"w(\d+)b(\d+)", name)
    if found is None:
        raise SystemExit(f"bench.pause_decoding: a setting is wNbM (window s, beam), got {name!r}")
    return int(found[1]), int(found[2])


async def decode_all(stt: WhisperStt, clips: list[bytes]) -> tuple[list[str], list[float]]:
    texts, times = [], []
    for pcm in clips:
        started = time.perf_counter()
        texts.append((await stt.transcribe(pcm, lang="en-US")).text.strip())
        times.append(1000 * (time.perf_counter() - started))
    return texts, times


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--phases", default="0,7,13,19,26", help="ms of leading silence, one pass each")
    parser.add_argument("--settings", default="w10b3,w10b5,w10b1,w0b3", help="decodings to compare")
    args = parser.parse_args()
    settings = [(name, *parse_setting(name)) for name in args.settings.split(",")]
    clips, _heard = make_clips(PAUSED)
    cuts = [clip for clip in clips if clip.item.kind != "complete"]
    parts, last_words = [], []
    for phase in (int(ms) for ms in args.phases.split(",")):
        for clip in cuts:
            end = int(clip.first_ms + PAUSE_TAIL_MS) * BYTES_PER_MS
            parts.append(bytes(phase * BYTES_PER_MS) + clip.pcm[:end])
            last_words.append(_words(clip.item.cut_after)[-1])
    complete_texts = sentences(12)
    complete = [
        trim_trailing_silence(pcm) + bytes(PAUSE_TAIL_MS * BYTES_PER_MS) for pcm in synthesize(complete_texts)
    ]
    rows: list[dict[str, Any]] = []
    for name, window, beam in settings:
        stt = WhisperStt(
            {"en": tiny_en_dir()},
            windows_sec=(window,) if window else (),
            window_beam_size=beam,
            beam_size=beam,
        )
        try:
            texts, times = asyncio.run(decode_all(stt, parts + complete))
        finally:
            stt.close()
        cut_texts, sentence_texts = texts[: len(parts)], texts[len(parts) :]
        kept = sum(
            bool(_words(text)) and _words(text)[-1] == last and not text.endswith(".")
            for text, last in zip(cut_texts, last_words, strict=True)
        )
        exact = sum(
            _words(got) == _words(want) for got, want in zip(sentence_texts, complete_texts, strict=True)
        )
        rows.append(
            {
                "setting": name,
                "last_word_kept": kept,
                "cuts": len(parts),
                "sentences_exact": exact,
                "sentences": len(complete),
                "decode_ms_p50": round(statistics.median(times)),
            }
        )
        print(
            f"{name:<8} last word kept {kept}/{len(parts)}, complete sentences word for word "
            f"{exact}/{len(complete)}, decode p50 {rows[-1]['decode_ms_p50']} ms"
        )
    print(json.dumps({"benchmark": "pause_decoding", "rows": rows, "machine": machine()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
