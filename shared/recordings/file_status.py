"""A call recording is ready (Event Grid `RecordingFileStatusUpdated`): fetch it, keep it as a blob, and
write the blob's URL on the call.

The event names the recording in its subject (`/recording/call/{callId}/serverCallId/{serverCallId}/
recordingId/{recordingId}`, sometimes without the serverCallId part) and lists its chunks
(`recordingStorageInfo.recordingChunks[]`, each with a `contentLocation`). The call is found by its
recording id, else by its server call id. Event Grid
delivers at least once: a call that already has this recording's URL is left alone, and a failure
raises so the delivery is retried.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from typing import Any

from shared.composition import Services
from shared.models import Call
from shared.store.base import update_call

log = logging.getLogger(__name__)

RECORDING_FILE_STATUS_UPDATED = "Microsoft.Communication.RecordingFileStatusUpdated"
# `/recording/call/{callId}/serverCallId/{serverCallId}/recordingId/{recordingId}`; the serverCallId
# part is not always there
_SUBJECT = re.compile(r"(?:/serverCallId/(?P<server>.+))?/recordingId/(?P<recording>[^/]+)/?$")
_FORMATS = {
    "wav": ("wav", "audio/wav"),
    "mp3": ("mp3", "audio/mpeg"),
    "mp4": ("mp4", "video/mp4"),
}


@dataclass(frozen=True)
class RecordingChunk:
    index: int
    content_location: str


@dataclass(frozen=True)
class RecordingFile:
    recording_id: str
    server_call_id: str | None
    chunks: tuple[RecordingChunk, ...]
    extension: str
    content_type: str

    @classmethod
    def from_event(cls, subject: str, data: dict[str, Any]) -> RecordingFile:
        """ValueError when the event does not describe a recording file."""
        match = _SUBJECT.search(subject or "")
        if match is None:
            raise ValueError(f"not a recording subject: {subject!r}")
        raw_chunks = (data.get("recordingStorageInfo") or {}).get("recordingChunks") or []
        chunks = []
        for position, raw in enumerate(raw_chunks):
            location = raw.get("contentLocation") if isinstance(raw, dict) else None
            if not isinstance(location, str) or not location:
                raise ValueError(f"recording chunk {position} has no contentLocation")
            index = raw.get("index")
            chunks.append(RecordingChunk(index if isinstance(index, int) else position, location))
        if not chunks:
            raise ValueError("the recording event lists no chunk")
        kind = str(data.get("recordingFormatType") or "").lower()
        extension, content_type = _FORMATS.get(kind, ("bin", "application/octet-stream"))
        return cls(
            recording_id=match["recording"],
            server_call_id=match["server"] or None,
            chunks=tuple(sorted(chunks, key=lambda chunk: chunk.index)),
            extension=extension,
            content_type=content_type,
        )

    def blob_name(self, call: Call, chunk: RecordingChunk) -> str:
        """`<call id>/recording-<digest of the recording id>-<chunk index>.<ext>` (ids may hold `/`, `+`)."""
        digest = hashlib.sha256(self.recording_id.encode()).hexdigest()[:16]
        return f"{call.call_id}/recording-{digest}-{chunk.index}.{self.extension}"


async def save_recording(services: Services, subject: str, data: dict[str, Any]) -> Call | None:
    """Store the recording's chunks as blobs and put the first one's URL on the call.

    None when no call matches (another application's recording); ValueError for a malformed event.
    """
    recording = RecordingFile.from_event(subject, data)
    call = await services.store.find_by_recording(
        recording.recording_id, server_call_id=recording.server_call_id
    )
    if call is None:
        log.warning("recording %s matches no call: ignored", recording.recording_id)
        return None
    first_name = recording.blob_name(call, recording.chunks[0])
    if call.recording_url and call.recording_url.endswith(first_name):
        log.info("call %s: recording %s already stored", call.call_id, recording.recording_id)
        return call
    urls = []
    for chunk in recording.chunks:
        stream = services.recordings.download(chunk.content_location)
        urls.append(
            await services.blobs.put(
                recording.blob_name(call, chunk), stream, content_type=recording.content_type
            )
        )
    if len(urls) > 1:
        log.info("call %s: recording in %d chunks: %s", call.call_id, len(urls), urls)

    def apply(stored: Call) -> None:
        stored.recording_url = urls[0]
        stored.recording_id = stored.recording_id or recording.recording_id

    saved = await update_call(services.store, call.call_id, apply, caller_phone=call.caller_phone)
    log.info("call %s: recording stored at %s", call.call_id, urls[0])
    return saved
