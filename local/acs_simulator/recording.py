"""Call recording: start, pause, resume, stop; the mixed audio written as a WAV file.

While a recording is active the phone captures each tick's caller frame mixed with the bot audio
played. Start -> RecordingStateChanged `active` (to `recordingStateCallbackUri`, else the call's
callback URI); stop (or the call's end) -> RecordingStateChanged `inactive`, the WAV written to
`<recordings_dir>/<recordingId>.wav`, then an Event Grid `Microsoft.Communication.RecordingFileStatusUpdated`
whose chunk's `contentLocation` serves the file (`GET /sim/recordings/{id}/content`) and whose
simulator-only `localPath` names it on disk.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import TYPE_CHECKING, Any

from local.acs_simulator.audio import write_wav
from local.acs_simulator.errors import AcsError, bad_request
from local.acs_simulator.state import Recording, SimCall, iso

if TYPE_CHECKING:
    from local.acs_simulator.switchboard import Switchboard

__all__ = ["Recorder"]


def _new_recording_id() -> str:
    token = json.dumps({"PlatformEndpointId": str(uuid.uuid4()), "ResourceSpecificId": str(uuid.uuid4())})
    return base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")


# request values (the SDK's enums) -> the spelling of RecordingFileStatusUpdated
_EVENT_SPELLING = {
    "audio": "Audio",
    "audiovideo": "AudioVideo",
    "mixed": "Mixed",
    "unmixed": "Unmixed",
    "wav": "Wav",
    "mp3": "Mp3",
    "mp4": "Mp4",
}


class Recorder:
    def __init__(self, board: Switchboard) -> None:
        self.board = board
        self.recordings: dict[str, Recording] = {}

    def _call_of(self, body: dict[str, Any]) -> SimCall:
        locator = body.get("callLocator")
        call_id = body.get("callConnectionId")
        server_call_id = locator.get("serverCallId") if isinstance(locator, dict) else None
        if isinstance(call_id, str) and call_id:
            return self.board.active(call_id)
        if isinstance(server_call_id, str) and server_call_id:
            for call in list(self.board.calls.values()):
                if call.server_call_id == server_call_id and not call.ended:
                    return self.board.active(call.call_connection_id)
            raise AcsError(404, "8522", f"No active call with server call id {server_call_id}.")
        raise bad_request("'callLocator.serverCallId' or 'callConnectionId' is required.")

    def get(self, recording_id: str) -> Recording:
        recording = self.recordings.get(recording_id)
        if recording is None:
            raise AcsError(404, "8522", f"Recording {recording_id} not found.")
        return recording

    def start(self, body: dict[str, Any]) -> Recording:
        call = self._call_of(body)
        if call.recording_id is not None:
            raise bad_request(f"The call is already recorded ({call.recording_id}).")
        url = body.get("recordingStateCallbackUri")
        recording = Recording(
            recording_id=_new_recording_id(),
            call_connection_id=call.call_connection_id,
            server_call_id=call.server_call_id,
            callback_uri=url if isinstance(url, str) and url else None,
            start_offset=len(call.audio.mixed),
        )
        for key, attribute in (
            ("recordingContentType", "content_type"),
            ("recordingChannelType", "channel_type"),
            ("recordingFormatType", "format_type"),
        ):
            if isinstance(asked := body.get(key), str) and asked:
                setattr(recording, attribute, _EVENT_SPELLING.get(asked.lower(), asked))
        self.recordings[recording.recording_id] = recording
        call.recording_id = recording.recording_id
        if body.get("pauseOnStart"):
            recording.state = "inactive"
        call.audio.capturing = recording.state == "active"
        self._state_changed(call, recording)
        return recording

    def pause(self, recording_id: str) -> None:
        recording, call = self._live(recording_id)
        if recording.state == "active":
            recording.segments.append(bytes(call.audio.mixed[recording.start_offset :]))
            recording.state, call.audio.capturing = "inactive", False
            self._state_changed(call, recording)

    def resume(self, recording_id: str) -> None:
        recording, call = self._live(recording_id)
        if recording.state == "inactive":
            recording.start_offset = len(call.audio.mixed)
            recording.state, call.audio.capturing = "active", True
            self._state_changed(call, recording)

    def stop(self, recording_id: str) -> None:
        recording, call = self._live(recording_id)
        self._finish(call, recording, "RecordingStopped")

    def call_ended(self, call: SimCall) -> None:
        if call.recording_id is not None:
            self._finish(call, self.recordings[call.recording_id], "CallEnded")

    def _live(self, recording_id: str) -> tuple[Recording, SimCall]:
        recording = self.get(recording_id)
        if recording.stopped:
            raise AcsError(404, "8522", f"Recording {recording_id} is stopped.")
        return recording, self.board.get(recording.call_connection_id)

    def _state_changed(self, call: SimCall, recording: Recording) -> None:
        self.board.callback(
            call,
            "RecordingStateChanged",
            url=recording.callback_uri,
            recordingId=recording.recording_id,
            state=recording.state,
            startDateTime=iso(recording.started_at),
            recordingKind="AzureCommunicationServices",
        )

    def _finish(self, call: SimCall, recording: Recording, end_reason: str) -> None:
        if recording.state == "active":
            recording.segments.append(bytes(call.audio.mixed[recording.start_offset :]))
        recording.state, recording.stopped = "inactive", True
        call.recording_id, call.audio.capturing = None, False
        self._state_changed(call, recording)
        pcm = b"".join(recording.segments)
        rate = call.audio.sample_rate
        recording.path = write_wav(self.board.recordings_dir / f"{recording.recording_id}.wav", pcm, rate)
        base = f"{self.board.endpoint}/sim/recordings/{recording.recording_id}"
        chunk = {
            "documentId": recording.recording_id,
            "index": 0,
            "endReason": "SessionEnded",
            "contentLocation": f"{base}/content",
            "metadataLocation": f"{base}/metadata",
            "deleteLocation": f"{base}/content",
            "localPath": str(recording.path),
        }
        data = {
            "recordingStorageInfo": {"recordingChunks": [chunk]},
            "recordingStartTime": iso(recording.started_at),
            "recordingDurationMs": len(pcm) * 1000 // (2 * rate),
            "recordingContentType": recording.content_type,
            "recordingChannelType": recording.channel_type,
            "recordingFormatType": recording.format_type,
            "sessionEndReason": end_reason,
        }
        subject = (
            f"/recording/call/{call.call_connection_id}/serverCallId/{call.server_call_id}"
            f"/recordingId/{recording.recording_id}"
        )
        self.board.event_grid("RecordingFileStatusUpdated", subject, data)
