"""The ACS media-streaming wire protocol: JSON text messages on the media websocket.

Both ends use this module: the media host (the bot side) parses what the phone sends and encodes what
the bot says; the ACS simulator (the phone side) does the reverse. No Python SDK covers this protocol.

Phone -> bot (ACS writes camelCase; the parser accepts any key casing):

    {"kind":"AudioMetadata","audioMetadata":{"subscriptionId":"...","encoding":"PCM","sampleRate":16000,
     "channels":1,"length":640}}
    {"kind":"AudioData","audioData":{"timestamp":"...","participantRawID":"4:+3361...","data":"<b64>",
     "silent":false}}
    {"kind":"DtmfData","dtmfData":{"data":"3"}}

Bot -> phone (PascalCase, as the ACS documentation shows; the parser accepts any key casing):

    {"Kind":"AudioData","AudioData":{"Data":"<b64>"},"StopAudio":null}
    {"Kind":"StopAudio","AudioData":null,"StopAudio":{}}

Audio is 16-bit little-endian mono PCM; a 20 ms frame is 640 bytes at 16 kHz and 960 bytes at 24 kHz.
Every malformed message raises `ProtocolError` (a `ValueError`) with a short reason.

Audio frames are the hot path (50 a second per call each way), so they have a fast path: an AudioData
message exactly as ACS (inbound) or this module (outbound) writes it is checked by hand, without
pydantic; anything else (another casing, extra keys, a doubtful value) goes the general way, which
decides. The fast path only ever accepts what the general path accepts, with the same result.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

__all__ = [
    "DTMF_TONES",
    "MAX_FRAME_BYTES",
    "AudioData",
    "AudioMetadata",
    "DtmfData",
    "InboundMessage",
    "OutboundAudio",
    "OutboundMessage",
    "ProtocolError",
    "StopAudio",
    "audio_data",
    "encode_audio_data",
    "encode_audio_metadata",
    "encode_dtmf",
    "frame_bytes",
    "parse_inbound",
    "parse_outbound",
    "stop_audio",
]

MAX_FRAME_BYTES = 64 * 1024
"""The largest PCM payload one message may carry (about 2 s at 16 kHz)."""

DTMF_TONES = frozenset("0123456789*#ABCD")
"""The characters a DTMF message may carry."""

_MAX_B64_CHARS = (MAX_FRAME_BYTES + 2) // 3 * 4
_W = TypeVar("_W", bound="_Wire")
_SEPARATORS = (",", ":")


class ProtocolError(ValueError):
    """A media-stream message that does not follow the protocol."""


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AudioMetadata(_Message):
    """The first message of a stream: the audio format the phone sends."""

    kind: Literal["AudioMetadata"] = "AudioMetadata"
    subscription_id: str
    encoding: str = "PCM"
    sample_rate: int = Field(default=16000, gt=0)
    channels: int = Field(default=1, gt=0)
    length: int = Field(default=640, gt=0)


class AudioData(_Message):
    """One frame of the caller's audio, decoded."""

    kind: Literal["AudioData"] = "AudioData"
    pcm: bytes
    timestamp: str | None = None
    participant_raw_id: str | None = None
    silent: bool = False


class DtmfData(_Message):
    """A DTMF tone the caller pressed (streamed when the stream enables DTMF)."""

    kind: Literal["DtmfData"] = "DtmfData"
    tone: str


class OutboundAudio(_Message):
    """Audio the bot sends to be played to the caller, decoded."""

    kind: Literal["AudioData"] = "AudioData"
    pcm: bytes


class StopAudio(_Message):
    """The bot asks the phone to drop the audio it has not played yet (barge-in)."""

    kind: Literal["StopAudio"] = "StopAudio"


InboundMessage = AudioMetadata | AudioData | DtmfData
OutboundMessage = OutboundAudio | StopAudio


# Wire shapes, validated after the keys are lower-cased (so any casing is accepted).
class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _WireMetadata(_Wire):
    subscriptionid: StrictStr
    encoding: StrictStr
    samplerate: StrictInt = Field(gt=0)
    channels: StrictInt = Field(gt=0)
    length: StrictInt = Field(gt=0)


class _WireAudio(_Wire):
    data: StrictStr
    timestamp: StrictStr | None = None
    participantrawid: StrictStr | None = None
    silent: StrictBool = False


class _WireDtmf(_Wire):
    data: StrictStr


class _WireOutboundAudio(_Wire):
    data: StrictStr


def frame_bytes(sample_rate: int, milliseconds: int = 20, channels: int = 1) -> int:
    """Bytes of 16-bit PCM in one frame: 640 for 20 ms at 16 kHz, 960 at 24 kHz."""
    return sample_rate * milliseconds // 1000 * 2 * channels


