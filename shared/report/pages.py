"""The report's two pages, from request values to finished HTML: the call list and one call.

The HTTP layer only passes the query values and the presented keys, and sends the `HtmlPage` back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Final
from urllib.parse import parse_qs, urlencode, urlsplit
from uuid import UUID

from shared.blobs.base import BlobStore
from shared.calls.routing import partition_key
from shared.models import Call, NextActionKind
from shared.report.access import (
    REPORT_PATH,
    Access,
    admin_key_matches,
    call_page_access,
    carried_key,
    relative_report_link,
)
from shared.report.export import calls_csv
from shared.report.listing import (
    MAX_SCAN,
    NO_NEXT_ACTION,
    ReportFilter,
    ReportQueryError,
    parse_filter,
    search_calls,
)
from shared.report.recording import RecordingAnswer, recording_answer, recording_blob_name
from shared.report.render import HtmlPage, error_page, render
from shared.report.views import NEXT_ACTION_LABELS, CallRow, build_call_row, build_call_view, call_duration
from shared.settings import Settings
from shared.store.base import CallStore

__all__ = [
    "DEFAULT_LIMIT",
    "SORTS",
    "CsvFile",
    "ListPageView",
    "ListRequest",
    "call_page",
    "list_csv",
    "list_page",
    "recording",
]

DEFAULT_LIMIT: Final = 20
NEXT_ACTION_CHOICES: Final = (
    *((kind.value, NEXT_ACTION_LABELS[kind]) for kind in NextActionKind),
    (NO_NEXT_ACTION, "No next action yet"),
)
FORM_FIELDS: Final = ("q", "phone", "since", "until", "next_action", "sort")
SORTS: Final = (
    ("newest", "Newest first"),
    ("oldest", "Oldest first"),
    ("longest", "Longest first"),
    ("caller", "Caller number"),
)
_NO_DURATION: Final = timedelta(seconds=-1)


@dataclass(frozen=True)
class ListRequest:
    phone: str | None = None
    since: str | None = None
    until: str | None = None
    next_action: str | None = None
    cursor: str | None = None
    limit: int = DEFAULT_LIMIT
    query_key: str | None = None
    header_key: str | None = None
    q: str | None = None
    sort: str | None = None
    page: int = 1  # with a sort other than the newest first (which pages with `cursor`)


@dataclass(frozen=True)
class ListPageView:
    form: dict[str, str]
    carry_key: str | None
    first_url: str
    first_url_with_filters: str
    later_page: bool
    action: str = REPORT_PATH
    next_actions: tuple[tuple[str, str], ...] = NEXT_ACTION_CHOICES
    problems: tuple[str, ...] = ()
    rows: tuple[CallRow, ...] = ()
    next_url: str | None = None
    scan_note: str | None = None
    sorts: tuple[tuple[str, str], ...] = SORTS
    count_text: str = ""
    export_url: str = ""
    previous_url: str | None = None


def _url(params: dict[str, str | None]) -> str:
    present = {name: value for name, value in params.items() if value}
    return f"{REPORT_PATH}?{urlencode(present)}" if present else REPORT_PATH


def _sorted(calls: list[Call], sort: str) -> list[Call]:
    if sort == "oldest":
        return sorted(calls, key=lambda c: (c.created_at, str(c.call_id)))
    if sort == "longest":
        return sorted(calls, key=lambda c: call_duration(c) or _NO_DURATION, reverse=True)
    if sort == "caller":
        return sorted(calls, key=lambda c: (c.caller_phone, -c.created_at.timestamp()))
    return calls


def _count_text(count: int, complete: bool) -> str:
    if complete:
        return f"{count} call{'' if count == 1 else 's'}"
    return f"{count}+ calls (the {MAX_SCAN} most recent were looked at: narrow the search to see all)"


def _admin(settings: Settings, request: ListRequest) -> HtmlPage | str | None:
    """An error page, or the key to carry in links (None: the admin came with the header)."""
    access = admin_key_matches(settings, request.header_key, request.query_key)
    if access is Access.NOT_CONFIGURED:
        return error_page(503, "API__KEY is not configured on the server: the report list is closed.")
    if access is Access.DENIED:
        return render("key.html", 401, action=REPORT_PATH)
    granted = admin_key_matches(settings, request.query_key) is Access.GRANTED
    return carried_key(settings, request.query_key) if granted and request.query_key else None


def _parse(request: ListRequest) -> tuple[dict[str, str], ReportFilter, str]:
    form = {name: (getattr(request, name) or "").strip() for name in FORM_FIELDS}
    sort = form["sort"] or "newest"
    problems = [] if sort in dict(SORTS) else [f"sort: {sort!r} is not one of {', '.join(dict(SORTS))}"]
    try:
        flt = parse_filter(
            phone=form["phone"],
            since=form["since"],
            until=form["until"],
            next_action=form["next_action"],
            words=form["q"],
        )
    except ReportQueryError as exc:
        problems = exc.problems + problems
        flt = ReportFilter()
    if problems:
        raise ReportQueryError(problems)
    return form, flt, sort


async def list_page(store: CallStore, settings: Settings, request: ListRequest) -> HtmlPage:
    """The call list for the admin (API key in the `x-functions-key` header or in `?key=`)."""
    admin = _admin(settings, request)
    if isinstance(admin, HtmlPage):
        return admin
    carry_key = admin
    form = {name: (getattr(request, name) or "").strip() for name in FORM_FIELDS}
    limit = None if request.limit == DEFAULT_LIMIT else str(request.limit)
    filters: dict[str, str | None] = {**form, "limit": limit, "key": carry_key}
    view = ListPageView(
        form=form,
        carry_key=carry_key,
        first_url=_url({"key": carry_key}),
        first_url_with_filters=_url(filters),
        later_page=request.cursor is not None or request.page > 1,
        export_url=_url({**filters, "format": "csv"}),
    )
    try:
        form, flt, sort = _parse(request)
        everything = await search_calls(store, flt, limit=MAX_SCAN)  # the count, and the other sorts
        if sort == "newest":
            result = await search_calls(store, flt, limit=request.limit, cursor=request.cursor)
    except ReportQueryError as exc:
        return render("list.html", 400, page=replace(view, problems=tuple(exc.problems)))
    except ValueError:
        problem = "cursor: this page link is no longer valid; start again from the newest calls"
        return render("list.html", 400, page=replace(view, problems=(problem,)))
    view = replace(view, count_text=_count_text(len(everything.calls), everything.next_cursor is None))
    note = next_url = previous_url = None
    if sort == "newest":
        calls = result.calls
        if result.scan_limited:
            note = f"Looked at {result.scanned} calls without filling this page: older calls may still match."
        next_url = _url({**filters, "cursor": result.next_cursor}) if result.next_cursor else None
    else:
        start = (request.page - 1) * request.limit
        ordered = _sorted(everything.calls, sort)
        calls = ordered[start : start + request.limit]
        if start + request.limit < len(ordered):
            next_url = _url({**filters, "page": str(request.page + 1)})
        if request.page > 1:
            previous_url = _url({**filters, "page": str(request.page - 1) if request.page > 2 else None})
    rows = tuple(build_call_row(call, relative_report_link(settings, call)) for call in calls)
    page = replace(view, rows=rows, next_url=next_url, previous_url=previous_url, scan_note=note)
    return render("list.html", page=page)


@dataclass(frozen=True)
class CsvFile:
    filename: str
    text: str


async def list_csv(store: CallStore, settings: Settings, request: ListRequest) -> CsvFile | HtmlPage:
    """Every call the list's search finds (up to the scan bound), in its order, as CSV."""
    admin = _admin(settings, request)
    if isinstance(admin, HtmlPage):
        return admin
    try:
        _form, flt, sort = _parse(request)
    except ReportQueryError as exc:
        return error_page(400, "The search could not run: " + "; ".join(exc.problems))
    found = await search_calls(store, flt, limit=MAX_SCAN)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    return CsvFile(f"calls-{stamp}.csv", calls_csv(_sorted(found.calls, sort)))


