"""View models of the report (what a call page shows) and the call search behind the list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.models import Call, NextAction, NextActionKind
from shared.report.listing import ReportFilter, ReportQueryError, parse_filter, search_calls
from shared.report.render import render
from shared.report.views import build_call_row, build_call_view
from shared.store.sqlite import SqliteCallStore
from tests.report.support import MAIN_PHONE, NOW, SCRIPT, SECRET_MARKERS, full_call


def test_call_view_shows_the_claim_in_schema_order_with_types() -> None:
    call = full_call()
    call.claim["caller_email"] = None
    call.claim["extra_note"] = "kept"
    view = build_call_view(call)
    assert [(row.name, row.type_label, row.value) for row in view.claim] == [
        ("caller_name", "text", "Jane Doe"),
        ("caller_email", "e-mail", None),
        ("caller_phone", "phone number", MAIN_PHONE),
        ("incident_datetime", "date and time", "2025-03-13T22:30:00+01:00"),
        ("incident_description", "text", f"Water leak in the kitchen {SCRIPT}"),
        ("extra_note", "text", "kept"),
    ]


def test_call_view_carries_synthesis_next_action_reminders_and_tool_calls() -> None:
    view = build_call_view(full_call())
    assert view.synthesis_short == "Kitchen water leak reported by Jane Doe."
    assert view.satisfaction == "high"
    assert view.next_action == "Requires expertise"
    assert view.next_action_justification == "A plumber must assess the damage before any refund."
    assert [r.title for r in view.reminders] == ["Call back about the plumber"]
    assert view.reminders[0].owner == "agent"
    tool = view.messages[2].tool_calls[0]
    assert tool.name == "updated_claim"
    assert tool.arguments == '{\n  "field": "caller_name",\n  "value": "Jane Doe"\n}'
    assert tool.result == "caller_name is now 'Jane Doe'"
    assert [m.action for m in view.messages][-1] == "hangup"
    # three turns, each stacked as STT, agent, TTS (no end-of-turn wait recorded in this call)
    assert view.chart is not None and view.chart.count('class="segment"') == 9
    stt, tts = ('class="segment" data-stage="stt"', 'class="segment" data-stage="tts"')
    assert view.chart.count(stt) == view.chart.count(tts) == 3
    assert [row.cells[0] for row in view.turn_rows] == ["—", "—", "—"]  # the turn-ended column
    assert [row.cells[1] for row in view.turn_rows] == ["120", "95", "140"]
    assert ("Direction", "inbound") in view.metadata


def test_call_view_never_holds_the_secrets() -> None:
    view = build_call_view(full_call())
    assert not any(secret in repr(view) for secret in SECRET_MARKERS)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://storage.example/rec.wav", "https://storage.example/rec.wav"),
        ("javascript:alert(1)", None),
        (None, None),
    ],
)
def test_only_http_recordings_are_playable(url: str | None, shown: str | None) -> None:
    call = full_call()
    call.recording_url = url
    assert build_call_view(call).recording_url == shown


def test_the_call_page_escapes_what_was_said() -> None:
    html = render("call.html", view=build_call_view(full_call())).html
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in html
    assert html.count('class="segment"') == 9
    assert not any(secret in html for secret in SECRET_MARKERS)


def test_call_row_summary_falls_back_to_the_caller_first_words() -> None:
    call = Call(caller_phone=MAIN_PHONE)
    call.messages = full_call().messages
    row = build_call_row(call, "/api/report/x?expires=1&sig=ab")
    assert row.summary.startswith("My name is Jane Doe")
    assert row.next_action == "—"
    assert row.link == "/api/report/x?expires=1&sig=ab"


def test_filters_read_iso_dates_and_include_the_until_day() -> None:
    flt = parse_filter(
        phone=" +33 6 12 34 56 78 ", since="2025-03-01", until="2025-03-14", next_action="none"
    )
    assert flt.phone == MAIN_PHONE
    assert flt.since == datetime(2025, 3, 1, tzinfo=UTC)
    assert flt.until == datetime(2025, 3, 15, tzinfo=UTC)
    assert flt.without_next_action and flt.next_action is None
    naive = parse_filter(phone=None, since="2025-03-01T10:00:00", until=None, next_action="case_closed")
    assert naive.since == datetime(2025, 3, 1, 10, tzinfo=UTC)
    assert naive.next_action is NextActionKind.CASE_CLOSED


def test_filter_problems_are_reported_together() -> None:
    with pytest.raises(ReportQueryError) as caught:
        parse_filter(phone="0612", since="yesterday", until="2025-02-30", next_action="escalate")
    assert [p.split(":")[0] for p in caught.value.problems] == ["phone", "since", "until", "next_action"]
    with pytest.raises(ReportQueryError, match="until: must come after since"):
        parse_filter(phone=None, since="2025-03-02", until="2025-03-01", next_action=None)


async def _store_with(tmp_path: Path, count: int) -> tuple[SqliteCallStore, list[Call]]:
    """`count` calls an hour apart, newest first; every third one is closed."""
    store = SqliteCallStore(tmp_path / "calls.sqlite3")
    calls = []
    for index in range(count):
        call = Call(caller_phone=MAIN_PHONE, created_at=NOW - timedelta(hours=index))
        if index % 3 == 0:
            call.next = NextAction(action=NextActionKind.CASE_CLOSED, justification="done")
        calls.append(await store.create(call))
    return store, calls


async def test_search_filters_in_memory_and_resumes_inside_a_store_page(tmp_path: Path) -> None:
    store, calls = await _store_with(tmp_path, 10)
    closed = [c.call_id for c in calls if c.next is not None]  # indexes 0, 3, 6, 9
    flt = ReportFilter(next_action=NextActionKind.CASE_CLOSED)
    seen, cursor, pages = [], None, 0
    while True:
        result = await search_calls(store, flt, limit=3, cursor=cursor)
        seen += [c.call_id for c in result.calls]
        pages += 1
        cursor = result.next_cursor
        if cursor is None:
            break
    assert seen == closed and pages == 2
    await store.close()


async def test_search_by_phone_and_date_stops_at_older_calls(tmp_path: Path) -> None:
    store, calls = await _store_with(tmp_path, 10)
    flt = ReportFilter(phone=MAIN_PHONE, since=NOW - timedelta(hours=4, minutes=30), until=NOW)
    result = await search_calls(store, flt, limit=20)
    assert [c.call_id for c in result.calls] == [c.call_id for c in calls[1:5]]
    assert result.next_cursor is None
    assert result.scanned == 6  # stopped at the first call older than `since`
    await store.close()


async def test_the_scan_is_bounded_and_can_be_continued(tmp_path: Path) -> None:
    store, calls = await _store_with(tmp_path, 10)
    flt = ReportFilter(next_action=NextActionKind.CASE_CLOSED)
    first = await search_calls(store, flt, limit=5, max_scan=5)
    assert first.scan_limited and first.scanned == 5
    assert [c.call_id for c in first.calls] == [calls[0].call_id, calls[3].call_id]
    rest = await search_calls(store, flt, limit=5, cursor=first.next_cursor, max_scan=5)
    assert [c.call_id for c in rest.calls] == [calls[6].call_id, calls[9].call_id]
    assert rest.next_cursor is None and not rest.scan_limited
    await store.close()


async def test_a_foreign_cursor_is_refused(tmp_path: Path) -> None:
    store, _calls = await _store_with(tmp_path, 2)
    for cursor in ("not-base64!", "eyJjIjoieCIsImkiOiJ5In0="):  # the second is a store cursor
        with pytest.raises(ValueError, match="invalid cursor"):
            await search_calls(store, ReportFilter(), cursor=cursor)
    await store.close()
