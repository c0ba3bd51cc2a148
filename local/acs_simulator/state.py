"""The simulator's state: settings, calls, recordings, SMS, deliveries, and each call's timeline.

Everything lives on one simulator instance (several can run in one process). The event loop of the
simulator's thread is the only writer; other threads read (appends and copies are atomic in CPython).
"""

from __future__ import annotations

import asyncio
import base64
import re
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "DEFAULT_AUDIENCE",
    "CallAudio",
    "CallState",
    "Delivery",
    "MediaOptions",
    "Recording",
    "SimCall",
    "SimulatorConfig",
    "SmsMessage",
    "TimelineEvent",
    "TimelineKind",
    "identifier",
    "new_server_call_id",
    "phone_of",
    "utc_now",
]

DEFAULT_AUDIENCE = "call-center-ai-local"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def identifier(number: str) -> dict[str, Any]:
    """A phone number as an ACS CommunicationIdentifierModel."""
    return {"kind": "phoneNumber", "rawId": f"4:{number}", "phoneNumber": {"value": number}}


def phone_of(model: object) -> str:
    """The phone number (or raw id) of a CommunicationIdentifierModel sent by the SDK."""
    if not isinstance(model, dict):
        raise ValueError("an identifier must be a JSON object")
    phone = model.get("phoneNumber")
    if isinstance(phone, dict) and isinstance(phone.get("value"), str):
        return str(phone["value"])
    raw_id = model.get("rawId")
    if isinstance(raw_id, str) and raw_id:
        return raw_id.removeprefix("4:")
    raise ValueError("the identifier has neither phoneNumber.value nor rawId")


def new_server_call_id() -> str:
    locator = f"https://simulator.local/conv/{uuid.uuid4()}?i=1&e={time.time_ns()}"
    return base64.urlsafe_b64encode(locator.encode()).decode().rstrip("=")


class CallState(StrEnum):
    """ACS callConnectionState values, plus the simulator's own `ringing` (not answered yet)."""

    RINGING = "ringing"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    TRANSFERRING = "transferring"
    TRANSFER_ACCEPTED = "transferAccepted"
    DISCONNECTING = "disconnecting"
    DISCONNECTED = "disconnected"


class TimelineKind(StrEnum):
    CONNECTED = "connected"
    MEDIA_CONNECTED = "media_connected"
    CALLER_SPEECH_START = "caller_speech_start"
    CALLER_SPEECH_END = "caller_speech_end"
    BOT_AUDIO_FIRST_FRAME = "bot_audio_first_frame"
    STOP_AUDIO = "stop_audio"
    DTMF = "dtmf"
    MEDIA_DISCONNECTED = "media_disconnected"
    DISCONNECTED = "disconnected"


@dataclass(frozen=True)
class TimelineEvent:
    """Something the phone saw or did; `at` is `time.monotonic()` (comparable across threads)."""

    kind: TimelineKind
    at: float
    detail: str = ""
    dropped_bytes: int = 0


@dataclass
class SimulatorConfig:
    """Behaviour knobs; change them at run time through `sim.config`."""

    access_key: str
    audience: str = DEFAULT_AUDIENCE
    event_grid_urls: dict[str, str] = field(default_factory=dict)
    """Event Grid subscriber URL per event type (e.g. `Microsoft.Communication.IncomingCall`); `*` = any."""
    speed: float = 1.0
    """Media pacing of new calls: 1 = real time, 10 = ten times faster, 0 = as fast as possible."""
    echo_gain: float = 0.0
    """Bot audio mixed, attenuated, into the caller's frames (speakerphone echo) of new calls."""
    answer_delay_s: float = 0.2
    """Outbound calls: how long the callee takes to pick up."""
    no_answer_timeout_s: float = 2.0
    connect_delay_s: float = 0.0
    """Inbound calls: from the answer request to CallConnected."""
    transfer_delay_s: float = 0.05
    play_duration_s: float = 0.2
    play_fails: bool = False
    recognize_timeout_s: float = 5.0
    busy_numbers: set[str] = field(default_factory=set)
    no_answer_numbers: set[str] = field(default_factory=set)
    failing_transfer_targets: set[str] = field(default_factory=set)
    delivery_attempts: int = 3
    delivery_backoff_s: float = 0.05
    delivery_timeout_s: float = 5.0
    token_ttl_s: int = 300
    resource_topic: str = (
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/"
        "Microsoft.Communication/communicationServices/acs-simulator"
    )
    softphone_to: str | None = None
    """The bot's number the browser softphone (`GET /softphone`) dials; None disables it."""
    softphone_events: Callable[[str], Awaitable[dict[str, Any] | None]] | None = None
    """`fetch_call(call connection id)` -> {"messages": [{"persona", "text"}], "claim": {...},
    "report_url"?}: what the softphone page shows (the call document, read by the local stack)."""

    caller_voice: Callable[[str, str], Awaitable[bytes]] | None = None
    """`voice(text, language)` -> 16 kHz mono PCM16LE: lets `POST /sim/calls/{id}/say {"text"}` speak a
    typed line as the caller (the local stack gives it the local speech engines); None refuses text."""

    def event_grid_url(self, event_type: str) -> str | None:
        return self.event_grid_urls.get(event_type) or self.event_grid_urls.get("*")


