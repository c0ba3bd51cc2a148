"""Offline Whisper: English (tiny.en) and French (multilingual base), errors, no network."""

from __future__ import annotations

import asyncio
import re
import socket
import time
import unicodedata
from pathlib import Path

import pytest

from shared.speech.base import SpeechError, SpeechToText
from shared.speech.models import tiny_en_dir
from shared.speech.whisper_stt import ANY_LANGUAGE, WhisperStt, _looping
from tests.speech.conftest import record


def words(text: str) -> set[str]:
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return set(re.findall(r"[a-z]+", folded))


async def timed_transcribe(stt: WhisperStt, pcm: bytes, lang: str) -> tuple[str, float]:
    start = time.perf_counter()
    transcript = await stt.transcribe(pcm, lang=lang)
    assert transcript.lang == lang
    assert transcript.duration_ms == pytest.approx(len(pcm) / 32)
    return transcript.text, time.perf_counter() - start


async def test_english_round_trip(stt: WhisperStt, english_pcm: bytes) -> None:
    engine: SpeechToText = stt
    assert engine.supports("en-US")
    text, seconds = await timed_transcribe(stt, english_pcm, "en-US")
    record("whisper tiny.en transcription", seconds, f"{len(english_pcm) / 32:.0f} ms of speech: {text!r}")
    heard = words(text)
    expected = {"name", "john", "smith", "email", "example"}
    assert len(expected & heard) >= 4, text
    assert text == text.strip()


async def test_french_round_trip(stt: WhisperStt, french_pcm: bytes) -> None:
    text, seconds = await timed_transcribe(stt, french_pcm, "fr-FR")
    record(
        "whisper base transcription (French)", seconds, f"{len(french_pcm) / 32:.0f} ms of speech: {text!r}"
    )
    heard = words(text)
    assert {"jean", "petit", "paris"} <= heard, text


async def test_concurrent_transcriptions_share_the_model(stt: WhisperStt, english_pcm: bytes) -> None:
    clip = english_pcm[: 16_000 * 2 * 2]  # "My name is John Smith"
    loaded = len(stt._loaded)
    start = time.perf_counter()
    first, second = await asyncio.gather(
        stt.transcribe(clip, lang="en-US"), stt.transcribe(clip, lang="en-GB")
    )
    record("whisper tiny.en, two 2 s clips at once", time.perf_counter() - start, f"{first.text!r}")
    assert first.text == second.text
    assert {"john", "smith"} <= words(first.text)
    assert len(stt._loaded) == loaded


def test_other_languages_use_the_multilingual_model(stt: WhisperStt) -> None:
    loaded = len(stt._loaded)
    assert stt.supports("de-DE") and stt.supports("es")
    stt.load("de-DE")  # "*" is the same base model as "fr": nothing new is loaded
    assert len(stt._loaded) == loaded
    assert not stt.supports("xx-XX")


async def test_unsupported_language_is_a_clear_error(stt: WhisperStt) -> None:
    english_only = WhisperStt({"en": tiny_en_dir()})
    assert not english_only.supports("fr-FR")
    with pytest.raises(SpeechError, match=r"no speech-to-text model for 'fr-FR'.*WhisperStt\(models="):
        await english_only.transcribe(b"\x00\x00" * 1600, lang="fr-FR")
    with pytest.raises(SpeechError, match="not a language tag"):
        await stt.transcribe(b"", lang="")
    english_only.close()


async def test_empty_audio_and_broken_model(tmp_path: Path, stt: WhisperStt) -> None:
    assert (await stt.transcribe(b"", lang="en-US")).text == ""
    broken = WhisperStt({"en": tmp_path})
    with pytest.raises(SpeechError, match=r"lacks model\.bin"):
        await broken.transcribe(b"\x00\x00" * 1600, lang="en")
    broken.close()


def test_unknown_model_name_is_not_downloaded() -> None:
    """A model name that is not a directory is looked up in the local cache only."""
    stt = WhisperStt({ANY_LANGUAGE: "Systran/faster-whisper-tiny-not-there"})
    with pytest.raises(SpeechError, match="cannot load the whisper model"):
        stt.load("de")
    stt.close()


async def test_no_network_during_load_and_transcription(
    monkeypatch: pytest.MonkeyPatch, english_pcm: bytes
) -> None:
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError(f"network access attempted: {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    stt = WhisperStt({"en": tiny_en_dir()})  # a fresh engine: loading happens under the patch too
    transcript = await stt.transcribe(english_pcm[: 16_000 * 2 * 2], lang="en-US")
    stt.close()
    assert "john" in words(transcript.text)
    assert attempts == []


async def test_a_short_utterance_decodes_on_a_short_window_like_the_full_one(
    stt: WhisperStt, english_pcm: bytes, french_pcm: bytes, whisper_base: Path
) -> None:
    full = WhisperStt(
        {"en": tiny_en_dir(), "fr": whisper_base}, cpu_threads=2, windows_sec=()
    )  # faster-whisper's own 30 s path
    try:
        for pcm, lang in ((english_pcm[: 16_000 * 2 * 4], "en-US"), (french_pcm[: 16_000 * 2 * 6], "fr-FR")):
            assert stt._window(len(pcm) / 32_000) == 10.0
            assert full._window(len(pcm) / 32_000) is None
            short_text = (await stt.transcribe(pcm, lang=lang)).text
            full_text = (await full.transcribe(pcm, lang=lang)).text
            assert short_text and len(words(short_text) & words(full_text)) >= 0.8 * len(words(full_text)), (
                short_text,
                full_text,
            )
    finally:
        full.close()


def test_long_audio_and_sampling_take_the_full_window(whisper_base: Path) -> None:
    stt = WhisperStt({"en": tiny_en_dir()}, windows_sec=(10.0, 20.0))
    sampling = WhisperStt({"en": tiny_en_dir()}, temperature=(0.0, 0.4))
    try:
        assert stt._window(8.9) == 10.0
        assert stt._window(9.5) == 20.0  # the speech and 1 s of silence after it must fit
        assert stt._window(19.5) is None
        assert sampling._window(2.0) is None
    finally:
        stt.close()
        sampling.close()
    with pytest.raises(ValueError, match="short window"):
        WhisperStt({"en": tiny_en_dir()}, windows_sec=(30.0,))


@pytest.mark.parametrize(
    ("text", "looping"),
    [
        ("Excuse me. Excuse me. Excuse me.", True),
        ("My name is John Smith. My name is John Smith.", True),
        ("Excuse me, excuse me.", False),
        ("Yes. No. Yes.", False),
        ("My name is John Smith.", False),
    ],
)
def test_a_looping_short_window_decode_is_recognised(text: str, looping: bool) -> None:
    assert _looping(text) is looping
