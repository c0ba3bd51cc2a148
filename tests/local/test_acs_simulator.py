"""The ACS simulator, driven by the real Call Automation and SMS SDK clients over loopback."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import time
import wave
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import httpx
import jwt
import pytest
from azure.communication.callautomation import (
    AudioFormat,
    CallAutomationClient,
    MediaStreamingAudioChannelType,
    MediaStreamingContentType,
    MediaStreamingOptions,
    PhoneNumberIdentifier,
    RecognizeInputType,
    StreamingTransportType,
    TextSource,
)
from azure.communication.callautomation.aio import CallAutomationClient as AsyncCallAutomationClient
from azure.communication.sms import SmsClient, SmsSendResult
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import ClientAuthenticationError, ResourceNotFoundError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from local.acs_simulator import INCOMING_CALL, AcsSimulator, CallState, TimelineKind
from local.threaded_server import ThreadedServer
from media_host.protocol import (
    AudioData,
    AudioMetadata,
    DtmfData,
    InboundMessage,
    audio_data,
    parse_inbound,
    stop_audio,
)

CALLER, BOT, AGENT = "+33612345678", "+33100000000", "+33199999999"


def tone(frames: int, amplitude: int = 8000, frame_bytes: int = 640) -> bytes:
    """A square wave of whole frames (never all zeros, so never `silent`)."""
    samples = array(
        "h", [amplitude if (i // 8) % 2 else -amplitude for i in range(frames * frame_bytes // 2)]
    )
    return samples.tobytes()


LONG_REPLY = tone(400, 3000)  # 8 s: still playing when the caller barges in


@dataclass
class MediaSession:
    headers: dict[str, str]
    messages: list[InboundMessage] = field(default_factory=list)
    speech: bytearray = field(default_factory=bytearray)
    utterances: list[bytes] = field(default_factory=list)
    talking: bool = False
    closed: bool = False


class Receiver:
    """The bot side: callbacks, Event Grid, and a media websocket (echo, long reply, barge-in, greeting)."""

    def __init__(self) -> None:
        self.callbacks: list[tuple[dict[str, Any], str | None]] = []
        self.event_grid: list[tuple[dict[str, Any], dict[str, str]]] = []
        self.sessions: list[MediaSession] = []
        self.on_incoming: Callable[[dict[str, Any]], object] | None = None
        self.failures: list[int] = []  # statuses answered to the next callbacks (retry tests)
        self.mode = "echo"
        self.greeting = tone(15)
        app = Starlette(
            routes=[
                Route("/callbacks", self.callback, methods=["POST"]),
                Route("/runtime/webhooks/EventGrid", self.grid, methods=["POST"]),
                WebSocketRoute("/ws", self.media),
            ]
        )
        self.server = ThreadedServer(app, name="receiver", ws="websockets-sansio", lifespan="off")
        self.port = 0

    url = property(lambda self: f"http://127.0.0.1:{self.port}")
    ws_url = property(lambda self: f"ws://127.0.0.1:{self.port}/ws")

    def events(self, event_type: str) -> list[dict[str, Any]]:
        return [e for e, _ in self.callbacks if e["type"] == f"Microsoft.Communication.{event_type}"]

    async def callback(self, request: Request) -> Response:
        if self.failures:
            return Response(status_code=self.failures.pop(0))
        for event in await request.json():
            self.callbacks.append((event, request.headers.get("authorization")))
        return Response()

    async def grid(self, request: Request) -> Response:
        for event in await request.json():
            self.event_grid.append((event, dict(request.headers)))
            if event["eventType"] == INCOMING_CALL and self.on_incoming is not None:
                await asyncio.to_thread(self.on_incoming, event)
        return JSONResponse({})

    async def media(self, websocket: WebSocket) -> None:
        session = MediaSession(dict(websocket.headers))
        self.sessions.append(session)
        await websocket.accept()
        try:
            while True:
                message = parse_inbound(await websocket.receive_text())
                session.messages.append(message)
                for reply in self.react(session, message):
                    await websocket.send_text(reply)
        except WebSocketDisconnect:
            session.closed = True

    def react(self, session: MediaSession, message: InboundMessage) -> list[str]:
        if isinstance(message, AudioMetadata):
            return self.frames(self.greeting, message.length) if self.mode == "greet" else []
        if not isinstance(message, AudioData) or self.mode != "echo":
            return []
        if not message.silent:
            session.speech.extend(message.pcm)
            if session.talking:  # the caller speaks over the bot: barge-in
                session.talking = False
                return [stop_audio()]
            return []
        if not session.speech:
            return []
        session.utterances.append(bytes(session.speech))
        session.speech.clear()
        count = len(session.utterances)
        session.talking = count == 2
        reply = {1: session.utterances[0], 2: LONG_REPLY}.get(count, b"")
        return self.frames(reply, len(message.pcm))

    @staticmethod
    def frames(pcm: bytes, size: int) -> list[str]:
        return [audio_data(pcm[i : i + size]) for i in range(0, len(pcm), size)]

    def __enter__(self) -> Receiver:
        self.server.start()
        self.port = self.server.port
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture
def sim(receiver: Receiver, tmp_path: Path) -> Iterator[AcsSimulator]:
    urls = {"*": f"{receiver.url}/runtime/webhooks/EventGrid?functionName=events"}
    with AcsSimulator(event_grid_urls=urls, recordings_dir=tmp_path, speed=10, answer_delay_s=0) as running:
        running.config.play_duration_s = 0.01
        yield running


@pytest.fixture
def client(sim: AcsSimulator) -> Iterator[CallAutomationClient]:
    with CallAutomationClient(sim.endpoint, AzureKeyCredential(sim.access_key)) as automation:
        yield automation


def streaming(
    receiver: Receiver, *, start: bool = True, audio_format: str = AudioFormat.PCM16_K_MONO
) -> MediaStreamingOptions:
    return MediaStreamingOptions(
        transport_url=receiver.ws_url,
        transport_type=StreamingTransportType.WEBSOCKET,
        content_type=MediaStreamingContentType.AUDIO,
        audio_channel_type=MediaStreamingAudioChannelType.MIXED,
        start_media_streaming=start,
        enable_bidirectional=True,
        audio_format=audio_format,
        enable_dtmf_tones=True,
    )


def wait(predicate: Callable[[], Any], what: str, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)
    return value


def place_call(sim: AcsSimulator, client: CallAutomationClient, receiver: Receiver, **options: Any) -> str:
    """An outbound call to CALLER, connected; returns its call connection id."""
    properties = client.create_call(
        PhoneNumberIdentifier(CALLER),
        f"{receiver.url}/callbacks",
        source_caller_id_number=PhoneNumberIdentifier(BOT),
        **options,
    )
    call_id = properties.call_connection_id
    assert call_id is not None
    sim.wait_for_delivery("CallConnected", call_id=call_id)
    return call_id


def answer_incoming(
    sim: AcsSimulator, client: CallAutomationClient, receiver: Receiver, **options: Any
) -> str:
    """Ring the bot; the receiver answers the IncomingCall with `options`; returns the call id."""
    receiver.on_incoming = lambda event: client.answer_call(
        event["data"]["incomingCallContext"], f"{receiver.url}/callbacks", **options
    )
    call_id = sim.call_id_for(sim.ring(CALLER, BOT, caller_display_name="Ada"))
    sim.wait_for_delivery("CallConnected", call_id=call_id)
    return call_id


def send_sms(client: SmsClient, **options: Any) -> list[SmsSendResult]:
    """SmsClient.send (its type comments confuse mypy: `self: str`)."""
    results: list[SmsSendResult] = cast(Any, client).send(**options)
    return results


def check_jwt(sim: AcsSimulator, authorization: str | None) -> dict[str, Any]:
    assert authorization is not None and authorization.startswith("Bearer ")
    token = authorization.removeprefix("Bearer ")
    key = jwt.PyJWKClient(sim.jwks_url).get_signing_key_from_jwt(token)
    claims: dict[str, Any] = jwt.decode(
        token, key, algorithms=["RS256"], audience=sim.audience, issuer=sim.issuer
    )
    assert claims["exp"] - claims["iat"] == 300 and claims["nbf"] <= time.time()
    return claims


def test_outbound_call_connects_with_a_signed_callback(
    sim: AcsSimulator, client: CallAutomationClient, receiver: Receiver
) -> None:
    call_id = place_call(sim, client, receiver, operation_context="outbound-1")
    assert sim.call(call_id).state is CallState.CONNECTED
    (event, authorization), *_ = receiver.callbacks
    check_jwt(sim, authorization)
    assert event["type"] == "Microsoft.Communication.CallConnected" and event["specversion"] == "1.0"
    data = event["data"]
    assert data["callConnectionId"] == call_id and data["operationContext"] == "outbound-1"
    assert data["serverCallId"] == sim.call(call_id).server_call_id and data["correlationId"]
    assert data["resultInformation"]["code"] == 200
    properties = client.get_call_connection(call_id).get_call_properties()
    assert properties.call_connection_state == "connected"
    assert properties.targets is not None and properties.targets[0].raw_id == f"4:{CALLER}"
    assert sim.jwks_url == f"{sim.endpoint}/calling/keys"
    assert httpx.get(f"{sim.endpoint}/.well-known/jwks.json").json()["keys"][0]["alg"] == "RS256"


def test_inbound_call_streams_echoes_and_records_barge_in(
    sim: AcsSimulator, client: CallAutomationClient, receiver: Receiver
) -> None:
    call_id = answer_incoming(sim, client, receiver, media_streaming=streaming(receiver))
    grid_event, grid_headers = receiver.event_grid[0]
    assert grid_headers["aeg-event-type"] == "Notification" and grid_event["eventType"] == INCOMING_CALL
    assert (
        grid_event["data"]["from"]["phoneNumber"]["value"] == CALLER
        and grid_event["data"]["callerDisplayName"] == "Ada"
    )
    session = wait(lambda: receiver.sessions and receiver.sessions[0], "the media websocket")
    assert session.headers["x-ms-call-connection-id"] == call_id
    assert session.headers["x-ms-call-correlation-id"] == sim.call(call_id).correlation_id
    check_jwt(sim, session.headers["authorization"])
    wait(lambda: len(session.messages) > 3, "caller frames")
    metadata, first = session.messages[:2]
    assert metadata == AudioMetadata(
        subscription_id=sim.call(call_id).media_subscription_id, sample_rate=16000, length=640
    )
    assert isinstance(first, AudioData) and first.silent and first.pcm == bytes(640)
    assert first.participant_raw_id == f"4:{CALLER}"
    hello = tone(10)
    sim.say(call_id, hello)
    assert sim.wait_for_bot_audio(call_id, len(hello)) == hello  # the echo, heard in full
    speech_end = sim.wait_for_timeline(call_id, TimelineKind.CALLER_SPEECH_END)
    first_frame = sim.wait_for_timeline(call_id, TimelineKind.BOT_AUDIO_FIRST_FRAME)
    assert (
        sim.wait_for_timeline(call_id, TimelineKind.CALLER_SPEECH_START).at < speech_end.at < first_frame.at
    )
    sim.say(call_id, tone(5))  # the bot answers with LONG_REPLY
    sim.wait_for_bot_audio(call_id, len(hello) + 20 * 640)
    sim.say(call_id, tone(5))  # barge-in: the bot sends StopAudio
    stop = sim.wait_for_timeline(call_id, TimelineKind.STOP_AUDIO)
    heard = sim.bot_audio(call_id)[len(hello) :]
    assert 0 < len(heard) < len(LONG_REPLY) and heard == LONG_REPLY[: len(heard)]
    assert len(heard) + stop.dropped_bytes == len(LONG_REPLY)  # nothing played after StopAudio
    assert sim.wait_for_timeline(call_id, TimelineKind.BOT_AUDIO_FIRST_FRAME, count=2).at < stop.at
    assert sim.call(call_id).protocol_errors == []


def test_24k_stream_uses_960_byte_frames(
    sim: AcsSimulator, client: CallAutomationClient, receiver: Receiver
) -> None:
    call_id = answer_incoming(
        sim, client, receiver, media_streaming=streaming(receiver, audio_format=AudioFormat.PCM24_K_MONO)
    )
    session = wait(
        lambda: receiver.sessions and len(receiver.sessions[0].messages) > 2 and receiver.sessions[0],
        "frames",
    )
    assert session.messages[0] == AudioMetadata(
        subscription_id=sim.call(call_id).media_subscription_id, sample_rate=24000, length=960
    )
    assert {len(m.pcm) for m in session.messages[1:] if isinstance(m, AudioData)} == {960}
    sent = sim.say(call_id, tone(10))  # 16 kHz speech, resampled for the 24 kHz stream
    assert sent == 10 * 960
    assert len(sim.wait_for_bot_audio(call_id, sent)) == sent


def test_echo_mode_mixes_attenuated_bot_audio_into_caller_frames(
    sim: AcsSimulator, client: CallAutomationClient, receiver: Receiver
) -> None:
    receiver.mode, sim.config.echo_gain = "greet", 0.5
    call_id = answer_incoming(sim, client, receiver, media_streaming=streaming(receiver))
    sim.wait_for_bot_audio(call_id, len(receiver.greeting))
    caller = array("h", sim.caller_audio(call_id))
    assert max(caller) == 4000 and min(caller) == -4000
    session = receiver.sessions[0]
    assert any(isinstance(m, AudioData) and not m.silent for m in session.messages)


def test_dtmf_is_streamed_and_on_the_timeline(
    sim: AcsSimulator, client: CallAutomationClient, receiver: Receiver
) -> None:
    call_id = answer_incoming(sim, client, receiver, media_streaming=streaming(receiver))
    sim.wait_for_timeline(call_id, TimelineKind.MEDIA_CONNECTED)
    sim.send_dtmf(call_id, "12#")
    session = receiver.sessions[0]
    wait(lambda: len([m for m in session.messages if isinstance(m, DtmfData)]) == 3, "three DTMF messages")
    assert [m.tone for m in session.messages if isinstance(m, DtmfData)] == ["1", "2", "#"]
    assert [e.detail for e in sim.timeline(call_id) if e.kind is TimelineKind.DTMF] == ["1", "2", "#"]


def test_transfer_accepted_then_the_bot_leg_disconnects(
    sim: AcsSimulator, client: CallAutomationClient, receiver: Receiver
) -> None:
    call_id = answer_incoming(sim, client, receiver, media_streaming=streaming(receiver))
    sim.wait_for_timeline(call_id, TimelineKind.MEDIA_CONNECTED)
    result = client.get_call_connection(call_id).transfer_call_to_participant(
        PhoneNumberIdentifier(AGENT), operation_context="to-agent"
    )
    assert result.operation_context == "to-agent"
    accepted = sim.wait_for_delivery("CallTransferAccepted", call_id=call_id).event["data"]
    assert accepted["transferTarget"]["phoneNumber"]["value"] == AGENT
    assert accepted["transferee"]["rawId"] == f"4:{CALLER}" and accepted["operationContext"] == "to-agent"
    sim.wait_for_delivery("CallDisconnected", call_id=call_id)
    wait(lambda: receiver.sessions[0].closed, "the media socket to close")
    assert sim.call(call_id).state is CallState.DISCONNECTED


def test_transfer_to_a_failing_target(
    sim: AcsSimulator, client: CallAutomationClient, receiver: Receiver
) -> None:
    sim.config.failing_transfer_targets.add(AGENT)
    call_id = place_call(sim, client, receiver)
    client.get_call_connection(call_id).transfer_call_to_participant(PhoneNumberIdentifier(AGENT))
    failed = sim.wait_for_delivery("CallTransferFailed", call_id=call_id).event["data"]
    assert failed["resultInformation"]["code"] == 500
    assert sim.call(call_id).state is CallState.CONNECTED


def test_hang_ups_from_both_sides(
    sim: AcsSimulator, client: CallAutomationClient, receiver: Receiver
) -> None:
    bot_side = answer_incoming(sim, client, receiver, media_streaming=streaming(receiver))
    sim.wait_for_timeline(bot_side, TimelineKind.MEDIA_CONNECTED)
    client.get_call_connection(bot_side).hang_up(is_for_everyone=False)
    sim.wait_for_delivery("CallDisconnected", call_id=bot_side)
    wait(lambda: receiver.sessions[0].closed, "the media socket to close")
    heard_wav = wait(lambda: sim.call(bot_side).audio.heard_wav, "the call's WAV files")
    assert heard_wav.exists() and sim.call(bot_side).audio.sent_wav is not None
    caller_side = place_call(sim, client, receiver)
    sim.hang_up_as_caller(caller_side)
    assert sim.wait_for_delivery("CallDisconnected", call_id=caller_side).ok
    assert sim.timeline(caller_side)[-1].kind is TimelineKind.DISCONNECTED
    with pytest.raises(ResourceNotFoundError):
        client.get_call_connection(caller_side).hang_up(is_for_everyone=True)


def test_play_completes_or_fails(sim: AcsSimulator, client: CallAutomationClient, receiver: Receiver) -> None:
    connection = client.get_call_connection(place_call(sim, client, receiver))
    connection.play_media(
        TextSource(text="Bonjour", voice_name="fr-FR-DeniseNeural"), operation_context="hello"
    )
    completed = sim.wait_for_delivery("PlayCompleted").event["data"]
    assert completed["operationContext"] == "hello" and completed["resultInformation"]["code"] == 200
    assert [e["type"].rsplit(".", 1)[1] for e, _ in receiver.callbacks][-2:] == [
        "PlayStarted",
        "PlayCompleted",
    ]
    sim.config.play_fails = True
    connection.play_media(TextSource(text="Again"))
    assert sim.wait_for_delivery("PlayFailed").event["data"]["resultInformation"]["subCode"] == 8535


def test_recognize_scripted_dtmf_then_timeout(
    sim: AcsSimulator, client: CallAutomationClient, receiver: Receiver
) -> None:
    call_id = place_call(sim, client, receiver)
    connection = client.get_call_connection(call_id)
    sim.send_dtmf(call_id, "42")
    connection.start_recognizing_media(
        RecognizeInputType.DTMF,
        PhoneNumberIdentifier(CALLER),
        dtmf_max_tones_to_collect=2,
        operation_context="pin",
    )
    data = sim.wait_for_delivery("RecognizeCompleted").event["data"]
    assert data["recognitionType"] == "dtmf" and data["dtmfResult"] == {"tones": ["four", "two"]}
    assert data["operationContext"] == "pin"
    connection.start_recognizing_media(
        RecognizeInputType.DTMF, PhoneNumberIdentifier(CALLER), initial_silence_timeout=1
    )
    assert sim.wait_for_delivery("RecognizeFailed").event["data"]["resultInformation"]["subCode"] == 8510


def test_cancel_all_media_operations(
    sim: AcsSimulator, client: CallAutomationClient, receiver: Receiver
) -> None:
    connection = client.get_call_connection(place_call(sim, client, receiver))
    connection.play_media(TextSource(text="Hold music"), loop=True)
    sim.wait_for_delivery("PlayStarted")
    connection.cancel_all_media_operations()
    sim.wait_for_delivery("PlayCanceled")
    assert not receiver.events("PlayCompleted")


def test_recording_writes_a_wav_and_notifies_event_grid(
    sim: AcsSimulator, client: CallAutomationClient, receiver: Receiver, tmp_path: Path
) -> None:
    receiver.mode = "greet"
    call_id = place_call(sim, client, receiver, media_streaming=streaming(receiver))
    recording = client.start_recording(server_call_id=sim.call(call_id).server_call_id)
    assert recording.recording_state == "active" and recording.recording_id is not None
    sim.wait_for_bot_audio(call_id, len(receiver.greeting))
    client.stop_recording(recording.recording_id)
    states = [
        d.event["data"]["state"] for d in sim.deliveries if d.event_type.endswith("RecordingStateChanged")
    ]
    assert states == ["active", "inactive"]
    file_event = sim.wait_for_delivery("RecordingFileStatusUpdated").event
    chunk = file_event["data"]["recordingStorageInfo"]["recordingChunks"][0]
    assert Path(chunk["localPath"]) == tmp_path / f"{recording.recording_id}.wav"
    with wave.open(chunk["localPath"]) as wav:
        assert wav.getframerate() == 16000 and wav.getnframes() > 0
    assert httpx.get(chunk["contentLocation"]).content == Path(chunk["localPath"]).read_bytes()


def test_sms_send_and_receive(sim: AcsSimulator, receiver: Receiver) -> None:
    sms = SmsClient(sim.endpoint, AzureKeyCredential(sim.access_key))
    results = send_sms(sms, from_=BOT, to=[CALLER, "not-a-number"], message="Your claim is filed.")
    assert [(r.to, r.successful, r.http_status_code) for r in results] == [
        (CALLER, True, 202),
        ("not-a-number", False, 400),
    ]
    assert [(m.to_number, m.message) for m in sim.outbox] == [
        (CALLER, "Your claim is filed."),
        ("not-a-number", "Your claim is filed."),
    ]
    message_id = sim.receive_sms(CALLER, BOT, "Call me back")
    sim.wait_for_delivery("SMSReceived")
    (event, headers), *_ = receiver.event_grid
    assert (
        event["eventType"] == "Microsoft.Communication.SMSReceived"
        and headers["aeg-event-type"] == "Notification"
    )
    assert event["data"] | {"receivedTimestamp": None} == {
        "messageId": message_id,
        "from": CALLER,
        "to": BOT,
        "message": "Call me back",
        "receivedTimestamp": None,
    }


def test_a_wrong_access_key_is_refused(sim: AcsSimulator) -> None:
    with AcsSimulator() as other:  # two simulators side by side, each with its own key
        wrong = AzureKeyCredential(other.access_key)
        with (
            CallAutomationClient(sim.endpoint, wrong) as client,
            pytest.raises(ClientAuthenticationError) as caught,
        ):
            client.get_call_connection("any").get_call_properties()
        assert caught.value.status_code == 401
        with pytest.raises(ClientAuthenticationError) as sms_caught:
            send_sms(SmsClient(sim.endpoint, wrong), from_=BOT, to=CALLER, message="hi")
        assert sms_caught.value.status_code == 401
    response = httpx.post(f"{sim.endpoint}/calling/callConnections?api-version=2026-03-12", json={})
    assert response.status_code == 401 and response.json()["error"]["code"] == "Denied"


def test_unknown_call_is_404_in_the_acs_error_shape(client: CallAutomationClient) -> None:
    with pytest.raises(ResourceNotFoundError) as caught:
        client.get_call_connection("no-such-call").get_call_properties()
    assert caught.value.status_code == 404
    assert caught.value.response is not None
    error = json.loads(caught.value.response.text())["error"]
    assert set(error) == {"code", "message"} and "no-such-call" in error["message"]


def test_busy_and_unanswered_callees(
    sim: AcsSimulator, client: CallAutomationClient, receiver: Receiver
) -> None:
    sim.config.busy_numbers.add(CALLER)
    sim.config.no_answer_timeout_s = 0.1
    busy = client.create_call(
        PhoneNumberIdentifier(CALLER),
        f"{receiver.url}/callbacks",
        source_caller_id_number=PhoneNumberIdentifier(BOT),
    )
    failed = sim.wait_for_delivery("CreateCallFailed").event["data"]
    assert (
        failed["callConnectionId"] == busy.call_connection_id and failed["resultInformation"]["code"] == 486
    )
    sim.config.no_answer_numbers.add(AGENT)
    client.create_call(
        PhoneNumberIdentifier(AGENT),
        f"{receiver.url}/callbacks",
        source_caller_id_number=PhoneNumberIdentifier(BOT),
    )
    assert (
        sim.wait_for_delivery("CreateCallFailed", count=2).event["data"]["resultInformation"]["code"] == 408
    )
    assert not receiver.events("CallConnected")


def test_media_streaming_started_and_stopped_on_request(
    sim: AcsSimulator, client: CallAutomationClient, receiver: Receiver
) -> None:
    call_id = answer_incoming(sim, client, receiver, media_streaming=streaming(receiver, start=False))
    assert not receiver.sessions
    connection = client.get_call_connection(call_id)
    connection.start_media_streaming(operation_context="stream")
    assert sim.wait_for_delivery("MediaStreamingStarted").event["data"]["operationContext"] == "stream"
    connection.stop_media_streaming()
    stopped = sim.wait_for_delivery("MediaStreamingStopped").event["data"]
    assert stopped["mediaStreamingUpdate"]["mediaStreamingStatus"] == "mediaStreamingStopped"
    wait(lambda: receiver.sessions[0].closed, "the media socket to close")


def test_a_refused_media_socket_is_media_streaming_failed(
    sim: AcsSimulator, client: CallAutomationClient, receiver: Receiver
) -> None:
    with socket.socket() as closed_port:
        closed_port.bind(("127.0.0.1", 0))
        options = streaming(receiver)
        options.transport_url = f"ws://127.0.0.1:{closed_port.getsockname()[1]}/ws"
        call_id = place_call(sim, client, receiver, media_streaming=options)
        failed = sim.wait_for_delivery("MediaStreamingFailed", call_id=call_id).event["data"]
    assert failed["mediaStreamingUpdate"]["mediaStreamingStatusDetails"] == "streamConnectionUnsuccessful"
    assert sim.call(call_id).media_state == "inactive" and sim.call(call_id).protocol_errors


def test_reject_an_incoming_call(sim: AcsSimulator, client: CallAutomationClient, receiver: Receiver) -> None:
    receiver.on_incoming = lambda event: client.reject_call(event["data"]["incomingCallContext"])
    call_id = sim.call_id_for(sim.ring(CALLER, BOT))
    assert sim.wait_for_call_state(call_id, CallState.DISCONNECTED).ended_reason == "rejected (none)"


def test_callback_failures_are_retried_then_recorded(
    sim: AcsSimulator, client: CallAutomationClient, receiver: Receiver
) -> None:
    receiver.failures = [503, 500]
    call_id = place_call(sim, client, receiver)
    connected = sim.wait_for_delivery("CallConnected", call_id=call_id)
    assert connected.ok and connected.attempts == 3 and connected.status_code == 200
    receiver.failures = [500] * 3
    client.get_call_connection(call_id).hang_up(is_for_everyone=True)
    disconnected = sim.wait_for_delivery("CallDisconnected", call_id=call_id)
    assert not disconnected.ok and disconnected.attempts == 3 and disconnected.error == "HTTP 500"


def test_the_sim_http_api(sim: AcsSimulator, receiver: Receiver) -> None:
    with httpx.Client(base_url=sim.endpoint) as http:
        ringing = http.post("/sim/calls/incoming", json={"from": CALLER, "to": BOT}).json()
        assert ringing["incomingCallContext"] == sim.call(ringing["callConnectionId"]).incoming_call_context
        call_id = ringing["callConnectionId"]
        assert http.get("/sim/calls").json()[0]["state"] == "ringing"
        pcm = base64.b64encode(tone(2)).decode()
        said = http.post(f"/sim/calls/{call_id}/say", json={"pcm": pcm}).json()
        assert said == {"bytes": 1280, "seconds": 0.04, "callConnectionId": call_id}
        assert http.post(f"/sim/calls/{call_id}/dtmf", json={"tones": "7"}).status_code == 202
        assert http.post(f"/sim/calls/{call_id}/dtmf", json={"tones": "x"}).status_code == 400
        timeline = http.get(f"/sim/calls/{call_id}").json()["timeline"]
        assert [(e["kind"], e["detail"]) for e in timeline] == [("dtmf", "7")]
        assert http.post(f"/sim/calls/{ringing['callConnectionId']}/hangup").status_code == 202
        assert (
            http.post("/sim/sms/inbound", json={"from": CALLER, "to": BOT, "message": "hi"}).status_code
            == 201
        )
        sim.wait_for_deliveries_idle()
        assert [e["eventType"] for e in http.get("/sim/events").json()] == [
            INCOMING_CALL,
            "Microsoft.Communication.SMSReceived",
        ]
        assert http.get("/sim/sms/outbox").json() == []
        assert http.get("/sim").json()["jwksUrl"] == sim.jwks_url
        assert http.get("/sim/calls/nope").status_code == 404


async def test_the_async_sdk_client(receiver: Receiver) -> None:
    async with (
        AcsSimulator(speed=0, answer_delay_s=0) as sim,
        AsyncCallAutomationClient(sim.endpoint, AzureKeyCredential(sim.access_key)) as client,
    ):
        properties = await client.create_call(
            PhoneNumberIdentifier(CALLER),
            f"{receiver.url}/callbacks",
            source_caller_id_number=PhoneNumberIdentifier(BOT),
        )
        assert properties.call_connection_state == "connecting" and properties.call_connection_id
        call_id = properties.call_connection_id
        await sim.wait_until_async(lambda: receiver.events("CallConnected"), what="CallConnected")
        await client.get_call_connection(call_id).play_media(TextSource(text="Hi"))
        await sim.wait_until_async(lambda: receiver.events("PlayCompleted"), what="PlayCompleted")
        await client.get_call_connection(call_id).hang_up(is_for_everyone=True)
        await sim.wait_until_async(lambda: receiver.events("CallDisconnected"), what="CallDisconnected")


def test_typed_caller_lines_are_spoken_into_the_newest_live_call(
    sim: AcsSimulator, receiver: Receiver
) -> None:
    """`POST /sim/calls/{id}/say {"text"}`: the configured caller voice speaks it (the local stack gives
    piper; here a voice that returns a known tone, so the bytes queued can be checked)."""
    spoken: list[tuple[str, str]] = []

    async def voice(text: str, lang: str) -> bytes:
        spoken.append((text, lang))
        return tone(10)

    with httpx.Client(base_url=sim.endpoint) as http:
        assert http.post("/sim/calls/latest/say", json={"text": "hello"}).status_code == 404  # no call yet
        call_id = http.post("/sim/calls/incoming", json={"from": CALLER, "to": BOT}).json()[
            "callConnectionId"
        ]
        refused = http.post(f"/sim/calls/{call_id}/say", json={"text": "hello"})
        assert refused.status_code == 501 and "No caller voice" in refused.text
        sim.config.caller_voice = voice
        said = http.post("/sim/calls/latest/say", json={"text": "My name is John.", "lang": "fr-FR"})
        assert said.status_code == 202, said.text
        assert said.json() == {"bytes": 6400, "seconds": 0.2, "callConnectionId": call_id}
        assert spoken == [("My name is John.", "fr-FR")]
        for bad in ({"text": "  "}, {"text": "x" * 501}, {"text": "hi", "lang": 5}):
            assert http.post(f"/sim/calls/{call_id}/say", json=bad).status_code == 400, bad
        assert http.post("/sim/calls/latest/hangup").status_code == 202
        assert sim.call(call_id).ended
        ended = http.post(f"/sim/calls/{call_id}/say", json={"text": "still there?"})
        assert ended.status_code == 409 and "ended" in ended.text
        assert http.post("/sim/calls/latest/say", json={"text": "hello"}).status_code == 404
