"""How well the product's French speech-to-text (Whisper base) hears an offline French caller voice.

Every line a French-speaking caller says in the shipped scenarios (`scenarios/*.yaml` with a French
`lang`) is spoken by each candidate voice, transcribed by the product's `WhisperStt` (the offline
defaults: the multilingual base model for French), and compared word by word with what was said.
Prints, per voice, the word accuracy (1 - word error rate) and the lines heard exactly, then the
worst lines of each voice.

Both sides are normalised the same way before the comparison: lower case, accents and punctuation
off, numbers said in words as digits (the project's `words_to_digits`), digits run together ("06 12"
and "zéro six, douze" both "0612"), and "@" / "." inside an address as "arobase" / "point".

    .venv/bin/python -m bench.french_caller_voice                    # every voice below
    .venv/bin/python -m bench.french_caller_voice --voice espeak-ng  # one of them
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from shared.claim.spoken import words_to_digits
from shared.speech.base import SAMPLE_RATE, SAMPLE_WIDTH, TextToSpeech
from shared.speech.espeak_tts import EspeakTts
from shared.speech.whisper_stt import WhisperStt, default_models

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the local models are installed packages: never download

REPO = Path(__file__).resolve().parents[1]
LANG = "fr-FR"
_LEAD_SILENCE = bytes(SAMPLE_RATE * SAMPLE_WIDTH // 5)  # 200 ms before and after, as on a phone line


@dataclass(frozen=True)
class Voice:
    name: str
    make: Callable[[], TextToSpeech]
    voice: str | None = None


VOICES: tuple[Voice, ...] = (
    Voice("espeak-ng", lambda: EspeakTts(word_gap_ms=50)),  # the scenario runner's French caller
    Voice("espeak-ng 140 wpm", lambda: EspeakTts(wpm=140, word_gap_ms=50)),
    Voice("espeak-ng 200 wpm", lambda: EspeakTts(wpm=200, word_gap_ms=50)),
    Voice("espeak-ng no word gap", EspeakTts),
    # A variant needs the bare language ("fr+f3"): espeak-ng ignores it after "fr-fr".
    Voice("espeak-ng +f3", lambda: EspeakTts(word_gap_ms=50), voice="fr+f3"),
    Voice("espeak-ng +m3", lambda: EspeakTts(word_gap_ms=50), voice="fr+m3"),
    Voice("espeak-ng +klatt4", lambda: EspeakTts(word_gap_ms=50), voice="fr+klatt4"),
)


def french_lines(folder: Path = REPO / "scenarios") -> list[str]:
    """The caller lines (`say`, `barge_in`) of the scenarios whose caller speaks French."""
    lines: list[str] = []
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not str(data.get("lang", "")).lower().startswith("fr"):
            continue
        for step in data.get("steps", []):
            for key in ("say", "barge_in"):
                if isinstance(step.get(key), str) and step[key] not in lines:
                    lines.append(step[key])
    return lines


_ADDRESS = re.compile(r"\S+@\S+")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_DIGIT_GAP = re.compile(r"(?<=\d) (?=\d)")


def normalise(text: str) -> list[str]:
    text = _ADDRESS.sub(lambda m: m.group(0).replace("@", " arobase ").replace(".", " point "), text)
    text = words_to_digits(text.lower().replace("-", " "))
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = _NON_WORD.sub(" ", text.lower()).strip()
    return _DIGIT_GAP.sub("", text).split()


def word_errors(said: Sequence[str], heard: Sequence[str]) -> int:
    """Substitutions + deletions + insertions (Levenshtein over words)."""
    row = list(range(len(heard) + 1))
    for i, word in enumerate(said, 1):
        previous, row[0] = row[0], i
        for j, other in enumerate(heard, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (word != other))
    return row[-1]


async def _speak(tts: TextToSpeech, text: str, voice: str | None) -> bytes:
    pcm = b"".join([chunk async for chunk in tts.synthesize(text, lang=LANG, voice=voice)])
    return _LEAD_SILENCE + pcm + _LEAD_SILENCE


async def measure(voice: Voice, stt: WhisperStt, lines: Sequence[str]) -> None:
    tts = voice.make()
    errors = words = exact = 0
    worst: list[tuple[int, str, str]] = []
    started = time.monotonic()
    for line in lines:
        heard = (await stt.transcribe(await _speak(tts, line, voice.voice), lang=LANG)).text
        said_words, heard_words = normalise(line), normalise(heard)
        wrong = word_errors(said_words, heard_words)
        errors, words, exact = errors + wrong, words + len(said_words), exact + (wrong == 0)
        if wrong:
            worst.append((wrong, line, heard))
    accuracy = 100.0 * (1 - errors / words)
    print(
        f"{voice.name}: word accuracy {accuracy:.1f}% ({errors} errors / {words} words), "
        f"lines exact {exact}/{len(lines)}, {time.monotonic() - started:.0f} s"
    )
    for wrong, line, heard in sorted(worst, reverse=True)[:6]:
        print(f"    {wrong} | {line!r} -> {heard!r}")


async def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--voice", action="append", help="only this voice (repeatable)")
    args = parser.parse_args(argv)
    chosen = [v for v in VOICES if not args.voice or v.name in args.voice]
    if not chosen:
        parser.error(f"no such voice; known: {', '.join(v.name for v in VOICES)}")
    lines = french_lines()
    print(f"{len(lines)} French caller lines; load {os.getloadavg()[0]:.1f}")
    stt = WhisperStt(default_models())
    try:
        for voice in chosen:
            await measure(voice, stt, lines)
    finally:
        stt.close()


if __name__ == "__main__":
    asyncio.run(main())
