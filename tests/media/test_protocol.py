"""Golden tests of the ACS media-streaming wire protocol (both directions, both casings)."""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from media_host import protocol
from media_host.protocol import (
    MAX_FRAME_BYTES,
    AudioData,
    AudioMetadata,
    DtmfData,
    OutboundAudio,
    ProtocolError,
    StopAudio,
    audio_data,
    encode_audio_data,
    encode_audio_metadata,
    encode_dtmf,
    frame_bytes,
    parse_inbound,
    parse_outbound,
    stop_audio,
)

PCM = bytes(range(256)) * 2 + bytes(128)  # 640 bytes: one 20 ms frame at 16 kHz
B64 = base64.b64encode(PCM).decode()

METADATA = (
    '{"kind":"AudioMetadata","audioMetadata":{"subscriptionId":"sub-1","encoding":"PCM",'
    '"sampleRate":16000,"channels":1,"length":640}}'
)
AUDIO = (
    '{"kind":"AudioData","audioData":{"timestamp":"2024-05-01T12:00:00.020Z",'
    f'"participantRawID":"4:+33612345678","data":"{B64}","silent":false}}}}'
)
DTMF = '{"kind":"DtmfData","dtmfData":{"data":"3"}}'
BOT_AUDIO = f'{{"Kind":"AudioData","AudioData":{{"Data":"{B64}"}},"StopAudio":null}}'
BOT_STOP = '{"Kind":"StopAudio","AudioData":null,"StopAudio":{}}'


def test_frame_sizes() -> None:
    assert frame_bytes(16000) == 640
    assert frame_bytes(24000) == 960


def test_parse_inbound_metadata() -> None:
    assert parse_inbound(METADATA) == AudioMetadata(
        subscription_id="sub-1", encoding="PCM", sample_rate=16000, channels=1, length=640
    )


def test_parse_inbound_audio_decodes_pcm() -> None:
    message = parse_inbound(AUDIO)
    assert isinstance(message, AudioData)
    assert message.pcm == PCM
    assert message.timestamp == "2024-05-01T12:00:00.020Z"
    assert message.participant_raw_id == "4:+33612345678"
    assert message.silent is False


def test_parse_inbound_dtmf() -> None:
    assert parse_inbound(DTMF) == DtmfData(tone="3")
    assert parse_inbound(DTMF.encode()) == DtmfData(tone="3")


def test_parse_inbound_accepts_pascal_case() -> None:
    pascal = (
        '{"Kind":"AudioData","AudioData":{"Timestamp":"t","ParticipantRawId":"4:+1",'
        f'"Data":"{B64}","Silent":true}}}}'
    )
    message = parse_inbound(pascal)
    assert message == AudioData(pcm=PCM, timestamp="t", participant_raw_id="4:+1", silent=True)
    meta = parse_inbound(
        '{"Kind":"AudioMetadata","AudioMetadata":{"SubscriptionId":"s","Encoding":"PCM",'
        '"SampleRate":24000,"Channels":1,"Length":960}}'
    )
    assert meta == AudioMetadata(subscription_id="s", sample_rate=24000, length=960)
    assert parse_inbound('{"Kind":"DtmfData","DtmfData":{"Data":"#"}}') == DtmfData(tone="#")


def test_bot_encoders_are_golden() -> None:
    assert audio_data(PCM) == BOT_AUDIO
    assert stop_audio() == BOT_STOP


def test_phone_encoders_are_golden() -> None:
    assert encode_audio_metadata("sub-1") == METADATA
    assert encode_audio_metadata("s", sample_rate=24000) == (
        '{"kind":"AudioMetadata","audioMetadata":{"subscriptionId":"s","encoding":"PCM",'
        '"sampleRate":24000,"channels":1,"length":960}}'
    )
    moment = datetime(2024, 5, 1, 12, 0, 0, 20000, tzinfo=UTC)
    assert encode_audio_data(PCM, moment, "4:+33612345678", silent=False) == AUDIO
    assert encode_audio_data(PCM, "2024-05-01T12:00:00.020Z", "4:+33612345678") == AUDIO
    assert encode_dtmf("3") == DTMF


def test_round_trips() -> None:
    assert parse_outbound(audio_data(PCM)) == OutboundAudio(pcm=PCM)
    assert parse_outbound(stop_audio()) == StopAudio()
    assert parse_inbound(encode_dtmf("a")) == DtmfData(tone="A")
    silent = parse_inbound(encode_audio_data(bytes(640), "t", "4:+1", silent=True))
    assert silent == AudioData(pcm=bytes(640), timestamp="t", participant_raw_id="4:+1", silent=True)


