"""Piper and espeak-ng text-to-speech, and the language routing between them."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest

from shared.speech.audio import rms_dbfs
from shared.speech.base import SpeechError, TextToSpeech
from shared.speech.espeak_tts import EspeakTts
from shared.speech.piper_tts import PiperTts
from shared.speech.routing import LanguageRoutedTts, language_family
from tests.speech.conftest import collect, record

SHORT = "Thank you for calling, how can I help you today?"
SHORT_FR = "Merci de votre appel, comment puis-je vous aider aujourd'hui ?"


def test_language_family() -> None:
    assert language_family("en-US") == "en"
    assert language_family("fr_FR") == "fr"
    assert language_family(" FR ") == "fr"
    with pytest.raises(SpeechError):
        language_family("")


async def test_piper_speaks_16khz_audio_early(piper: PiperTts, english_pcm: bytes) -> None:
    engine: TextToSpeech = piper
    assert engine.supports("en-US") and not engine.supports("fr-FR")
    seconds = len(english_pcm) / 32_000
    assert 2.5 < seconds < 8.0  # a ~15-word sentence at 16 kHz, not at the voice's 22.05 kHz
    assert rms_dbfs(english_pcm) > -30
    pcm, first = await collect(piper.synthesize(SHORT, lang="en-US"))
    record("piper first chunk (short sentence, warm)", first, f"{len(pcm) / 32:.0f} ms of audio")
    two, _ = await collect(piper.synthesize(f"{SHORT} {SHORT}", lang="en-US"))
    assert len(two) > 1.6 * len(pcm)


async def test_piper_speed_shortens_audio(steady_piper: PiperTts) -> None:
    piper = steady_piper  # the voice's random durations move a length by up to ~8 % between runs
    normal, _ = await collect(piper.synthesize(SHORT, lang="en-US"))
    fast, _ = await collect(piper.synthesize(SHORT, lang="en-US", speed=1.5))
    slow, _ = await collect(piper.synthesize(SHORT, lang="en-US", speed=0.75))
    # length_scale = 1/speed, but VITS rounds each phoneme up to whole frames: 1.5x ~0.76x, 0.75x ~1.15x
    assert len(fast) < 0.9 * len(normal)
    assert len(slow) > 1.1 * len(normal)
    with pytest.raises(SpeechError, match="speed"):
        await collect(piper.synthesize(SHORT, lang="en-US", speed=0))


async def test_piper_unsupported_language_and_empty_text(piper: PiperTts) -> None:
    with pytest.raises(SpeechError, match=r"no piper voice for 'fr-FR'"):
        await collect(piper.synthesize("Bonjour", lang="fr-FR"))
    assert (await collect(piper.synthesize("   ", lang="en-US")))[0] == b""


async def test_piper_stops_when_the_caller_stops_listening(piper: PiperTts) -> None:
    chunks = piper.synthesize(f"{SHORT} {SHORT} {SHORT}", lang="en-US")
    async with contextlib.aclosing(chunks):
        first = await anext(chunks)
    assert first


async def test_espeak_speaks_french_early(espeak: EspeakTts, french_pcm: bytes) -> None:
    assert espeak.supports("fr-FR") and espeak.supports("de-DE") and not espeak.supports("xx-XX")
    assert 1.5 < len(french_pcm) / 32_000 < 8.0
    assert rms_dbfs(french_pcm) > -35
    pcm, first = await collect(espeak.synthesize(SHORT_FR, lang="fr-FR"))
    record("espeak-ng first chunk (short sentence)", first, f"{len(pcm) / 32:.0f} ms of audio")
    fast, _ = await collect(espeak.synthesize(SHORT_FR, lang="fr-FR", speed=1.5))
    assert len(fast) < 0.8 * len(pcm)
    assert espeak.words_per_minute(1.5) == 262


async def test_espeak_errors() -> None:
    with pytest.raises(SpeechError, match=r"no espeak-ng voice for 'xx-XX'"):
        await collect(EspeakTts().synthesize("hello", lang="xx-XX"))
    with pytest.raises(SpeechError, match="apt-get install espeak-ng"):
        await collect(EspeakTts(executable="/nonexistent/espeak-ng").synthesize("bonjour", lang="fr"))
    with pytest.raises(SpeechError, match="espeak-ng failed"):
        await collect(EspeakTts().synthesize("bonjour", lang="fr", voice="nope"))
    with pytest.raises(SpeechError, match="voice name"):
        await collect(EspeakTts().synthesize("bonjour", lang="fr", voice="--help"))


async def test_espeak_early_stop_ends_the_process(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[asyncio.subprocess.Process] = []
    spawn = asyncio.create_subprocess_exec

    async def spy(*args, **kwargs):
        process = await spawn(*args, **kwargs)
        started.append(process)
        return process

    monkeypatch.setattr(asyncio, "create_subprocess_exec", spy)
    chunks = EspeakTts().synthesize(" ".join([SHORT_FR] * 20), lang="fr-FR")
    async with contextlib.aclosing(chunks):
        assert await anext(chunks)
    assert len(started) == 1 and started[0].returncode is not None


async def test_routing_picks_piper_for_english_and_espeak_otherwise(
    piper: PiperTts, espeak: EspeakTts
) -> None:
    routed = LanguageRoutedTts({"en": piper}, default=espeak)
    engine: TextToSpeech = routed
    assert routed.engine_for("en-GB") is piper
    assert routed.engine_for("fr-FR") is espeak
    assert engine.supports("en-US") and engine.supports("fr-FR") and not engine.supports("xx-XX")
    start = time.perf_counter()
    pcm, _ = await collect(routed.synthesize("Au revoir.", lang="fr-FR"))
    assert pcm and time.perf_counter() - start < 5
    english_only = LanguageRoutedTts({"en": piper})
    assert not english_only.supports("fr-FR")
    with pytest.raises(SpeechError, match=r"no text-to-speech engine for 'fr-FR'"):
        english_only.synthesize("Bonjour", lang="fr-FR")
