"""The call's recording for the report's player: which blob it is, and how a browser gets its bytes.

The player's `<audio src>` is a same-origin path (`/api/report/{call_id}/recording` with the page's own
signed query or key). That route answers with a redirect to a short-lived read-only URL when the blob
store has one (Azure: a SAS, so the function app does not carry the audio), else with the bytes (the
local folder, which no browser could open by itself: its URL is a `file://` path).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from shared.blobs.base import BlobStore, check_blob_name
from shared.models import Call

__all__ = ["RecordingAnswer", "RecordingPart", "part_of", "recording_answer", "recording_blob_name"]

AUDIO_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "ogg": "audio/ogg"}


@dataclass(frozen=True)
class RecordingAnswer:
    status: int  # 200 (content), 307 (redirect to `location`), 404
    content: bytes = b""
    media_type: str = "audio/wav"
    location: str | None = None


@dataclass(frozen=True)
class RecordingPart:
    """What the route sends for the bytes of a recording: the whole (200), the range asked (206),
    or nothing when the range starts past the end (416)."""

    status: int
    content: bytes
    headers: dict[str, str] = field(default_factory=dict)


_RANGES = {"Accept-Ranges": "bytes"}  # said on every answer with the bytes
_RANGE = re.compile(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", re.IGNORECASE)


def part_of(answer: RecordingAnswer, range_header: str | None) -> RecordingPart:
    """The part of `answer.content` a `Range` header asks for (RFC 9110 section 14): one range,
    `first-last`, `first-` or `-suffix`; a header that is not one well-formed byte range (several
    ranges, another unit, last before first) is ignored and the whole file is sent."""
    content, size = answer.content, len(answer.content)
    found = _RANGE.fullmatch(range_header or "")
    if found is None or not (found[1] or found[2]):
        return RecordingPart(200, content, dict(_RANGES))
    unsatisfiable = RecordingPart(416, b"", {**_RANGES, "Content-Range": f"bytes */{size}"})
    if found[1]:  # `first-last` or `first-`
        first, last = int(found[1]), int(found[2]) if found[2] else size - 1
        if found[2] and last < first:  # malformed: ignored
            return RecordingPart(200, content, dict(_RANGES))
    elif int(found[2]) == 0:  # `-0`: a suffix of nothing
        return unsatisfiable
    else:  # `-suffix`: the last bytes, the whole file when it is shorter
        first, last = max(0, size - int(found[2])), size - 1
    if first >= size:
        return unsatisfiable
    last = min(last, size - 1)
    return RecordingPart(
        206, content[first : last + 1], {**_RANGES, "Content-Range": f"bytes {first}-{last}/{size}"}
    )


def recording_blob_name(call: Call) -> str | None:
    """`<call id>/<file>` from the call's recording URL (a blob URL or a file URI), or None.

    Only the last two segments are taken, and the first must be this call's id: a URL written by
    anything else never names another call's blob.
    """
    if not call.recording_url:
        return None
    segments = unquote(urlsplit(call.recording_url).path).rstrip("/").split("/")
    if len(segments) < 2 or segments[-2] != str(call.call_id):
        return None
    try:
        return check_blob_name(f"{segments[-2]}/{segments[-1]}")
    except ValueError:
        return None


async def recording_answer(blobs: BlobStore, call: Call) -> RecordingAnswer:
    name = recording_blob_name(call)
    if name is None:
        return RecordingAnswer(404)
    shared = await blobs.share_url(name)
    if shared is not None:
        return RecordingAnswer(307, location=shared)
    content = await blobs.get(name)
    if content is None:
        return RecordingAnswer(404)
    extension = name.rsplit(".", 1)[-1].lower()
    return RecordingAnswer(
        200, content=content, media_type=AUDIO_TYPES.get(extension, "application/octet-stream")
    )
