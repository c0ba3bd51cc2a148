"""Azure Speech adapters: SSML, the SDK-thread -> asyncio hand-off (with SDK callbacks simulated
from plain threads), and contract tests against the real service when credentials are set."""

from __future__ import annotations

import asyncio
import os
import re
import threading
import xml.etree.ElementTree as ET
from types import SimpleNamespace
from typing import Any, ClassVar

import azure.cognitiveservices.speech as speechsdk  # type: ignore[import-untyped]
import pytest

from shared.speech import azure_speech
from shared.speech.azure_speech import AzureStt, AzureTts, SdkBridge, build_ssml, speech_config
from shared.speech.base import SpeechError

SSML_NS = "{http://www.w3.org/2001/10/synthesis}"


def test_ssml_carries_voice_rate_and_escaped_text() -> None:
    ssml = build_ssml('Tom & "Jerry" <3', lang="en-US", voice="en-US-AvaNeural", speed=1.5)
    root = ET.fromstring(ssml)
    assert root.tag == f"{SSML_NS}speak"
    assert root.attrib["{http://www.w3.org/XML/1998/namespace}lang"] == "en-US"
    voice = root.find(f"{SSML_NS}voice")
    assert voice is not None and voice.attrib["name"] == "en-US-AvaNeural"
    prosody = voice.find(f"{SSML_NS}prosody")
    assert prosody is not None and prosody.attrib["rate"] == "+50%"
    assert prosody.text == 'Tom & "Jerry" <3'
    assert 'rate="-20%"' in build_ssml("x", lang="fr-FR", voice="v", speed=0.8)
    assert 'rate="+0%"' in build_ssml("x", lang="fr-FR", voice="v")
    with pytest.raises(SpeechError):
        build_ssml("x", lang="fr-FR", voice="v", speed=0)


def test_speech_config_needs_one_credential_and_one_location() -> None:
    assert speech_config(key="k", region="westeurope") is not None
    assert speech_config(token="t", region="westeurope") is not None
    assert speech_config(key="k", endpoint="wss://example.invalid/speech") is not None
    for bad in ({"key": "k", "token": "t", "region": "r"}, {"key": "k"}, {"region": "r"}):
        with pytest.raises(SpeechError, match="one of key/token"):
            speech_config(**bad)


async def test_bridge_hands_items_from_threads_in_order() -> None:
    bridge: SdkBridge[int] = SdkBridge()

    def sdk_thread() -> None:
        for i in range(100):
            bridge.push(i)
        bridge.finish()

    thread = threading.Thread(target=sdk_thread)
    thread.start()
    assert [i async for i in bridge.items(idle_timeout=5)] == list(range(100))
    thread.join()


async def test_bridge_raises_the_error_and_times_out() -> None:
    bridge: SdkBridge[str] = SdkBridge()

    def sdk_thread() -> None:
        bridge.push("a")
        bridge.finish(SpeechError("boom"))

    threading.Thread(target=sdk_thread).start()
    got: list[str] = []
    with pytest.raises(SpeechError, match="boom"):
        async for item in bridge.items(idle_timeout=5):
            got.append(item)
    assert got == ["a"]
    silent: SdkBridge[str] = SdkBridge()
    with pytest.raises(SpeechError, match="sent nothing"):
        async for _ in silent.items(idle_timeout=0.05):
            pass


def test_bridge_after_the_loop_closed_is_harmless() -> None:
    loop = asyncio.new_event_loop()

    async def make() -> SdkBridge[int]:
        return SdkBridge()

    bridge = loop.run_until_complete(make())
    loop.close()
    bridge.push(1)  # an SDK callback arriving after the call ended
    bridge.finish()


# --- a stand-in for the SDK whose callbacks fire on plain threads --------------------------------


class FakeSignal:
    def __init__(self) -> None:
        self.handlers: list[Any] = []

    def connect(self, handler: Any) -> None:
        self.handlers.append(handler)

    def disconnect_all(self) -> None:
        self.handlers.clear()

    def fire(self, event: Any) -> None:
        for handler in list(self.handlers):
            handler(event)


class FakeFuture:
    def __init__(self, action: Any = None) -> None:
        self.action = action

    def get(self) -> None:
        if self.action:
            self.action()


