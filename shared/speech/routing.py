"""Language helpers and the language-routed text-to-speech: one engine per language family
(piper for English, espeak-ng for the others by default), with a default for the rest."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from shared.speech.base import SpeechError, TextToSpeech

__all__ = ["LanguageRoutedTts", "language_family", "local_tts"]


def language_family(lang: str) -> str:
    """The language family of a BCP-47 tag: "en-US" -> "en", "fr_FR" -> "fr", "FR" -> "fr"."""
    family = lang.strip().replace("_", "-").split("-", 1)[0].lower()
    if not family:
        raise SpeechError(f"not a language tag: {lang!r}")
    return family


class LanguageRoutedTts:
    """A `TextToSpeech` delegating to the engine of the language's family, else to `default`."""

    def __init__(self, by_family: Mapping[str, TextToSpeech], default: TextToSpeech | None = None) -> None:
        self._by_family = {language_family(family): engine for family, engine in by_family.items()}
        self._default = default

    def engine_for(self, lang: str) -> TextToSpeech:
        engine = self._by_family.get(language_family(lang), self._default)
        if engine is None:
            known = ", ".join(sorted(self._by_family)) or "none"
            raise SpeechError(f"no text-to-speech engine for {lang!r} (configured families: {known})")
        return engine

    def supports(self, lang: str) -> bool:
        try:
            return self.engine_for(lang).supports(lang)
        except SpeechError:
            return False

    def synthesize(
        self, text: str, *, lang: str, voice: str | None = None, speed: float = 1.0
    ) -> AsyncIterator[bytes]:
        return self.engine_for(lang).synthesize(text, lang=lang, voice=voice, speed=speed)


def local_tts(
    piper_voices: Mapping[str, Path] | None = None, espeak_voices: Mapping[str, str] | None = None
) -> LanguageRoutedTts:
    """The offline default: piper for the families it has a voice for (English: the bundled joe
    voice), espeak-ng for every other language."""
    from shared.speech.espeak_tts import DEFAULT_ESPEAK_VOICES, EspeakTts  # noqa: PLC0415
    from shared.speech.models import piper_voice_path  # noqa: PLC0415
    from shared.speech.piper_tts import PiperTts  # noqa: PLC0415

    piper = PiperTts(piper_voices if piper_voices is not None else {"en": piper_voice_path()})
    espeak = EspeakTts(espeak_voices if espeak_voices is not None else DEFAULT_ESPEAK_VOICES)
    return LanguageRoutedTts(dict.fromkeys(piper.families, piper), default=espeak)