@dataclass(frozen=True)
class MediaOptions:
    """`mediaStreamingOptions` of an answer or create-call request."""

    transport_url: str
    audio_format: str = "pcm16KMono"
    bidirectional: bool = False
    start_media_streaming: bool = False
    enable_dtmf_tones: bool = False
    content_type: str = "audio"
    audio_channel_type: str = "mixed"

    @property
    def sample_rate(self) -> int:
        return 24000 if self.audio_format.lower() == "pcm24kmono" else 16000

    @classmethod
    def from_json(cls, body: object) -> MediaOptions:
        if not isinstance(body, dict):
            raise ValueError("mediaStreamingOptions must be an object")
        url = body.get("transportUrl")
        if not isinstance(url, str) or not url.startswith(("ws://", "wss://")):
            raise ValueError("mediaStreamingOptions.transportUrl must be a ws:// or wss:// URL")
        audio_format = str(body.get("audioFormat") or "pcm16KMono")
        if audio_format.lower() not in ("pcm16kmono", "pcm24kmono"):
            raise ValueError(f"unsupported audioFormat {audio_format!r}")
        return cls(
            transport_url=url,
            audio_format=audio_format,
            bidirectional=bool(body.get("enableBidirectional")),
            start_media_streaming=bool(body.get("startMediaStreaming")),
            enable_dtmf_tones=bool(body.get("enableDtmfTones")),
            content_type=str(body.get("contentType") or "audio"),
            audio_channel_type=str(body.get("audioChannelType") or "mixed"),
        )


@dataclass(eq=False)
class CallAudio:
    """What went over the call's media stream."""

    sample_rate: int = 16000
    heard: bytearray = field(default_factory=bytearray)
    """Bot audio the phone played (StopAudio drops what was not played yet)."""
    sent: bytearray = field(default_factory=bytearray)
    """Every caller frame sent, silence and echo included."""
    mixed: bytearray = field(default_factory=bytearray)
    """Caller plus played bot audio, captured while a recording runs."""
    received_bytes: int = 0
    capturing: bool = False
    heard_wav: Path | None = None
    sent_wav: Path | None = None


