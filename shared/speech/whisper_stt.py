"""Offline speech-to-text with faster-whisper (CTranslate2), from local model directories only.

Models are configured per language family ("en", "fr", ...; "*" for any other language Whisper
knows). Each model loads lazily, once, and is shared by every call; decodes run on a small shared
thread pool whose size bounds the concurrent decodes to the cores.

Short windows: Whisper's encoder is trained on 30 s windows, and faster-whisper pads every utterance
to 30 s, so a 2 s phone answer costs as much encoder time as 30 s of speech (~300-400 ms on 2 cores,
most of the decode). CTranslate2 encodes shorter inputs, so an utterance that fits in one of
`windows_sec` (default 10 s, with at least 1 s of silence after it so the model sees the speech end)
is decoded on that window instead, with a small beam (`window_beam_size`, 3): greedy decoding on a
short window drops words the 30 s path keeps ("smith at example" heard "smithed example" in 5 of 8
frame alignments), the beam restores them for ~20 ms. ~2.5x faster here (see docs/performance.md).
Longer audio and sampling fallbacks take faster-whisper's own 30 s path, and so does a short-window
decode that loops (the same sentence twice in a row).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import ctranslate2  # type: ignore[import-untyped]
import numpy as np
from faster_whisper import WhisperModel  # type: ignore[import-untyped]
from faster_whisper.tokenizer import _LANGUAGE_CODES, Tokenizer  # type: ignore[import-untyped]

from shared.speech.base import SAMPLE_RATE, SAMPLE_WIDTH, SpeechError, Transcript
from shared.speech.models import tiny_en_dir, whisper_base_dir
from shared.speech.routing import language_family

__all__ = ["ANY_LANGUAGE", "MODELS_SETTING", "WhisperStt", "default_models"]

ANY_LANGUAGE = "*"
MODELS_SETTING = "WhisperStt(models={family: model directory})"
_WHISPER_LANGUAGES: frozenset[str] = frozenset(_LANGUAGE_CODES)


def default_models(whisper_base: Path | None = None) -> dict[str, str | Path]:
    """The offline defaults: tiny.en for English, the multilingual base for French and the rest.
    Assembles the base model into its cache folder on first use (see `shared.speech.models`)."""
    base = whisper_base_dir(whisper_base)
    return {"en": tiny_en_dir(), "fr": base, ANY_LANGUAGE: base}


def _max_tokens(seconds: float) -> int:
    """A bound on the tokens of `seconds` of speech (fast speech is ~5 tokens/s): a decode stuck
    repeating itself stops there instead of running to Whisper's 448 tokens."""
    return min(440, 24 + round(8 * seconds))


_TAIL_SEC = 1.0  # silence after the speech within a short window


def _decode_window(
    model: Any, samples: np.ndarray[Any, np.dtype[np.float32]], language: str, window: float, beam_size: int
) -> str | None:
    """Decode of `samples` padded with silence to `window` seconds (no timestamps); None
    when the model looped, for the caller to decode on the full window instead."""
    frames = round(window * SAMPLE_RATE / model.feature_extractor.hop_length)
    padded = np.zeros(round(window * SAMPLE_RATE), dtype=np.float32)
    padded[: samples.size] = samples
    features = model.feature_extractor(padded, padding=0)[:, :frames]
    tokenizer = Tokenizer(
        model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language=language
    )
    encoded = model.model.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None])))
    result = model.model.generate(
        encoded,
        [[*tokenizer.sot_sequence, tokenizer.no_timestamps]],
        beam_size=beam_size,
        max_length=_max_tokens(samples.size / SAMPLE_RATE),
        suppress_blank=True,
        suppress_tokens=[-1],
    )
    tokens = [token for token in result[0].sequences_ids[0] if token < tokenizer.eot]
    text = str(tokenizer.decode(tokens)).strip()
    return None if _looping(text) else text


def _looping(text: str) -> bool:
    """A short window can make Whisper repeat the utterance until its token budget runs out
    ("Excuse me. Excuse me. Excuse me."): the same sentence twice in a row."""
    sentences = [part.strip().lower() for part in re.split(r"(?<=[.?!])\s+", text) if part.strip()]
    return any(first == second for first, second in itertools.pairwise(sentences))


