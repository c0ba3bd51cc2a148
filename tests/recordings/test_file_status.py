"""Recording files: the event is parsed, the file fetched and kept as a blob, its URL put on the call;
the downloaders refuse what they must; a disconnect stops an active recording once."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from shared.calls.events import handle_call_events
from shared.calls.routing import with_new_secrets
from shared.composition import Services, build_services
from shared.models import Call
from shared.recordings.acs_download import AcsRecordingDownloader
from shared.recordings.base import RecordingDownloadError
from shared.recordings.file_status import RecordingFile, save_recording
from shared.recordings.http_download import HttpRecordingDownloader
from shared.settings import load_settings
from shared.telephony.base import RecordingTelephony

WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 100
RECORDING_ID = "eyJQbGF0Zm9ybUVuZHBvaW50SWQiOiIxIn0"
SERVER_CALL_ID = "aHR0cHM6Ly9hcGkuZmxpZ2h0cHJveHk/i=10+x/y=="  # base64: may hold / and +


def event(
    recording_id: str = RECORDING_ID, server_call_id: str = SERVER_CALL_ID
) -> tuple[str, dict[str, Any]]:
    subject = f"/recording/call/conn-1/serverCallId/{server_call_id}/recordingId/{recording_id}"
    chunk = {"documentId": "doc", "index": 0, "contentLocation": "http://127.0.0.1:9/content"}
    return subject, {"recordingStorageInfo": {"recordingChunks": [chunk]}, "recordingFormatType": "Wav"}


class FakeDownloader:
    def __init__(self, content: bytes = WAV, *, fail: bool = False) -> None:
        self.content, self.fail = content, fail
        self.fetched: list[str] = []

    async def download(self, content_location: str) -> AsyncIterator[bytes]:
        self.fetched.append(content_location)
        yield self.content[:10]
        if self.fail:
            raise RecordingDownloadError("connection reset")
        yield self.content[10:]

    async def close(self) -> None:
        return None


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    built = build_services(
        load_settings(store={"sqlite": {"path": tmp_path / "c.sqlite3"}}, blobs={"files_dir": tmp_path / "b"})
    )
    built.telephony = RecordingTelephony()
    yield built
    await built.aclose()


async def recorded_call(services: Services, *, recording_id: str | None = RECORDING_ID) -> Call:
    call = with_new_secrets(Call(caller_phone="+33612345678"))
    call.recording_id = recording_id
    call.connection.server_call_id = SERVER_CALL_ID
    call.connection.call_connection_id = "conn-1"
    return await services.store.create(call)


def test_the_event_names_the_recording_the_server_call_and_the_chunks() -> None:
    recording = RecordingFile.from_event(*event())
    assert recording.recording_id == RECORDING_ID and recording.server_call_id == SERVER_CALL_ID
    assert [c.content_location for c in recording.chunks] == ["http://127.0.0.1:9/content"]
    assert (recording.extension, recording.content_type) == ("wav", "audio/wav")


@pytest.mark.parametrize(
    ("subject", "data"),
    [
        ("/something/else", event()[1]),
        (event()[0], {"recordingStorageInfo": {"recordingChunks": []}}),
        (event()[0], {"recordingStorageInfo": {"recordingChunks": [{"index": 0}]}}),
    ],
    ids=["subject", "no-chunk", "no-location"],
)
def test_malformed_events_are_value_errors(subject: str, data: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        RecordingFile.from_event(subject, data)


async def test_the_recording_is_stored_as_a_blob_and_its_url_put_on_the_call_once(services: Services) -> None:
    call = await recorded_call(services)
    services.recordings = downloader = FakeDownloader()
    saved = await save_recording(services, *event())
    assert saved is not None and saved.recording_url and saved.recording_url.startswith("file://")
    name = RecordingFile.from_event(*event()).blob_name(call, RecordingFile.from_event(*event()).chunks[0])
    assert saved.recording_url.endswith(name) and name.startswith(f"{call.call_id}/")
    assert await services.blobs.get(name) == WAV

    again = await save_recording(services, *event())  # Event Grid delivers at least once
    assert again is not None and again.recording_url == saved.recording_url
    assert len(downloader.fetched) == 1


async def test_a_call_is_found_by_its_server_call_id_when_the_recording_id_was_not_kept(
    services: Services,
) -> None:
    call = await recorded_call(services, recording_id=None)
    services.recordings = FakeDownloader()
    saved = await save_recording(services, *event())
    assert saved is not None and saved.call_id == call.call_id and saved.recording_id == RECORDING_ID


async def test_a_recording_of_no_known_call_is_ignored(services: Services) -> None:
    services.recordings = downloader = FakeDownloader()
    assert await save_recording(services, *event(server_call_id="unknown")) is None
    assert downloader.fetched == []


async def test_a_failed_download_raises_for_a_redelivery_and_writes_nothing(services: Services) -> None:
    call = await recorded_call(services)
    services.recordings = FakeDownloader(fail=True)
    with pytest.raises(RecordingDownloadError):
        await save_recording(services, *event())
    stored = await services.store.get(call.call_id)
    assert stored is not None and stored.recording_url is None
    folder = Path(services.settings.blobs.files_dir) / "recordings" / str(call.call_id)
    assert not folder.exists() or os.listdir(folder) == []


async def test_the_http_downloader_fetches_only_from_its_allowed_origins() -> None:
    downloader = HttpRecordingDownloader(["http://127.0.0.1:8123"])
    try:
        for url in ("http://169.254.169.254/metadata", "https://127.0.0.1:8123/x", "http://127.0.0.1:8124/x"):
            with pytest.raises(RecordingDownloadError, match="allowed origin"):
                async for _chunk in downloader.download(url):
                    pass
    finally:
        await downloader.close()


async def test_the_acs_downloader_uses_the_sdk_which_refuses_non_acs_urls() -> None:
    key = base64.b64encode(os.urandom(32)).decode()
    downloader = AcsRecordingDownloader("https://example.communication.azure.com", access_key=key)
    try:
        for url in ("http://127.0.0.1:8123/content", "https://evil.example.com/content"):
            with pytest.raises(RecordingDownloadError):
                async for _chunk in downloader.download(url):
                    pass
    finally:
        await downloader.close()


async def test_the_acs_downloader_reads_the_response_the_sdk_returns() -> None:
    class Response:
        async def iter_bytes(self) -> AsyncIterator[bytes]:
            yield b"RIFF"
            yield b"WAVE"

    class Client:
        async def download_recording(self, url: str) -> Response:
            return Response()

        async def close(self) -> None:
            return None

    downloader = AcsRecordingDownloader("https://x", client=Client())
    assert [chunk async for chunk in downloader.download("https://x.asm.skype.com/r")] == [b"RIFF", b"WAVE"]


async def test_a_disconnect_stops_an_active_recording_once(services: Services) -> None:
    call = await recorded_call(services)
    telephony = services.telephony
    assert isinstance(telephony, RecordingTelephony)
    disconnected = {"id": "e1", "type": "Microsoft.Communication.CallDisconnected", "data": {}}
    await handle_call_events(services, call.call_id, call.secrets.callback, [disconnected])
    await handle_call_events(services, call.call_id, call.secrets.callback, [dict(disconnected, id="e2")])
    stops = [a.target for a in telephony.actions if a.kind == "stop_recording"]
    assert stops == [RECORDING_ID]
    stored = await services.store.get(call.call_id)
    assert stored is not None and stored.recording_stopped_at is not None


async def test_a_disconnect_without_a_recording_stops_nothing(services: Services) -> None:
    call = await recorded_call(services, recording_id=None)
    disconnected = {"id": "e1", "type": "Microsoft.Communication.CallDisconnected", "data": {}}
    await handle_call_events(services, call.call_id, call.secrets.callback, [disconnected])
    assert isinstance(services.telephony, RecordingTelephony)
    assert not [a for a in services.telephony.actions if a.kind == "stop_recording"]


def test_a_subject_without_the_server_call_id_still_names_the_recording() -> None:
    recording = RecordingFile.from_event(f"/recording/call/conn-1/recordingId/{RECORDING_ID}", event()[1])
    assert recording.recording_id == RECORDING_ID and recording.server_call_id is None


@pytest.mark.parametrize(
    ("format_type", "extension", "content_type"),
    [("Wav", "wav", "audio/wav"), ("Mp3", "mp3", "audio/mpeg"), ("Mp4", "mp4", "video/mp4")],
)
def test_the_blob_takes_the_extension_and_type_of_the_recorded_format(
    format_type: str, extension: str, content_type: str
) -> None:
    subject, data = event()
    recording = RecordingFile.from_event(subject, {**data, "recordingFormatType": format_type})
    assert (recording.extension, recording.content_type) == (extension, content_type)
