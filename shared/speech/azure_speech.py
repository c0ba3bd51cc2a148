"""Azure AI Speech adapters (`azure-cognitiveservices-speech`).

The SDK calls its event handlers on its own threads: they only hand their item to asyncio through
`SdkBridge` (`loop.call_soon_threadsafe`), never touching asyncio objects directly. Blocking SDK
calls (starting and stopping recognition) run in worker threads.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Collection, Mapping
from typing import Any, Generic, TypeVar
from xml.sax.saxutils import escape, quoteattr

import azure.cognitiveservices.speech as speechsdk  # type: ignore[import-untyped]

from shared.speech.base import SAMPLE_RATE, SAMPLE_WIDTH, SpeechError, Transcript
from shared.speech.routing import language_family

__all__ = ["AzureStt", "AzureTts", "SdkBridge", "build_ssml", "speech_config"]

T = TypeVar("T")
_DEFAULT_TIMEOUT = 30.0


class SdkBridge(Generic[T]):
    """Items produced on SDK threads, consumed by one asyncio task. Create it on the event loop."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[tuple[bool, T | None, BaseException | None]] = asyncio.Queue()
        self.finished = False
        """Whether the consumer saw the end (or the error): the SDK operation is over."""

    def push(self, item: T) -> None:
        """From any thread: one more item."""
        self._post((False, item, None))

    def finish(self, error: BaseException | None = None) -> None:
        """From any thread: no more items; the consumer raises `error` if one is given."""
        self._post((True, None, error))

    def _post(self, entry: tuple[bool, T | None, BaseException | None]) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is listening any more
            self._loop.call_soon_threadsafe(self._queue.put_nowait, entry)

    async def items(self, idle_timeout: float | None = None) -> AsyncIterator[T]:
        """Every item until `finish()`; SpeechError when `idle_timeout` seconds pass without news."""
        while True:
            try:
                done, item, error = await asyncio.wait_for(self._queue.get(), idle_timeout)
            except TimeoutError as exc:
                raise SpeechError(f"Azure Speech sent nothing for {idle_timeout} s") from exc
            if done:
                self.finished = True
                if error is not None:
                    raise error
                return
            yield item  # type: ignore[misc]  # not done: the item is a T


def speech_config(
    *,
    key: str | None = None,
    token: str | None = None,
    region: str | None = None,
    endpoint: str | None = None,
) -> Any:
    """A `SpeechConfig` from a key or an authorization token, and a region or an endpoint."""
    if (key is None) == (token is None) or (region is None) == (endpoint is None):
        raise SpeechError("Azure Speech needs one of key/token and one of region/endpoint")
    if key is not None:
        if region is not None:
            return speechsdk.SpeechConfig(subscription=key, region=region)
        return speechsdk.SpeechConfig(subscription=key, endpoint=endpoint)
    if region is not None:
        return speechsdk.SpeechConfig(auth_token=token, region=region)
    config = speechsdk.SpeechConfig(endpoint=endpoint)
    config.authorization_token = token
    return config


def build_ssml(text: str, *, lang: str, voice: str, speed: float = 1.0) -> str:
    """SSML speaking `text` with `voice`, at `speed` times the normal rate (1.5 -> +50%)."""
    if speed <= 0:
        raise SpeechError(f"speed must be positive, got {speed}")
    rate = f"{round((speed - 1.0) * 100):+d}%"
    return (
        f'<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang={quoteattr(lang)}>'
        f"<voice name={quoteattr(voice)}><prosody rate={quoteattr(rate)}>{escape(text)}</prosody></voice>"
        "</speak>"
    )


def _on_recognized(bridge: SdkBridge[str], event: Any) -> None:
    result = event.result
    if result.reason == speechsdk.ResultReason.RecognizedSpeech and result.text:
        bridge.push(str(result.text))


def _on_recognition_canceled(bridge: SdkBridge[str], event: Any) -> None:
    details = event.cancellation_details
    if details.reason == speechsdk.CancellationReason.Error:
        bridge.finish(SpeechError(f"Azure Speech recognition failed: {details.code} {details.error_details}"))
    # EndOfStream: session_stopped follows and finishes the bridge.


def _on_synthesizing(bridge: SdkBridge[bytes], event: Any) -> None:
    audio = event.result.audio_data
    if audio:
        bridge.push(bytes(audio))


def _on_synthesis_canceled(bridge: SdkBridge[bytes], event: Any) -> None:
    details = event.result.cancellation_details
    bridge.finish(SpeechError(f"Azure Speech synthesis failed: {details.error_code} {details.error_details}"))