def test_parse_outbound_accepts_camel_case() -> None:
    camel = f'{{"kind":"AudioData","audioData":{{"data":"{B64}"}},"stopAudio":null}}'
    assert parse_outbound(camel) == OutboundAudio(pcm=PCM)
    assert parse_outbound('{"kind":"StopAudio","audioData":null,"stopAudio":{}}') == StopAudio()
    assert parse_outbound(BOT_AUDIO) == OutboundAudio(pcm=PCM)


def test_empty_audio_is_allowed() -> None:
    assert parse_outbound('{"Kind":"AudioData","AudioData":{"Data":""}}') == OutboundAudio(pcm=b"")


def test_max_frame_is_accepted() -> None:
    pcm = bytes(MAX_FRAME_BYTES)
    assert parse_outbound(audio_data(pcm)) == OutboundAudio(pcm=pcm)


ODD = base64.b64encode(b"abc").decode()
HUGE = base64.b64encode(bytes(MAX_FRAME_BYTES + 2)).decode()

MALFORMED_INBOUND = {
    "bad json": ("{not json", "bad JSON"),
    "truncated json": (METADATA[:-3], "bad JSON"),
    "not an object": ('["AudioData"]', "not a JSON object"),
    "missing kind": ('{"audioData":{"data":""}}', "missing field: kind"),
    "kind not a string": ('{"kind":3}', "unknown kind"),
    "unknown kind": ('{"kind":"VideoData","videoData":{}}', "unknown kind"),
    "outbound kind inbound": (BOT_STOP, "unknown kind"),
    "missing payload": ('{"kind":"AudioData"}', "missing field: audioData"),
    "payload not an object": ('{"kind":"AudioData","audioData":"x"}', "not a JSON object"),
    "missing data": ('{"kind":"AudioData","audioData":{"silent":false}}', "missing field: audioData.data"),
    "bad base64": ('{"kind":"AudioData","audioData":{"data":"@@@@"}}', "bad base64"),
    "bad base64 padding": ('{"kind":"AudioData","audioData":{"data":"QUJDRA"}}', "bad base64"),
    "odd byte length": (f'{{"kind":"AudioData","audioData":{{"data":"{ODD}"}}}}', "odd byte length"),
    "oversized frame": (f'{{"kind":"AudioData","audioData":{{"data":"{HUGE}"}}}}', "oversized frame"),
    "data not a string": ('{"kind":"AudioData","audioData":{"data":12}}', "bad field: audioData.data"),
    "silent not a bool": (
        f'{{"kind":"AudioData","audioData":{{"data":"{B64}","silent":"no"}}}}',
        "bad field: audioData.silent",
    ),
    "metadata missing rate": (
        '{"kind":"AudioMetadata","audioMetadata":{"subscriptionId":"s","encoding":"PCM","channels":1,'
        '"length":640}}',
        "missing field: audioMetadata.samplerate",
    ),
    "metadata zero rate": (
        '{"kind":"AudioMetadata","audioMetadata":{"subscriptionId":"s","encoding":"PCM","sampleRate":0,'
        '"channels":1,"length":640}}',
        "bad field: audioMetadata.samplerate",
    ),
    "dtmf two tones": ('{"kind":"DtmfData","dtmfData":{"data":"12"}}', "bad DTMF tone"),
    "dtmf bad tone": ('{"kind":"DtmfData","dtmfData":{"data":"x"}}', "bad DTMF tone"),
    "dtmf missing data": ('{"kind":"DtmfData","dtmfData":{}}', "missing field: dtmfData.data"),
    "not utf-8": (b"\xff\xfe{", "bad JSON"),
}


@pytest.mark.parametrize(("text", "reason"), MALFORMED_INBOUND.values(), ids=MALFORMED_INBOUND.keys())
def test_malformed_inbound_raises(text: str | bytes, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason):
        parse_inbound(text)


