"""The CSV export's cells and the recording's blob name, as pure functions."""

from __future__ import annotations

import csv
import io
from uuid import uuid4

import pytest

from shared.models import Call
from shared.report.export import CSV_COLUMNS, calls_csv, safe_cell
from shared.report.recording import recording_blob_name
from tests.report.support import MAIN_PHONE, full_call


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("\tx", "'\tx"),
        (MAIN_PHONE, MAIN_PHONE),  # an E.164 number stays a number
        ("-12.5", "-12.5"),
        ("Jane", "Jane"),
    ],
)
def test_cells_a_spreadsheet_would_run_are_neutralised(cell: str, written: str) -> None:
    assert safe_cell(cell) == written


def test_the_csv_has_a_header_and_one_row_per_call() -> None:
    call = full_call()
    call.synthesis.short = "=cmd|' /C calc'!A0"  # type: ignore[union-attr]
    rows = list(csv.reader(io.StringIO(calls_csv([call, Call(caller_phone=MAIN_PHONE)]))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 3
    first = dict(zip(CSV_COLUMNS, rows[1], strict=True))
    assert first["summary"].startswith("'=")
    assert first["duration_s"] == "60" and rows[2][CSV_COLUMNS.index("duration_s")] == ""


def test_the_recording_blob_is_named_by_the_call_itself() -> None:
    call = full_call()
    call.recording_url = f"file:///data/blobs/recordings/{call.call_id}/recording-ab-0.wav"
    assert recording_blob_name(call) == f"{call.call_id}/recording-ab-0.wav"
    call.recording_url = f"https://acct.blob.core.windows.net/recordings/{call.call_id}/recording-ab-0.wav"
    assert recording_blob_name(call) == f"{call.call_id}/recording-ab-0.wav"
    call.recording_url = f"https://acct.blob.core.windows.net/recordings/{uuid4()}/recording-ab-0.wav"
    assert recording_blob_name(call) is None  # another call's blob is never served
    call.recording_url = f"file:///x/{call.call_id}/..%2F..%2Fetc"
    assert recording_blob_name(call) is None