def _check_pcm(pcm: bytes) -> None:
    if len(pcm) % 2:
        raise ProtocolError("odd byte length: 16-bit PCM needs an even number of bytes")
    if len(pcm) > MAX_FRAME_BYTES:
        raise ProtocolError(f"oversized frame: {len(pcm)} bytes > {MAX_FRAME_BYTES}")


def _decode_pcm(data: str) -> bytes:
    if len(data) > _MAX_B64_CHARS:
        raise ProtocolError(f"oversized frame: more than {MAX_FRAME_BYTES} bytes")
    try:
        pcm = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProtocolError("bad base64 in audio data") from exc
    _check_pcm(pcm)
    return pcm


def _encode_pcm(pcm: bytes) -> str:
    _check_pcm(pcm)
    return binascii.b2a_base64(pcm, newline=False).decode("ascii")


def _strict_b64(data: str) -> bytes | None:
    """`data` decoded when it is canonical base64 of whole 16-bit samples within the size limit, else
    None (the general path then decides). Canonical base64 always passes `_decode_pcm` too, to the
    same bytes: it matches `[A-Za-z0-9+/]*={0,2}` and decodes the same way."""
    if len(data) > _MAX_B64_CHARS:
        return None
    try:
        pcm = binascii.a2b_base64(data, strict_mode=True)
    except (binascii.Error, ValueError):  # ValueError: a non-ASCII str
        return None
    return pcm if not len(pcm) % 2 and len(pcm) <= MAX_FRAME_BYTES else None