MALFORMED_OUTBOUND = {
    "bad json": ("", "bad JSON"),
    "inbound kind outbound": (DTMF, "unknown kind"),
    "missing payload": ('{"Kind":"AudioData","StopAudio":null}', "missing field: AudioData"),
    "null payload": ('{"Kind":"AudioData","AudioData":null}', "missing field: AudioData"),
    "missing data": ('{"Kind":"AudioData","AudioData":{}}', "missing field: AudioData.data"),
    "bad base64": ('{"Kind":"AudioData","AudioData":{"Data":"not base64!"}}', "bad base64"),
    "odd byte length": (f'{{"Kind":"AudioData","AudioData":{{"Data":"{ODD}"}}}}', "odd byte length"),
    "oversized frame": (f'{{"Kind":"AudioData","AudioData":{{"Data":"{HUGE}"}}}}', "oversized frame"),
    "number": ("42", "not a JSON object"),
}


@pytest.mark.parametrize(("text", "reason"), MALFORMED_OUTBOUND.values(), ids=MALFORMED_OUTBOUND.keys())
def test_malformed_outbound_raises(text: str, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason):
        parse_outbound(text)


def test_protocol_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="bad JSON"):
        parse_inbound("nope")


@pytest.mark.parametrize("pcm", [b"abc", bytes(MAX_FRAME_BYTES + 2)], ids=["odd", "oversized"])
def test_encoders_refuse_bad_pcm(pcm: bytes) -> None:
    with pytest.raises(ProtocolError):
        audio_data(pcm)
    with pytest.raises(ProtocolError):
        encode_audio_data(pcm, "t", "4:+1")


def test_encode_dtmf_refuses_bad_tone() -> None:
    with pytest.raises(ProtocolError, match="bad DTMF tone"):
        encode_dtmf("E")


def test_golden_strings_are_json() -> None:
    for text in (METADATA, AUDIO, DTMF, BOT_AUDIO, BOT_STOP):
        assert isinstance(json.loads(text), dict)


# The fast paths of AudioData (inbound and outbound) against the general path they short-cut.


def _general_inbound(text: str | bytes) -> object:
    try:
        return protocol._parse_inbound(json.loads(text))
    except ProtocolError as exc:
        return ProtocolError(str(exc))


def _general_outbound(text: str | bytes) -> object:
    try:
        return protocol._parse_outbound(json.loads(text))
    except ProtocolError as exc:
        return ProtocolError(str(exc))


def _outcome(parse: Callable[[str], object], text: str) -> object:
    try:
        return parse(text)
    except ProtocolError as exc:
        return ProtocolError(str(exc))


def _same(left: object, right: object) -> bool:
    if isinstance(left, ProtocolError) and isinstance(right, ProtocolError):
        return str(left) == str(right)
    return left == right


def _b64_variants(rng: random.Random) -> list[str]:
    """Base64-ish payloads: canonical ones and near misses (padding, alphabet, whitespace, size)."""
    variants = [
        "",
        "AAAA",
        "QUJD",
        "QUJDRA==",
        "QUJDRA",
        "QUJDRA=",
        "QUJDRA===",
        "QUJD=",
        "QQ==",
        "Q===",
        "====",
    ]
    variants += [
        "QUJD\n",
        " QUJD",
        "QU JD",
        "QUJD-_==",
        "QUJDé",
        "Q\x00JD",
        ODD,
        HUGE,
        B64,
        B64[:-1],
        B64 + "=",
    ]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ \n"
    for _ in range(300):
        if rng.random() < 0.5:
            pcm = rng.randbytes(rng.randrange(0, 12))
            text = base64.b64encode(pcm).decode()
            if text and rng.random() < 0.5:
                position = rng.randrange(len(text) + 1)
                text = text[:position] + rng.choice(alphabet) + text[position:]
        else:
            text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 13)))
        variants.append(text)
    return variants


def _compare_paths(
    messages: list[object],
    fast_path: Callable[[object], object | None],
    general_path: Callable[[str], object],
    parse: Callable[[str], object],
) -> int:
    """Each message through the fast path (when it takes it) and the general path: same outcome,
    and `parse` gives it too. Returns how many messages the fast path took."""
    taken = 0
    for message in messages:
        text = json.dumps(message)
        fast = fast_path(protocol._fast_json(text))
        general = general_path(text)
        if fast is not None:
            taken += 1
            assert fast == general, text
        assert _same(_outcome(parse, text), general), text
    return taken


