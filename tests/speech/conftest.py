"""Real speech engines, each loaded once per test session, and the clips they make, shared by the
speech tests. Timings are collected in `TIMINGS` and printed at the end of the run (not asserted)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # before faster-whisper (huggingface_hub) is imported
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"

from shared.speech.espeak_tts import EspeakTts
from shared.speech.models import piper_voice_path, tiny_en_dir, whisper_base_dir
from shared.speech.piper_tts import PiperTts
from shared.speech.vad import SileroVadEngine
from shared.speech.whisper_stt import ANY_LANGUAGE, WhisperStt

ENGLISH = "My name is John Smith and my email is john dot smith at example dot com."
# espeak-ng's French "Dupont" comes out of Whisper base as "Poupe"/"Boubou"; "Petit" survives.
FRENCH = "Bonjour, je m'appelle Jean Petit et j'habite à Paris."
FRENCH_WORD_GAP_MS = 50  # espeak-ng's words run together for Whisper base without a short gap

TIMINGS: dict[str, str] = {}


def record(name: str, seconds: float, note: str = "") -> None:
    TIMINGS[name] = f"{1000 * seconds:10.2f} ms" + (f"  ({note})" if note else "")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TIMINGS:
        terminalreporter.section("speech engine timings (measured, not asserted)")
        for name, value in TIMINGS.items():
            terminalreporter.write_line(f"{name:<48} {value}")


async def collect(chunks: AsyncIterator[bytes]) -> tuple[bytes, float]:
    """All the audio, and the seconds until the first chunk."""
    start = time.perf_counter()
    first = 0.0
    out = bytearray()
    async for chunk in chunks:
        if not out:
            first = time.perf_counter() - start
        out += chunk
    return bytes(out), first


@pytest.fixture(scope="session")
def whisper_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    start = time.perf_counter()
    path = whisper_base_dir(tmp_path_factory.mktemp("models") / "whisper-base")
    record("whisper base assembly (first time)", time.perf_counter() - start, "copy 145 MB")
    return path


@pytest.fixture(scope="session")
def stt(whisper_base: Path) -> Iterator[WhisperStt]:
    engine = WhisperStt({"en": tiny_en_dir(), "fr": whisper_base, ANY_LANGUAGE: whisper_base}, cpu_threads=2)
    start = time.perf_counter()
    engine.load("en")
    record("load whisper tiny.en", time.perf_counter() - start)
    start = time.perf_counter()
    engine.load("fr")
    record("load whisper base (multilingual)", time.perf_counter() - start)
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def piper() -> PiperTts:
    engine = PiperTts({"en": piper_voice_path()})
    start = time.perf_counter()
    engine.load("en-US")
    record("load piper en_US-joe-medium", time.perf_counter() - start)
    return engine


@pytest.fixture(scope="session")
def steady_piper() -> PiperTts:
    """The same voice without its random variation: one text, one length (for length comparisons)."""
    return PiperTts({"en": piper_voice_path()}, steady=True)


@pytest.fixture(scope="session")
def espeak() -> EspeakTts:
    return EspeakTts(word_gap_ms=FRENCH_WORD_GAP_MS)


@pytest.fixture(scope="session")
def vad_engine() -> SileroVadEngine:
    start = time.perf_counter()
    engine = SileroVadEngine()
    record("load silero VAD engine (first detector)", time.perf_counter() - start)
    return engine


@pytest.fixture(scope="session")
def english_pcm(piper: PiperTts) -> bytes:
    pcm, first = asyncio.run(collect(piper.synthesize(ENGLISH, lang="en-US")))
    record("piper first chunk (first sentence)", first, f"{len(pcm) / 32:.0f} ms of audio")
    return pcm


@pytest.fixture(scope="session")
def french_pcm(espeak: EspeakTts) -> bytes:
    pcm, first = asyncio.run(collect(espeak.synthesize(FRENCH, lang="fr-FR")))
    record("espeak-ng first chunk (first sentence)", first, f"{len(pcm) / 32:.0f} ms of audio")
    return pcm