class FakePushStream:
    def __init__(self, stream_format: Any) -> None:
        self.format = stream_format
        self.data = bytearray()
        self.closed = threading.Event()

    def write(self, data: bytes) -> None:
        self.data += data

    def close(self) -> None:
        self.closed.set()


class FakeRecognizer:
    instances: ClassVar[list[FakeRecognizer]] = []

    def __init__(self, speech_config: Any, audio_config: Any) -> None:
        self.stream: FakePushStream = audio_config.stream
        self.language = speech_config.speech_recognition_language
        self.recognized, self.canceled, self.session_stopped = FakeSignal(), FakeSignal(), FakeSignal()
        self.stopped = False
        FakeRecognizer.instances.append(self)

    def start_continuous_recognition_async(self) -> FakeFuture:
        return FakeFuture(lambda: threading.Thread(target=self._service, daemon=True).start())

    def _service(self) -> None:  # the SDK's thread: results after the end of the stream
        self.stream.closed.wait(5)
        for text in ("Hello,", "my name is John."):
            result = SimpleNamespace(reason=speechsdk.ResultReason.RecognizedSpeech, text=text)
            self.recognized.fire(SimpleNamespace(result=result))
        nomatch = SimpleNamespace(reason=speechsdk.ResultReason.NoMatch, text="")
        self.recognized.fire(SimpleNamespace(result=nomatch))
        details = SimpleNamespace(reason=speechsdk.CancellationReason.EndOfStream)
        self.canceled.fire(SimpleNamespace(cancellation_details=details))
        self.session_stopped.fire(SimpleNamespace())

    def stop_continuous_recognition_async(self) -> FakeFuture:
        self.stopped = True
        return FakeFuture()


class FakeSynthesizer:
    instances: ClassVar[list[FakeSynthesizer]] = []

    def __init__(self, speech_config: Any, audio_config: Any) -> None:
        assert audio_config is None
        self.config = speech_config
        FakeSynthesizer.instances.append(self)
        self.synthesizing, self.synthesis_completed = FakeSignal(), FakeSignal()
        self.synthesis_canceled = FakeSignal()
        self.ssml = ""
        self.stopped = False

    def stop_speaking_async(self) -> FakeFuture:
        self.stopped = True
        return FakeFuture()

    def speak_ssml_async(self, ssml: str) -> FakeFuture:
        self.ssml = ssml

        def service() -> None:
            for i in range(3):
                self.synthesizing.fire(SimpleNamespace(result=SimpleNamespace(audio_data=bytes([i]) * 320)))
            if "fail" in ssml:
                details = SimpleNamespace(error_code="AuthenticationFailure", error_details="bad key")
                self.synthesis_canceled.fire(
                    SimpleNamespace(result=SimpleNamespace(cancellation_details=details))
                )
            else:
                self.synthesis_completed.fire(SimpleNamespace())

        threading.Thread(target=service, daemon=True).start()
        return FakeFuture()


