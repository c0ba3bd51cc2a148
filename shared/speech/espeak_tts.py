"""Offline text-to-speech with the espeak-ng program (Debian package `espeak-ng`): robotic but
small, fast and many languages. The text goes in on stdin; the WAV comes back on stdout and is
streamed out, resampled to 16 kHz, as espeak-ng writes it."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncGenerator, Mapping

from shared.speech.audio import StreamResampler, WavHeader, parse_wav_header
from shared.speech.base import SAMPLE_RATE, SAMPLE_WIDTH, SpeechError
from shared.speech.routing import language_family

__all__ = ["DEFAULT_ESPEAK_VOICES", "DEFAULT_WPM", "EspeakTts"]

DEFAULT_ESPEAK_VOICES: Mapping[str, str] = {
    "fr": "fr-fr",
    "en": "en-us",
    "de": "de",
    "es": "es",
    "it": "it",
    "nl": "nl",
    "pt": "pt",
}
DEFAULT_WPM = 175  # espeak-ng's own default rate, in words per minute
_MIN_WPM, _MAX_WPM = 80, 450
_READ_BYTES = 8192
_VOICE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_+/-]*$")
_INSTALL_HINT = "apt-get install espeak-ng (see scripts/install-system-packages.sh)"


class EspeakTts:
    """A `TextToSpeech` over espeak-ng. `voices` maps a language family to an espeak-ng voice;
    `voice`, when given, is an espeak-ng voice name used as is (e.g. "fr-be"). `word_gap_ms` adds
    a pause between words, which makes the words easier to tell apart (for people and recognisers)."""

    def __init__(
        self,
        voices: Mapping[str, str] = DEFAULT_ESPEAK_VOICES,
        *,
        executable: str = "espeak-ng",
        wpm: int = DEFAULT_WPM,
        word_gap_ms: int = 0,
    ) -> None:
        self._voices = {language_family(family): voice for family, voice in voices.items()}
        self._executable = executable
        self._wpm = wpm
        self._word_gap = max(0, round(word_gap_ms / 10))  # espeak-ng counts in 10 ms units

    def supports(self, lang: str) -> bool:
        return language_family(lang) in self._voices

    def _voice(self, lang: str, voice: str | None) -> str:
        name = voice or self._voices.get(language_family(lang))
        if name is None:
            raise SpeechError(
                f"no espeak-ng voice for {lang!r} (configured: {', '.join(sorted(self._voices))}); "
                "add one to EspeakTts(voices={family: espeak-ng voice})"
            )
        if not _VOICE_NAME.match(name):
            raise SpeechError(f"not an espeak-ng voice name: {name!r}")
        return name

    def words_per_minute(self, speed: float) -> int:
        if speed <= 0:
            raise SpeechError(f"speed must be positive, got {speed}")
        return max(_MIN_WPM, min(_MAX_WPM, round(self._wpm * speed)))

    async def synthesize(
        self, text: str, *, lang: str, voice: str | None = None, speed: float = 1.0
    ) -> AsyncGenerator[bytes, None]:
        command = [
            self._executable,
            "--stdout",
            "-v",
            self._voice(lang, voice),
            "-s",
            str(self.words_per_minute(speed)),
            "-g",
            str(self._word_gap),
        ]
        if not text.strip():
            return
        try:
            process = await asyncio.create_subprocess_exec(
                *command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except FileNotFoundError as exc:
            raise SpeechError(f"{self._executable} is not installed: {_INSTALL_HINT}") from exc
        assert process.stdin is not None and process.stdout is not None and process.stderr is not None
        feeder = asyncio.create_task(_feed(process.stdin, text))
        errors = asyncio.create_task(process.stderr.read())
        try:
            async for pcm in _stream_wav(process.stdout):
                yield pcm
            await feeder
            code = await process.wait()
            message = (await errors).decode(errors="replace").strip()
            if code != 0 or message.lower().startswith("error"):
                raise SpeechError(f"espeak-ng failed (exit {code}): {message or 'no message'}")
        finally:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
            for task in (feeder, errors):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task


async def _feed(stdin: asyncio.StreamWriter, text: str) -> None:
    try:
        stdin.write(text.encode())
        await stdin.drain()
    except (BrokenPipeError, ConnectionResetError):
        pass  # espeak-ng exited early; its exit status tells why
    finally:
        stdin.close()


async def _stream_wav(stdout: asyncio.StreamReader) -> AsyncGenerator[bytes, None]:
    """16 kHz mono PCM16 chunks of the WAV read from `stdout`, as they arrive."""
    head = b""
    header: WavHeader | None = None
    while header is None:
        block = await stdout.read(_READ_BYTES)
        if not block:
            return  # no audio at all (e.g. an unknown voice: the exit status reports it)
        head += block
        try:
            header = parse_wav_header(head)
        except ValueError as exc:
            raise SpeechError(f"espeak-ng wrote no WAV: {exc}") from exc
    if header.channels != 1 or header.sample_width != SAMPLE_WIDTH:
        raise SpeechError(f"espeak-ng wrote {header.channels}-channel {8 * header.sample_width}-bit audio")
    resampler = StreamResampler(header.rate, SAMPLE_RATE)
    block = head[header.data_offset :]
    while block:
        pcm = resampler.process(block)
        if pcm:
            yield pcm
        block = await stdout.read(_READ_BYTES)
    tail = resampler.flush()
    if tail:
        yield tail