def test_fast_inbound_audio_parses_exactly_what_the_general_path_parses() -> None:
    rng = random.Random(7)
    bodies: list[dict[str, object]] = []
    for data in _b64_variants(rng):
        bodies.append({"timestamp": "t", "participantRawID": "4:+1", "data": data, "silent": False})
        bodies.append({"data": data})
    odd_values: list[object] = [None, 1, 1.5, "x", True, [], {}]
    for value in odd_values:
        for key in ("timestamp", "participantRawID", "data", "silent"):
            bodies.append({"data": B64, key: value})
    bodies += [{"data": B64, "extra": 1}, {"Data": B64}, {"data": B64, "Data": "QUJD"}, {}]
    messages: list[object] = [{"kind": "AudioData", "audioData": body} for body in bodies]
    messages += [
        {"kind": "AudioData", "audioData": {"data": B64}, "other": 1},
        {"Kind": "AudioData", "audioData": {"data": B64}},
        {"kind": "audiodata", "audioData": {"data": B64}},
        {"kind": "AudioData", "AudioData": {"data": B64}},
        {"kind": "AudioData", "audioData": {"data": B64}, "AudioData": {"data": "QUJD"}},
        {"kind": "AudioData", "audioData": None},
        {"kind": "AudioData", "audioData": "x"},
        {"kind": "AudioData"},
        {"kind": "DtmfData", "dtmfData": {"data": "1"}},
        ["AudioData"],
    ]
    fast_taken = _compare_paths(messages, protocol._fast_inbound_audio, _general_inbound, parse_inbound)
    assert fast_taken > 50  # the comparison covered the fast path, not only its refusals


def test_fast_outbound_audio_parses_exactly_what_the_general_path_parses() -> None:
    rng = random.Random(11)
    messages: list[object] = []
    for data in _b64_variants(rng):
        messages.append({"Kind": "AudioData", "AudioData": {"Data": data}, "StopAudio": None})
        messages.append({"Kind": "AudioData", "AudioData": {"Data": data}})
    messages += [
        {"Kind": "AudioData", "AudioData": {"Data": B64, "Extra": 1}},
        {"Kind": "AudioData", "AudioData": {"data": B64}},
        {"Kind": "AudioData", "AudioData": {"Data": 3}},
        {"Kind": "AudioData", "AudioData": {"Data": None}},
        {"Kind": "AudioData", "AudioData": None},
        {"Kind": "AudioData", "AudioData": {"Data": B64}, "StopAudio": {}},
        {"Kind": "AudioData", "AudioData": {"Data": B64}, "audioData": {"Data": "QUJD"}},
        {"kind": "AudioData", "AudioData": {"Data": B64}},
        {"Kind": "StopAudio", "AudioData": None, "StopAudio": {}},
    ]
    fast_taken = _compare_paths(messages, protocol._fast_outbound_audio, _general_outbound, parse_outbound)
    assert fast_taken > 50


def test_the_wire_frames_take_the_fast_paths() -> None:
    assert protocol._fast_inbound_audio(protocol._fast_json(AUDIO)) == parse_inbound(AUDIO)
    assert protocol._fast_outbound_audio(protocol._fast_json(BOT_AUDIO)) == parse_outbound(BOT_AUDIO)


def test_bot_audio_is_what_the_json_encoder_writes() -> None:
    for pcm in (b"", PCM, bytes(960), bytes(range(256)) * 4):
        assert audio_data(pcm) == protocol._dumps(
            {"Kind": "AudioData", "AudioData": {"Data": base64.b64encode(pcm).decode()}, "StopAudio": None}
        )


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,  # deeper than either JSON parser recurses
        '{"kind":"AudioData","audioData":{"data":"QUJD","n":1e999999}}',  # a float orjson refuses
        '{"kind":"AudioData","audioData":{"data":"\\ud800"}}',  # a lone surrogate orjson refuses
        b'{"kind":"AudioData","audioData":{"data":"\xff"}}',  # not UTF-8
    ],
    ids=["deep", "huge float", "lone surrogate", "not utf-8"],
)
def test_hostile_frames_raise_protocol_errors_only(text: str | bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_inbound(text)
    with pytest.raises(ProtocolError):
        parse_outbound(text)


def test_the_general_path_reads_json_as_the_standard_parser_does() -> None:
    big = 2**70  # orjson reads integers beyond 64 bits as floats; the standard parser as integers
    message = parse_inbound(
        '{"kind":"AudioMetadata","audioMetadata":{"subscriptionId":"s","encoding":"PCM",'
        f'"sampleRate":{big},"channels":1,"length":640}}}}'
    )
    assert message == AudioMetadata(subscription_id="s", sample_rate=big, length=640)