@dataclass(frozen=True)
class PageCredentials:
    """What opened a call's page: the admin keys presented (the header's first, the query's last), or
    a signed link (`expires`, `signature`) and the partition key it carries (`partition`: a point read)."""

    keys: tuple[str | None, ...] = ()
    expires: str | None = None
    signature: str | None = None
    partition: str | None = None


def _access_query(settings: Settings, call: Call, credentials: PageCredentials) -> str:
    """The query that opened this page again (the admin key or the signed link), for its own links;
    an admin who came with the header gets a freshly signed query."""
    keys = credentials.keys
    query_key = keys[-1] if len(keys) > 1 else None
    if query_key and admin_key_matches(settings, query_key) is Access.GRANTED:
        return urlencode({"key": carried_key(settings, query_key)})
    if credentials.expires and credentials.signature:
        return urlencode(
            {"expires": credentials.expires, "sig": credentials.signature, "pk": call.caller_phone}
        )
    return urlsplit(relative_report_link(settings, call)).query


async def _authorised_call(
    store: CallStore, settings: Settings, call_id: str, credentials: PageCredentials
) -> Call | HtmlPage:
    try:
        parsed = UUID(call_id)
    except ValueError:
        return error_page(404, "There is no such call.")
    allowed = call_page_access(
        settings, parsed, keys=credentials.keys, expires=credentials.expires, signature=credentials.signature
    )
    if not allowed:
        return error_page(403, "This report link is not valid or has expired. Ask for a new link.")
    call = await store.get(parsed, caller_phone=partition_key(credentials.partition))
    if call is None:
        return error_page(404, "There is no such call.")
    return call


async def call_page(
    store: CallStore, settings: Settings, call_id: str, credentials: PageCredentials
) -> HtmlPage:
    """One call, for the holder of its signed link (403 when tampered with or expired) or the admin."""
    call = await _authorised_call(store, settings, call_id, credentials)
    if isinstance(call, HtmlPage):
        return call
    query = _access_query(settings, call, credentials)
    recording_src = f"{REPORT_PATH}/{call.call_id}/recording?{query}" if recording_blob_name(call) else None
    key = parse_qs(query).get("key", [None])[0] if query.startswith("key=") else None
    back_url = _url({"key": key})
    return render("call.html", view=build_call_view(call, recording_src=recording_src, back_url=back_url))


async def recording(
    store: CallStore, blobs: BlobStore, settings: Settings, call_id: str, credentials: PageCredentials
) -> RecordingAnswer | HtmlPage:
    """The call's recording for its report page's player (same access as the page)."""
    call = await _authorised_call(store, settings, call_id, credentials)
    if isinstance(call, HtmlPage):
        return call
    return await recording_answer(blobs, call)
