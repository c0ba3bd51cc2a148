"""Offline text-to-speech with piper (ONNX voices). Each voice loads once and is shared by every
call; synthesis runs in a worker thread and each sentence's audio is yielded as soon as piper has
made it, resampled from the voice's rate to 16 kHz."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncGenerator, Generator, Mapping
from pathlib import Path

from piper import PiperVoice, SynthesisConfig

from shared.speech.audio import StreamResampler
from shared.speech.base import SAMPLE_RATE, SpeechError
from shared.speech.routing import language_family

__all__ = ["PiperTts"]

_MIN_SPEED, _MAX_SPEED = 0.25, 4.0
_END = object()


class PiperTts:
    """A `TextToSpeech` with one piper voice per language family (`.onnx`, config `.onnx.json` next
    to it). `voice`, when given, names another key of `voices` (e.g. a second English voice).

    `steady=True` turns off the voice's random variation (noise scales 0): the same text always gives
    the same audio, which a scripted caller wants so that a scenario hears the same thing each run."""

    def __init__(self, voices: Mapping[str, Path | str], *, steady: bool = False) -> None:
        if not voices:
            raise ValueError("PiperTts needs at least one voice")
        self._voices = {key.lower(): Path(path) for key, path in voices.items()}
        self._loaded: dict[Path, PiperVoice] = {}
        self._lock = threading.Lock()
        self._steady = steady

    @property
    def families(self) -> list[str]:
        return sorted(self._voices)

    def supports(self, lang: str) -> bool:
        return language_family(lang) in self._voices

    def _path(self, lang: str, voice: str | None) -> Path:
        if voice is not None and voice.lower() in self._voices:
            return self._voices[voice.lower()]
        path = self._voices.get(language_family(lang))
        if path is None:
            raise SpeechError(
                f"no piper voice for {lang!r} (voices: {', '.join(self.families)}); add one to "
                "PiperTts(voices={family: path to .onnx})"
            )
        return path

    def load(self, lang: str, voice: str | None = None) -> PiperVoice:
        """The loaded voice for `lang` (loading it now, blocking, if needed)."""
        path = self._path(lang, voice)
        with self._lock:
            loaded = self._loaded.get(path)
            if loaded is None:
                config = path.with_name(path.name + ".json")
                if not path.is_file() or not config.is_file():
                    raise SpeechError(f"piper voice {path} or its config {config.name} is missing")
                try:
                    loaded = PiperVoice.load(path, config_path=config)
                except Exception as exc:  # onnxruntime and json errors
                    raise SpeechError(f"cannot load the piper voice {path}: {exc}") from exc
                self._loaded[path] = loaded
            return loaded

    async def synthesize(
        self, text: str, *, lang: str, voice: str | None = None, speed: float = 1.0
    ) -> AsyncGenerator[bytes, None]:
        if not _MIN_SPEED <= speed <= _MAX_SPEED:
            raise SpeechError(f"speed must be within {_MIN_SPEED}..{_MAX_SPEED}, got {speed}")
        self._path(lang, voice)  # fail fast on an unknown language
        if not text.strip():
            return
        piper_voice = await asyncio.to_thread(self.load, lang, voice)
        # length_scale > 1 is slower: scale the voice's own default by 1/speed.
        syn_config = SynthesisConfig(length_scale=piper_voice.config.length_scale / speed)
        if self._steady:
            syn_config.noise_scale = syn_config.noise_w_scale = 0.0
        resampler = StreamResampler(piper_voice.config.sample_rate, SAMPLE_RATE)
        chunks = _chunks(piper_voice, text, syn_config)
        try:
            while True:
                pcm = await asyncio.to_thread(next, chunks, _END)
                if not isinstance(pcm, bytes):  # _END
                    break
                out = resampler.process(pcm)
                if out:
                    yield out
            tail = resampler.flush()
            if tail:
                yield tail
        finally:
            with contextlib.suppress(ValueError):  # still running in a cancelled worker thread
                chunks.close()


def _chunks(voice: PiperVoice, text: str, syn_config: SynthesisConfig) -> Generator[bytes, None, None]:
    """Piper's audio, one sentence at a time, as PCM16 at the voice's rate."""
    try:
        for chunk in voice.synthesize(text, syn_config=syn_config):
            yield chunk.audio_int16_bytes
    except Exception as exc:  # onnxruntime and phonemizer errors
        raise SpeechError(f"piper failed: {exc}") from exc