@dataclass(eq=False)
class SimCall:
    """One call as the simulated ACS sees it."""

    call_connection_id: str
    server_call_id: str
    correlation_id: str
    direction: Literal["inbound", "outbound"]
    caller: str
    """The human's number: the caller of an inbound call, the callee of an outbound one."""
    bot_number: str
    state: CallState
    speed: float
    echo_gain: float
    caller_display_name: str | None = None
    incoming_call_context: str | None = None
    callback_uri: str | None = None
    operation_context: str | None = None
    media: MediaOptions | None = None
    media_subscription_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    media_state: Literal["disabled", "inactive", "active"] = "disabled"
    recording_id: str | None = None
    transfer_target: str | None = None
    ended_reason: str | None = None
    created_at: datetime = field(default_factory=utc_now)
    audio: CallAudio = field(default_factory=CallAudio)
    timeline: list[TimelineEvent] = field(default_factory=list)
    protocol_errors: list[str] = field(default_factory=list)
    pending_speech: deque[tuple[bytes, int]] = field(default_factory=deque)
    """Scripted caller utterances not started yet: (PCM, sample rate)."""
    dtmf_buffer: deque[str] = field(default_factory=deque)
    dtmf_arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def ended(self) -> bool:
        return self.state is CallState.DISCONNECTED

    def mark(self, kind: TimelineKind, detail: str = "", dropped_bytes: int = 0) -> TimelineEvent:
        event = TimelineEvent(kind, time.monotonic(), detail, dropped_bytes)
        self.timeline.append(event)
        return event

    def properties(self) -> dict[str, Any]:
        """The call as ACS CallConnectionProperties JSON."""
        bot, human = identifier(self.bot_number), identifier(self.caller)
        inbound = self.direction == "inbound"
        state = "unknown" if self.state is CallState.RINGING else self.state.value
        body: dict[str, Any] = {
            "callConnectionId": self.call_connection_id,
            "serverCallId": self.server_call_id,
            "targets": [bot if inbound else human],
            "callConnectionState": state,
            "callbackUri": self.callback_uri,
            "source": human if inbound else bot,
            "sourceCallerIdNumber": {"value": self.caller if inbound else self.bot_number},
            "correlationId": self.correlation_id,
        }
        if self.caller_display_name:
            body["sourceDisplayName"] = self.caller_display_name
        if inbound:
            body["answeredFor"] = {"value": self.bot_number}
        if self.media is not None:
            body["mediaStreamingSubscription"] = {
                "id": self.media_subscription_id,
                "state": self.media_state,
                "subscribedContentTypes": ["audio"],
            }
        return body

    def summary(self) -> dict[str, Any]:
        """The call for the /sim inspection API."""
        return {
            "callConnectionId": self.call_connection_id,
            "serverCallId": self.server_call_id,
            "correlationId": self.correlation_id,
            "direction": self.direction,
            "state": self.state.value,
            "caller": self.caller,
            "botNumber": self.bot_number,
            "callbackUri": self.callback_uri,
            "media": None if self.media is None else asdict(self.media),
            "mediaState": self.media_state,
            "recordingId": self.recording_id,
            "transferTarget": self.transfer_target,
            "endedReason": self.ended_reason,
            "createdAt": iso(self.created_at),
            "speed": self.speed,
            "echoGain": self.echo_gain,
            "botAudioHeardBytes": len(self.audio.heard),
            "botAudioReceivedBytes": self.audio.received_bytes,
            "callerAudioSentBytes": len(self.audio.sent),
            "protocolErrors": list(self.protocol_errors),
        }

    def timeline_json(self) -> list[dict[str, Any]]:
        return [
            {"kind": e.kind.value, "at": e.at, "detail": e.detail, "droppedBytes": e.dropped_bytes}
            for e in list(self.timeline)
        ]


@dataclass(eq=False)
class Recording:
    recording_id: str
    call_connection_id: str
    server_call_id: str
    callback_uri: str | None
    started_at: datetime = field(default_factory=utc_now)
    state: Literal["active", "inactive"] = "active"
    start_offset: int = 0
    segments: list[bytes] = field(default_factory=list)
    stopped: bool = False
    path: Path | None = None
    # what the start request asked for, as the file event reports it; ACS's defaults when not asked:
    # audio and video, mixed, mp4 (the simulator's file is WAV audio whatever is asked)
    content_type: str = "AudioVideo"
    channel_type: str = "Mixed"
    format_type: str = "Mp4"

    def properties(self) -> dict[str, Any]:
        return {
            "recordingId": self.recording_id,
            "recordingState": self.state,
            "recordingKind": "azureCommunicationServices",
        }


@dataclass(frozen=True)
class SmsMessage:
    message_id: str
    from_number: str
    to_number: str
    message: str
    direction: Literal["outbound", "inbound"]
    successful: bool = True
    error_message: str | None = None
    tag: str | None = None
    delivery_report: bool = False
    created_at: datetime = field(default_factory=utc_now)

    def to_json(self) -> dict[str, Any]:
        return {
            "messageId": self.message_id,
            "from": self.from_number,
            "to": self.to_number,
            "message": self.message,
            "direction": self.direction,
            "successful": self.successful,
            "errorMessage": self.error_message,
            "tag": self.tag,
            "createdAt": iso(self.created_at),
        }


@dataclass(eq=False)
class Delivery:
    """One event POST (a callback or an Event Grid notification), updated as it is attempted."""

    channel: Literal["callback", "eventgrid"]
    event_type: str
    url: str | None
    event: dict[str, Any]
    call_connection_id: str | None = None
    status_code: int | None = None
    attempts: int = 0
    ok: bool = False
    done: bool = False
    error: str | None = None
    authorization: str | None = None
    finished_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "eventType": self.event_type,
            "url": self.url,
            "callConnectionId": self.call_connection_id,
            "statusCode": self.status_code,
            "attempts": self.attempts,
            "ok": self.ok,
            "done": self.done,
            "error": self.error,
            "event": self.event,
        }
