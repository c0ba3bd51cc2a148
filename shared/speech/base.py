"""The speech ports. Inside the bot all audio is 16 kHz mono PCM16 little-endian (`SAMPLE_RATE`);
the media host converts at the edge when the telephony side uses another rate.

Engines (model weights) load once per process and are shared by every call; anything with state
across frames (the VAD's recurrent state, a recognition stream) is a per-call object.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

SAMPLE_RATE = 16_000
SAMPLE_WIDTH = 2
VAD_FRAME_SAMPLES = 512  # 32 ms at 16 kHz
VAD_FRAME_BYTES = VAD_FRAME_SAMPLES * SAMPLE_WIDTH


class SpeechError(RuntimeError):
    """An engine failed or is not configured (e.g. no model for a language)."""


class VoiceActivity(Protocol):
    """One call's voice activity detector (stateful)."""

    def speech_probability(self, frame: bytes) -> float:
        """Probability of speech in one `VAD_FRAME_BYTES` frame of 16 kHz PCM16."""
        ...

    def reset(self) -> None: ...


class VadEngine(Protocol):
    def new_stream(self) -> VoiceActivity: ...


@dataclass(frozen=True)
class Transcript:
    text: str
    lang: str
    duration_ms: float = 0.0


class SpeechToText(Protocol):
    async def transcribe(self, pcm: bytes, *, lang: str) -> Transcript:
        """Transcribe one utterance (16 kHz PCM16). Raises SpeechError when the language has no model."""
        ...

    def supports(self, lang: str) -> bool: ...


class TextToSpeech(Protocol):
    def synthesize(
        self, text: str, *, lang: str, voice: str | None = None, speed: float = 1.0
    ) -> AsyncIterator[bytes]:
        """16 kHz PCM16 chunks of `text` spoken, as soon as each is ready."""
        ...

    def supports(self, lang: str) -> bool: ...


class TurnEndModel(Protocol):
    """An acoustic end-of-turn model: does the caller's audio end like a finished turn?"""

    async def probability(self, pcm: bytes) -> float:
        """Probability (0..1) that the caller has finished, from their recent audio (16 kHz PCM16,
        ending with the pause so far)."""
        ...


@dataclass(frozen=True)
class SpeechEngines:
    """The engines a media host process uses for every call (loaded once)."""

    vad: VadEngine
    stt: SpeechToText
    tts: TextToSpeech
    turn_end: TurnEndModel | None = None  # None: the words and the pause decide alone