@pytest.fixture
def fake_sdk(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    configs: list[Any] = []

    def make_config(**kwargs: Any) -> SimpleNamespace:
        config = SimpleNamespace(
            credentials=kwargs, speech_recognition_language=None, endpoint_id=None, output_format=None
        )
        config.set_speech_synthesis_output_format = lambda fmt: setattr(config, "output_format", fmt)
        configs.append(config)
        return config

    fake = SimpleNamespace(
        SpeechConfig=make_config,
        SpeechRecognizer=FakeRecognizer,
        SpeechSynthesizer=FakeSynthesizer,
        ResultReason=speechsdk.ResultReason,
        CancellationReason=speechsdk.CancellationReason,
        SpeechSynthesisOutputFormat=speechsdk.SpeechSynthesisOutputFormat,
        audio=SimpleNamespace(
            AudioStreamFormat=lambda **kw: kw,
            PushAudioInputStream=FakePushStream,
            AudioConfig=lambda stream: SimpleNamespace(stream=stream),
        ),
    )
    monkeypatch.setattr(azure_speech, "speechsdk", fake)
    FakeRecognizer.instances.clear()
    return configs


async def test_stt_collects_recognized_results_until_session_stopped(fake_sdk: list[Any]) -> None:
    stt = AzureStt(key="k", region="westeurope", languages=["en-US", "fr"])
    assert stt.supports("en-US") and stt.supports("fr-CA") and not stt.supports("de-DE")
    pcm = b"\x01\x00" * 16_000
    transcript = await stt.transcribe(pcm, lang="en-US")
    assert transcript.text == "Hello, my name is John."
    assert transcript.duration_ms == pytest.approx(1000)
    recognizer = FakeRecognizer.instances[-1]
    assert recognizer.stream.data == pcm and recognizer.language == "en-US" and recognizer.stopped
    assert recognizer.stream.format == {"samples_per_second": 16_000, "bits_per_sample": 16, "channels": 1}
    assert not recognizer.recognized.handlers  # disconnected afterwards
    with pytest.raises(SpeechError, match="not configured"):
        await stt.transcribe(pcm, lang="de-DE")


async def test_stt_recognition_error_is_a_speech_error(
    fake_sdk: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_service(self: FakeRecognizer) -> None:
        details = SimpleNamespace(
            reason=speechsdk.CancellationReason.Error, code="ConnectionFailure", error_details="no route"
        )
        self.canceled.fire(SimpleNamespace(cancellation_details=details))

    monkeypatch.setattr(FakeRecognizer, "_service", failing_service)
    with pytest.raises(SpeechError, match="ConnectionFailure no route"):
        await AzureStt(token="t", region="westeurope").transcribe(b"\x00\x00" * 160, lang="fr-FR")


async def test_tts_streams_raw_pcm_with_the_custom_voice(fake_sdk: list[Any]) -> None:
    tts = AzureTts(
        "k",
        "westeurope",
        voices={"fr-FR": "fr-FR-DeniseNeural", "en": "MyCustomVoice"},
        endpoint_id="abc-123",
    )
    assert tts.supports("en-GB") and tts.supports("fr-FR") and not tts.supports("de-DE")
    assert tts.voice_for("fr-FR") == "fr-FR-DeniseNeural" and tts.voice_for("en-US") == "MyCustomVoice"
    chunks = [c async for c in tts.synthesize("Hello", lang="en-US", speed=1.25)]
    assert chunks == [bytes([i]) * 320 for i in range(3)]
    config = fake_sdk[-1]
    assert config.endpoint_id == "abc-123"
    assert config.output_format == speechsdk.SpeechSynthesisOutputFormat.Raw16Khz16BitMonoPcm
    assert 'rate="+25%"' in FakeSynthesizer.instances[-1].ssml
    assert not FakeSynthesizer.instances[-1].stopped
    with pytest.raises(SpeechError, match="AuthenticationFailure bad key"):
        _ = [c async for c in tts.synthesize("please fail", lang="en-US")]
    chunks_iter = tts.synthesize("Hello again", lang="en-US")
    assert await anext(chunks_iter)
    await chunks_iter.aclose()  # barge-in: the caller stops listening
    assert FakeSynthesizer.instances[-1].stopped
    with pytest.raises(SpeechError, match="no Azure voice"):
        _ = [c async for c in tts.synthesize("Hallo", lang="de-DE")]


# --- contract tests against the real service -----------------------------------------------------

KEY, REGION = os.environ.get("AZURE_SPEECH_KEY"), os.environ.get("AZURE_SPEECH_REGION")
needs_azure = pytest.mark.skipif(not (KEY and REGION), reason="set AZURE_SPEECH_KEY and AZURE_SPEECH_REGION")


@needs_azure
async def test_contract_tts_then_stt_round_trip() -> None:
    tts = AzureTts(KEY, REGION, voices={"en": "en-US-AvaMultilingualNeural", "fr": "fr-FR-DeniseNeural"})
    stt = AzureStt(key=KEY, region=REGION)
    for lang, text, expected in (
        ("en-US", "My name is John Smith.", {"john", "smith"}),
        ("fr-FR", "Je m'appelle Jean Dupont et j'habite à Paris.", {"jean", "dupont", "paris"}),
    ):
        pcm = b"".join([c async for c in tts.synthesize(text, lang=lang)])
        assert len(pcm) > 16_000  # more than half a second of 16 kHz PCM16
        transcript = await stt.transcribe(pcm, lang=lang)
        assert expected <= set(re.findall(r"\w+", transcript.text.lower())), transcript.text
