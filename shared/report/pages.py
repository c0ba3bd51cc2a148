"""The report's two pages, from request values to finished HTML: the call list and one call.

The HTTP layer only passes the query values and the presented keys, and sends the `HtmlPage` back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final
from urllib.parse import urlencode
from uuid import UUID

from shared.models import NextActionKind
from shared.report.access import (
    REPORT_PATH,
    Access,
    admin_key_matches,
    call_page_access,
    relative_report_link,
)
from shared.report.listing import NO_NEXT_ACTION, ReportQueryError, parse_filter, search_calls
from shared.report.render import HtmlPage, error_page, render
from shared.report.views import NEXT_ACTION_LABELS, CallRow, build_call_row, build_call_view
from shared.settings import Settings
from shared.store.base import CallStore

__all__ = ["DEFAULT_LIMIT", "ListPageView", "ListRequest", "call_page", "list_page"]

DEFAULT_LIMIT: Final = 20
NEXT_ACTION_CHOICES: Final = (
    *((kind.value, NEXT_ACTION_LABELS[kind]) for kind in NextActionKind),
    (NO_NEXT_ACTION, "No next action yet"),
)
FORM_FIELDS: Final = ("phone", "since", "until", "next_action")


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


def _url(params: dict[str, str | None]) -> str:
    present = {name: value for name, value in params.items() if value}
    return f"{REPORT_PATH}?{urlencode(present)}" if present else REPORT_PATH


async def list_page(store: CallStore, settings: Settings, request: ListRequest) -> HtmlPage:
    """The call list for the admin (API key in the `x-functions-key` header or in `?key=`)."""
    access = admin_key_matches(settings, request.header_key, request.query_key)
    if access is Access.NOT_CONFIGURED:
        return error_page(503, "API__KEY is not configured on the server: the report list is closed.")
    if access is Access.DENIED:
        return error_page(401, "Open this page with the API key: the x-functions-key header or ?key=.")
    carry_key = (
        request.query_key if admin_key_matches(settings, request.query_key) is Access.GRANTED else None
    )
    form = {name: (getattr(request, name) or "").strip() for name in FORM_FIELDS}
    limit = None if request.limit == DEFAULT_LIMIT else str(request.limit)
    filters: dict[str, str | None] = {**form, "limit": limit, "key": carry_key}
    view = ListPageView(
        form=form,
        carry_key=carry_key,
        first_url=_url({"key": carry_key}),
        first_url_with_filters=_url(filters),
        later_page=request.cursor is not None,
    )
    try:
        flt = parse_filter(**form)
        result = await search_calls(store, flt, limit=request.limit, cursor=request.cursor)
    except ReportQueryError as exc:
        return render("list.html", 400, page=replace(view, problems=tuple(exc.problems)))
    except ValueError:
        problem = "cursor: this page link is no longer valid; start again from the newest calls"
        return render("list.html", 400, page=replace(view, problems=(problem,)))
    note = None
    if result.scan_limited:
        note = f"Looked at {result.scanned} calls without filling this page: older calls may still match."
    rows = tuple(build_call_row(call, relative_report_link(settings, call)) for call in result.calls)
    next_url = _url({**filters, "cursor": result.next_cursor}) if result.next_cursor else None
    return render("list.html", page=replace(view, rows=rows, next_url=next_url, scan_note=note))


async def call_page(
    store: CallStore,
    settings: Settings,
    call_id: str,
    *,
    keys: tuple[str | None, ...],
    expires: str | None,
    signature: str | None,
) -> HtmlPage:
    """One call, for the holder of its signed link (403 when tampered with or expired) or the admin."""
    try:
        parsed = UUID(call_id)
    except ValueError:
        return error_page(404, "There is no such call.")
    if not call_page_access(settings, parsed, keys=keys, expires=expires, signature=signature):
        return error_page(403, "This report link is not valid or has expired. Ask for a new link.")
    call = await store.get(parsed)
    if call is None:
        return error_page(404, "There is no such call.")
    return render("call.html", view=build_call_view(call))