def _lower_keys(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ProtocolError("not a JSON object")
    return {str(key).lower(): item for key, item in value.items()}


def _fast_json(text: str | bytes) -> object:
    """orjson's reading of the message, None when it refuses it. Only for the fast paths: they accept
    strings, booleans and nulls, which it reads as the standard parser does (not so integers beyond
    64 bits, which it turns into floats)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def _json(text: str | bytes) -> object:
    """The message as the standard parser reads it (the general path)."""
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: nesting too deep
        raise ProtocolError("bad JSON") from exc


def _load(raw: object) -> tuple[str, dict[str, Any]]:
    """The parsed message's kind and its lower-cased top-level keys."""
    message = _lower_keys(raw)
    kind = message.get("kind")
    if kind is None:
        raise ProtocolError("missing field: kind")
    if not isinstance(kind, str):
        raise ProtocolError("unknown kind: not a string")
    return kind, message


def _payload(message: dict[str, Any], key: str, wire: type[_W]) -> _W:
    body = message.get(key.lower())
    if body is None:
        raise ProtocolError(f"missing field: {key}")
    try:
        return wire.model_validate(_lower_keys(body))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or key
        reason = "missing field" if first["type"] == "missing" else "bad field"
        raise ProtocolError(f"{reason}: {key}.{field}") from exc


_AUDIO_KEYS = frozenset(("kind", "audioData"))
_AUDIO_DATA_KEYS = frozenset(("timestamp", "participantRawID", "data", "silent"))


def _fast_inbound_audio(raw: object) -> AudioData | None:
    """An AudioData message with ACS's own keys and plainly valid values, else None."""
    if type(raw) is not dict or raw.get("kind") != "AudioData" or not raw.keys() <= _AUDIO_KEYS:
        return None
    body = raw.get("audioData")
    if type(body) is not dict or not body.keys() <= _AUDIO_DATA_KEYS:
        return None
    data, timestamp = body.get("data"), body.get("timestamp")
    participant, silent = body.get("participantRawID"), body.get("silent", False)
    if (
        type(data) is not str
        or (timestamp is not None and type(timestamp) is not str)
        or (participant is not None and type(participant) is not str)
        or type(silent) is not bool
    ):
        return None
    pcm = _strict_b64(data)
    if pcm is None:
        return None
    return AudioData(pcm=pcm, timestamp=timestamp, participant_raw_id=participant, silent=silent)


def parse_inbound(text: str | bytes) -> InboundMessage:
    """Parse a phone -> bot message: AudioMetadata, AudioData (PCM decoded) or DtmfData."""
    fast = _fast_inbound_audio(_fast_json(text))
    return _parse_inbound(_json(text)) if fast is None else fast


def _parse_inbound(raw: object) -> InboundMessage:
    """The general path of `parse_inbound`, from the message as `_json` reads it."""
    kind, message = _load(raw)
    match kind.lower():
        case "audiometadata":
            meta = _payload(message, "audioMetadata", _WireMetadata)
            return AudioMetadata(
                subscription_id=meta.subscriptionid,
                encoding=meta.encoding,
                sample_rate=meta.samplerate,
                channels=meta.channels,
                length=meta.length,
            )
        case "audiodata":
            audio = _payload(message, "audioData", _WireAudio)
            return AudioData(
                pcm=_decode_pcm(audio.data),
                timestamp=audio.timestamp,
                participant_raw_id=audio.participantrawid,
                silent=audio.silent,
            )
        case "dtmfdata":
            tone = _payload(message, "dtmfData", _WireDtmf).data
            if len(tone) != 1 or tone.upper() not in DTMF_TONES:
                raise ProtocolError(f"bad DTMF tone: {tone[:8]!r}")
            return DtmfData(tone=tone.upper())
    raise ProtocolError(f"unknown kind: {kind[:40]!r}")


_BOT_AUDIO_KEYS = frozenset(("Kind", "AudioData", "StopAudio"))
_BOT_AUDIO_DATA_KEYS = frozenset(("Data",))


def _fast_outbound_audio(raw: object) -> OutboundAudio | None:
    """An AudioData message as `audio_data` writes it (PascalCase) with a plainly valid payload."""
    if type(raw) is not dict or raw.get("Kind") != "AudioData" or not raw.keys() <= _BOT_AUDIO_KEYS:
        return None
    body = raw.get("AudioData")
    if type(body) is not dict or body.keys() != _BOT_AUDIO_DATA_KEYS or type(data := body["Data"]) is not str:
        return None
    pcm = _strict_b64(data)
    return None if pcm is None else OutboundAudio(pcm=pcm)


def parse_outbound(text: str | bytes) -> OutboundMessage:
    """Parse a bot -> phone message: AudioData (PCM decoded) or StopAudio."""
    fast = _fast_outbound_audio(_fast_json(text))
    return _parse_outbound(_json(text)) if fast is None else fast


def _parse_outbound(raw: object) -> OutboundMessage:
    """The general path of `parse_outbound`, from the message as `_json` reads it."""
    kind, message = _load(raw)
    match kind.lower():
        case "audiodata":
            return OutboundAudio(pcm=_decode_pcm(_payload(message, "AudioData", _WireOutboundAudio).data))
        case "stopaudio":
            return StopAudio()
    raise ProtocolError(f"unknown kind: {kind[:40]!r}")


def _dumps(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=_SEPARATORS, ensure_ascii=False)


# Bot -> phone. Base64 needs no JSON escaping, so the frame is written around it (what `_dumps` of the
# same object writes, a golden test compares them).
_BOT_AUDIO_HEAD = '{"Kind":"AudioData","AudioData":{"Data":"'
_BOT_AUDIO_TAIL = '"},"StopAudio":null}'


def audio_data(pcm: bytes) -> str:
    """`{"Kind":"AudioData","AudioData":{"Data":"<b64>"},"StopAudio":null}`."""
    return _BOT_AUDIO_HEAD + _encode_pcm(pcm) + _BOT_AUDIO_TAIL


def stop_audio() -> str:
    """`{"Kind":"StopAudio","AudioData":null,"StopAudio":{}}`."""
    return _dumps({"Kind": "StopAudio", "AudioData": None, "StopAudio": {}})


# Phone -> bot.
def encode_audio_metadata(
    subscription_id: str,
    *,
    sample_rate: int = 16000,
    channels: int = 1,
    length: int | None = None,
    encoding: str = "PCM",
) -> str:
    """The stream's opening message; `length` defaults to the bytes of a 20 ms frame."""
    frame = frame_bytes(sample_rate, channels=channels) if length is None else length
    metadata = {
        "subscriptionId": subscription_id,
        "encoding": encoding,
        "sampleRate": sample_rate,
        "channels": channels,
        "length": frame,
    }
    return _dumps({"kind": "AudioMetadata", "audioMetadata": metadata})


def encode_audio_data(
    pcm: bytes, timestamp: datetime | str, participant_raw_id: str, silent: bool = False
) -> str:
    """One caller frame; a datetime timestamp is written as ISO 8601 UTC with a `Z`."""
    if isinstance(timestamp, datetime):
        moment = timestamp.astimezone(UTC) if timestamp.tzinfo else timestamp.replace(tzinfo=UTC)
        timestamp = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    audio = {
        "timestamp": timestamp,
        "participantRawID": participant_raw_id,
        "data": _encode_pcm(pcm),
        "silent": silent,
    }
    return _dumps({"kind": "AudioData", "audioData": audio})


def encode_dtmf(tone: str) -> str:
    """`{"kind":"DtmfData","dtmfData":{"data":"3"}}` for one tone of 0-9, *, #, A-D."""
    if len(tone) != 1 or tone.upper() not in DTMF_TONES:
        raise ProtocolError(f"bad DTMF tone: {tone[:8]!r}")
    return _dumps({"kind": "DtmfData", "dtmfData": {"data": tone.upper()}})
