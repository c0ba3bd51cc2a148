"""Recordings: the Event Grid trigger storing a finished call recording. Thin: the work is in
`shared/recordings/file_status.py`."""

from __future__ import annotations

import logging

import azure.functions as func

from blueprints import event_grid, runtime
from shared.recordings.file_status import RECORDING_FILE_STATUS_UPDATED, save_recording

log = logging.getLogger(__name__)

bp = func.Blueprint()  # type: ignore[no-untyped-call]


@bp.function_name("recording_file_status")
@bp.event_grid_trigger(arg_name="event")
async def recording_file_status(event: func.EventGridEvent) -> None:
    """Event Grid subscription on the ACS resource, filtered on `RecordingFileStatusUpdated`.

    A failure raises, so Event Grid delivers the event again; a malformed event is logged and dropped.
    """
    if not event_grid.accepts(event, RECORDING_FILE_STATUS_UPDATED, "recording_file_status"):
        return
    data = event.get_json()
    try:
        call = await save_recording(
            await runtime.current().get(), event.subject, data if isinstance(data, dict) else {}
        )
    except ValueError as exc:
        log.warning("RecordingFileStatusUpdated %s ignored: %s", event.id, exc)
        return
    if call is not None:
        log.info("call %s: recording stored", call.call_id)
