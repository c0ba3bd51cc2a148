"""The recording route serves byte ranges (RFC 9110 section 14): a player seeks in a long recording
without downloading all of it, and Safari plays audio only from a server that answers ranges."""

from __future__ import annotations

import pytest

from shared.report.recording import RecordingAnswer, part_of

CONTENT = bytes(range(256)) * 4  # 1024 bytes


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, 1023),
        ("bytes=-10", 1014, 1023),
        ("bytes=1000-5000", 1000, 1023),  # a last byte past the end is the end
        ("bytes=-5000", 0, 1023),  # a suffix longer than the file is the whole file
        ("BYTES = 5 - 9", 5, 9),
    ],
)
def test_a_single_range_is_a_partial_answer(header: str, start: int, end: int) -> None:
    part = part_of(RecordingAnswer(200, content=CONTENT), header)
    assert part.status == 206
    assert part.content == CONTENT[start : end + 1]
    assert part.headers["Content-Range"] == f"bytes {start}-{end}/1024"
    assert part.headers["Accept-Ranges"] == "bytes"


@pytest.mark.parametrize("header", [None, "", "bytes=abc", "bytes=9-5", "items=0-5", "bytes=0-1,5-6"])
def test_no_range_or_one_that_is_not_understood_gets_the_whole_file(header: str | None) -> None:
    part = part_of(RecordingAnswer(200, content=CONTENT), header)
    assert (part.status, part.content) == (200, CONTENT)
    assert part.headers == {"Accept-Ranges": "bytes"}


@pytest.mark.parametrize("header", ["bytes=1024-", "bytes=5000-6000", "bytes=-0"])
def test_a_range_past_the_end_is_not_satisfiable(header: str) -> None:
    part = part_of(RecordingAnswer(200, content=CONTENT), header)
    assert (part.status, part.content) == (416, b"")
    assert part.headers["Content-Range"] == "bytes */1024"