class WhisperStt:
    """A `SpeechToText`. `Transcript.duration_ms` is the duration of the audio transcribed.

    `temperature` 0 (the default) decodes greedily once: deterministic, and bounded latency on a
    phone line; a sequence such as (0.0, 0.4, 0.8) re-decodes with sampling when the text looks
    wrong (Whisper's fallback), which can triple the time of a bad utterance.
    """

    def __init__(
        self,
        models: Mapping[str, str | Path],
        *,
        compute_type: str = "int8",
        cpu_threads: int = 2,
        beam_size: int = 1,
        temperature: float | Sequence[float] = 0.0,
        max_concurrent: int | None = None,
        windows_sec: Sequence[float] = (10.0,),
        window_beam_size: int = 3,
    ) -> None:
        if cpu_threads < 1 or beam_size < 1 or window_beam_size < 1:
            raise ValueError("cpu_threads, beam_size and window_beam_size must be at least 1")
        self._models = {
            (ANY_LANGUAGE if family == ANY_LANGUAGE else language_family(family)): str(location)
            for family, location in models.items()
        }
        self._compute_type = compute_type
        self._cpu_threads = cpu_threads
        self._beam_size = beam_size
        self._temperature = temperature if isinstance(temperature, float | int) else list(temperature)
        self._workers = max_concurrent or max(1, (os.cpu_count() or 1) // cpu_threads)
        self._executor = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="whisper")
        if any(not _TAIL_SEC < window < 30.0 for window in windows_sec):
            raise ValueError(f"each short window must be over {_TAIL_SEC} s and under 30 s")
        self._windows = sorted(windows_sec)
        self._window_beam_size = window_beam_size
        self._loaded: dict[str, Any] = {}  # model location -> WhisperModel, shared across families
        self._load_lock = threading.Lock()

    def _location(self, lang: str) -> str:
        family = language_family(lang)
        if family in self._models:
            return self._models[family]
        if ANY_LANGUAGE in self._models and family in _WHISPER_LANGUAGES:
            return self._models[ANY_LANGUAGE]
        configured = ", ".join(sorted(self._models)) or "none"
        raise SpeechError(
            f"no speech-to-text model for {lang!r} (configured: {configured}); add a {family!r} "
            f"entry (or {ANY_LANGUAGE!r}) to {MODELS_SETTING}"
        )

    def supports(self, lang: str) -> bool:
        try:
            self._location(lang)
        except SpeechError:
            return False
        return True

    def load(self, lang: str) -> None:
        """Load the model for `lang` now (blocking) instead of on the first transcription."""
        self._model(self._location(lang))

    def _model(self, location: str) -> Any:
        model = self._loaded.get(location)
        if model is not None:
            return model
        with self._load_lock:
            model = self._loaded.get(location)
            if model is None:
                model = self._open(location)
                self._loaded[location] = model
            return model

    def _open(self, location: str) -> Any:
        path = Path(location).expanduser()
        if path.is_dir():
            missing = [
                name for name in ("model.bin", "config.json", "tokenizer.json") if not (path / name).is_file()
            ]
            if missing:
                # faster-whisper would fetch a missing tokenizer from the hub: refuse instead.
                raise SpeechError(f"whisper model {path} lacks {', '.join(missing)}")
            location = str(path)
        try:
            return WhisperModel(
                location,
                device="cpu",
                compute_type=self._compute_type,
                cpu_threads=self._cpu_threads,
                num_workers=self._workers,
                local_files_only=True,
            )
        except Exception as exc:  # CTranslate2 and huggingface_hub raise many kinds
            raise SpeechError(f"cannot load the whisper model {location!r}: {exc}") from exc

    def _window(self, seconds: float) -> float | None:
        """The short window for an utterance of `seconds`, if one applies (not with sampling fallbacks)."""
        if self._temperature not in (0, 0.0, [0.0], [0]):
            return None
        return next((window for window in self._windows if seconds + _TAIL_SEC <= window), None)

    def _decode(self, location: str, samples: np.ndarray[Any, np.dtype[np.float32]], family: str) -> str:
        model = self._model(location)
        language = family if model.model.is_multilingual else "en"
        window = self._window(samples.size / SAMPLE_RATE)
        if window is not None:
            text = _decode_window(model, samples, language, window, self._window_beam_size)
            if text is not None:
                return text
        segments, _info = model.transcribe(
            samples,
            language=language,
            beam_size=self._beam_size,
            vad_filter=False,
            condition_on_previous_text=False,
            without_timestamps=True,
            temperature=self._temperature,
            max_new_tokens=_max_tokens(samples.size / SAMPLE_RATE),
        )
        return " ".join(segment.text.strip() for segment in segments).strip()

    async def transcribe(self, pcm: bytes, *, lang: str) -> Transcript:
        location = self._location(lang)
        if len(pcm) % SAMPLE_WIDTH:
            raise SpeechError(f"PCM16 needs an even number of bytes, got {len(pcm)}")
        duration_ms = 1000.0 * len(pcm) / (SAMPLE_WIDTH * SAMPLE_RATE)
        if not pcm:
            return Transcript(text="", lang=lang, duration_ms=0.0)
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
        loop = asyncio.get_running_loop()
        try:
            text = await loop.run_in_executor(
                self._executor, self._decode, location, samples, language_family(lang)
            )
        except SpeechError:
            raise
        except Exception as exc:
            raise SpeechError(f"whisper failed on {lang!r} audio: {exc}") from exc
        return Transcript(text=text, lang=lang, duration_ms=duration_ms)

    def close(self) -> None:
        """Stop the decode threads (waits for running decodes)."""
        self._executor.shutdown(wait=True)
