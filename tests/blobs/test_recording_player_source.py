"""The report's recording player on each blob store: Azure (a real Azurite) answers with a redirect to a
short-lived read-only SAS the browser can fetch; the local folder answers with the bytes."""

from __future__ import annotations

import httpx

from shared.blobs.azure_blob import AzureBlobStore
from shared.blobs.base import BlobStore
from shared.blobs.files import FileBlobStore
from shared.models import Call
from shared.report.recording import recording_answer

WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(64)


async def test_the_player_gets_a_signed_url_on_azure_and_the_bytes_locally(blobs: BlobStore) -> None:
    call = Call(caller_phone="+33612345678")
    call.recording_url = await blobs.put(f"{call.call_id}/recording-ab-0.wav", WAV, content_type="audio/wav")
    answer = await recording_answer(blobs, call)
    if isinstance(blobs, FileBlobStore):
        assert (answer.status, answer.content, answer.media_type) == (200, WAV, "audio/wav")
        return
    assert isinstance(blobs, AzureBlobStore)
    assert answer.status == 307 and answer.location is not None
    assert call.recording_url in answer.location and "sig=" in answer.location
    async with httpx.AsyncClient() as browser:
        assert (await browser.get(call.recording_url)).status_code in {403, 404}  # the container is private
        played = await browser.get(answer.location)
    assert played.status_code == 200 and played.content == WAV


async def test_no_recording_or_a_missing_blob_is_404(blobs: BlobStore) -> None:
    call = Call(caller_phone="+33612345678")
    assert (await recording_answer(blobs, call)).status == 404
    call.recording_url = f"file:///nowhere/{call.call_id}/recording-ab-0.wav"
    answer = await recording_answer(blobs, call)
    assert answer.status == (307 if isinstance(blobs, AzureBlobStore) else 404)