class AzureStt:
    """A `SpeechToText` over Azure Speech continuous recognition of one pushed utterance."""

    def __init__(
        self,
        *,
        key: str | None = None,
        token: str | None = None,
        region: str | None = None,
        endpoint: str | None = None,
        languages: Collection[str] | None = None,
        timeout: float = _DEFAULT_TIMEOUT,
    ) -> None:
        speech_config(key=key, token=token, region=region, endpoint=endpoint)  # validate now
        self._credentials = {"key": key, "token": token, "region": region, "endpoint": endpoint}
        self._languages = None if languages is None else {lang.lower() for lang in languages}
        self._timeout = timeout

    def update_token(self, token: str) -> None:
        """A fresh authorization token (they expire after ten minutes)."""
        self._credentials["token"] = token

    def supports(self, lang: str) -> bool:
        if self._languages is None:
            return bool(language_family(lang))
        return lang.lower() in self._languages or language_family(lang) in self._languages

    async def transcribe(self, pcm: bytes, *, lang: str) -> Transcript:
        if not self.supports(lang):
            raise SpeechError(
                f"Azure Speech is not configured for {lang!r}; add it to AzureStt(languages=...)"
            )
        config = speech_config(**self._credentials)
        config.speech_recognition_language = lang
        stream_format = speechsdk.audio.AudioStreamFormat(
            samples_per_second=SAMPLE_RATE, bits_per_sample=8 * SAMPLE_WIDTH, channels=1
        )
        stream = speechsdk.audio.PushAudioInputStream(stream_format=stream_format)
        recognizer = speechsdk.SpeechRecognizer(
            speech_config=config, audio_config=speechsdk.audio.AudioConfig(stream=stream)
        )
        bridge: SdkBridge[str] = SdkBridge()
        recognizer.recognized.connect(lambda event: _on_recognized(bridge, event))
        recognizer.canceled.connect(lambda event: _on_recognition_canceled(bridge, event))
        recognizer.session_stopped.connect(lambda _event: bridge.finish())
        await _blocking(lambda: recognizer.start_continuous_recognition_async().get())
        try:
            stream.write(pcm)
            stream.close()  # end of the utterance: recognition finishes, then the session stops
            texts = [text async for text in bridge.items(self._timeout)]
        finally:
            await _blocking(lambda: recognizer.stop_continuous_recognition_async().get())
            for signal in (recognizer.recognized, recognizer.canceled, recognizer.session_stopped):
                signal.disconnect_all()
        duration_ms = 1000.0 * len(pcm) / (SAMPLE_WIDTH * SAMPLE_RATE)
        return Transcript(text=" ".join(texts).strip(), lang=lang, duration_ms=duration_ms)


class AzureTts:
    """A `TextToSpeech` over Azure neural voices (or a custom neural voice: `endpoint_id`), as raw
    16 kHz PCM16 chunks while the service streams them. `voices` maps a locale ("fr-FR") or a
    family ("fr") to a voice name; `voice`, when given, is used as is."""

    def __init__(
        self,
        key: str | None = None,
        region: str | None = None,
        *,
        voices: Mapping[str, str],
        endpoint_id: str | None = None,
        token: str | None = None,
        endpoint: str | None = None,
        timeout: float = _DEFAULT_TIMEOUT,
    ) -> None:
        speech_config(key=key, token=token, region=region, endpoint=endpoint)  # validate now
        self._credentials = {"key": key, "token": token, "region": region, "endpoint": endpoint}
        self._voices = {name.lower(): voice for name, voice in voices.items()}
        self._endpoint_id = endpoint_id
        self._timeout = timeout

    def update_token(self, token: str) -> None:
        self._credentials["token"] = token

    def voice_for(self, lang: str, voice: str | None = None) -> str:
        name = voice or self._voices.get(lang.lower()) or self._voices.get(language_family(lang))
        if not name:
            raise SpeechError(f"no Azure voice for {lang!r}; add one to AzureTts(voices={{locale: voice}})")
        return name

    def supports(self, lang: str) -> bool:
        return lang.lower() in self._voices or language_family(lang) in self._voices

    async def synthesize(
        self, text: str, *, lang: str, voice: str | None = None, speed: float = 1.0
    ) -> AsyncGenerator[bytes, None]:
        ssml = build_ssml(text, lang=lang, voice=self.voice_for(lang, voice), speed=speed)
        if not text.strip():
            return
        config = speech_config(**self._credentials)
        config.set_speech_synthesis_output_format(speechsdk.SpeechSynthesisOutputFormat.Raw16Khz16BitMonoPcm)
        if self._endpoint_id:
            config.endpoint_id = self._endpoint_id
        synthesizer = speechsdk.SpeechSynthesizer(speech_config=config, audio_config=None)
        bridge: SdkBridge[bytes] = SdkBridge()
        synthesizer.synthesizing.connect(lambda event: _on_synthesizing(bridge, event))
        synthesizer.synthesis_completed.connect(lambda _event: bridge.finish())
        synthesizer.synthesis_canceled.connect(lambda event: _on_synthesis_canceled(bridge, event))
        pending = synthesizer.speak_ssml_async(ssml)  # returns at once; events carry the audio
        try:
            async for chunk in bridge.items(self._timeout):
                yield chunk
        finally:
            if not bridge.finished:  # the caller stopped listening (barge-in), or a timeout
                with contextlib.suppress(SpeechError):  # don't hide why we stopped
                    await _blocking(lambda: synthesizer.stop_speaking_async().get())
            for signal in (
                synthesizer.synthesizing,
                synthesizer.synthesis_completed,
                synthesizer.synthesis_canceled,
            ):
                signal.disconnect_all()
            del pending


async def _blocking(call: Callable[[], object]) -> None:
    try:
        await asyncio.to_thread(call)
    except SpeechError:
        raise
    except Exception as exc:  # the SDK raises RuntimeError with its error text
        raise SpeechError(f"Azure Speech: {exc}") from exc
