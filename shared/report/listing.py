"""Searching calls for the report list: by caller phone, by creation date, by next action and by words
(anywhere in the call: phone, company, claim, synthesis, transcript), newest first.

The store answers the phone or the date query with its own cursor; what it cannot filter (the next
action, and dates when searching by phone) is filtered here, page after page, scanning at most
`max_scan` calls per request. The report's cursor remembers the store cursor of the page it stopped
in and how many calls of that page were already looked at, so the next request resumes exactly there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

from shared.models import Call, NextActionKind
from shared.models.call import check_e164
from shared.store.base import CallStore, Page, decode_cursor, encode_cursor

__all__ = [
    "MAX_SCAN",
    "NO_NEXT_ACTION",
    "ReportFilter",
    "ReportQueryError",
    "SearchResult",
    "parse_filter",
    "search_calls",
    "searchable_text",
]

MAX_SCAN: Final = 500
STORE_PAGE: Final = 50
NO_NEXT_ACTION: Final = "none"
MAX_WORDS: Final = 10


class ReportQueryError(ValueError):
    """The search form was filled wrongly; `problems` has one readable line per field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ReportFilter:
    phone: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    next_action: NextActionKind | None = None
    without_next_action: bool = False
    words: tuple[str, ...] = ()  # casefolded; every one must appear somewhere in the call

    @property
    def filters_in_memory(self) -> bool:
        """True when some calls the store returns may not match (so pages are scanned)."""
        by_date = self.phone is not None and (self.since is not None or self.until is not None)
        return by_date or self.next_action is not None or self.without_next_action or bool(self.words)

    def matches(self, call: Call) -> bool:
        if self.since is not None and call.created_at < self.since:
            return False
        if self.until is not None and call.created_at >= self.until:
            return False
        if self.words:
            text = searchable_text(call)
            if not all(word in text for word in self.words):
                return False
        if self.without_next_action:
            return call.next is None
        return self.next_action is None or (call.next is not None and call.next.action is self.next_action)


@dataclass(frozen=True)
class SearchResult:
    calls: list[Call]
    next_cursor: str | None
    scanned: int
    scan_limited: bool


def searchable_text(call: Call) -> str:
    """Everything a free-text search looks in, casefolded."""
    parts = [
        call.caller_phone,
        call.initiate.bot_company,
        call.initiate.bot_name,
        *(f"{name} {value}" for name, value in call.claim.items() if value),
        *(m.content for m in call.messages),
        *(f"{r.title} {r.description}" for r in call.reminders),
    ]
    if call.synthesis is not None:
        parts += [call.synthesis.short, call.synthesis.long]
    if call.next is not None:
        parts.append(call.next.justification)
    return "\n".join(parts).casefold()


def _moment(text: str, *, field: str, end_of_day: bool) -> datetime:
    """An ISO date (a whole day, UTC) or date-time (naive means UTC). `until` dates include the day."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime.combine(day, time(), tzinfo=UTC)
            return start + timedelta(days=1) if end_of_day else start
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{field}: {text!r} is not an ISO date such as 2024-05-31") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_filter(
    *,
    phone: str | None,
    since: str | None,
    until: str | None,
    next_action: str | None,
    words: str | None = None,
) -> ReportFilter:
    """The search form's fields (empty means any) as a filter, or every problem at once."""
    problems: list[str] = []
    checked_phone = since_at = until_at = kind = None
    if phone and phone.strip():
        try:
            checked_phone = check_e164("".join(phone.split()))
        except ValueError as exc:
            problems.append(f"phone: {exc}")
    for name, text in (("since", since), ("until", until)):
        if text and text.strip():
            try:
                moment = _moment(text.strip(), field=name, end_of_day=name == "until")
            except ValueError as exc:
                problems.append(str(exc))
                continue
            if name == "since":
                since_at = moment
            else:
                until_at = moment
    if since_at is not None and until_at is not None and since_at >= until_at:
        problems.append("until: must come after since")
    wanted = (next_action or "").strip()
    if wanted and wanted != NO_NEXT_ACTION:
        try:
            kind = NextActionKind(wanted)
        except ValueError:
            choices = ", ".join([NO_NEXT_ACTION, *(k.value for k in NextActionKind)])
            problems.append(f"next_action: {wanted!r} is not one of {choices}")
    searched = tuple(dict.fromkeys((words or "").casefold().split()))
    if len(searched) > MAX_WORDS:
        problems.append(f"q: at most {MAX_WORDS} words")
    if problems:
        raise ReportQueryError(problems)
    return ReportFilter(checked_phone, since_at, until_at, kind, wanted == NO_NEXT_ACTION, searched)


def _position(cursor: str | None) -> tuple[str | None, int, int | None]:
    """(store cursor, calls of that page already seen, store page size) of a report cursor."""
    if cursor is None:
        return None, 0, None
    payload = decode_cursor(cursor)
    try:
        offset, size = int(payload["o"]), int(payload["n"])
    except (KeyError, ValueError) as exc:
        raise ValueError("invalid cursor") from exc
    if offset < 0 or not 1 <= size <= STORE_PAGE * 2:
        raise ValueError("invalid cursor")
    return payload.get("s") or None, offset, size


def _cursor(store_cursor: str | None, offset: int, size: int) -> str:
    return encode_cursor({"s": store_cursor or "", "o": str(offset), "n": str(size)})


async def _fetch(store: CallStore, flt: ReportFilter, size: int, cursor: str | None) -> Page:
    if flt.phone is not None:
        return await store.list_by_phone(flt.phone, limit=size, cursor=cursor)
    return await store.list_by_date(since=flt.since, until=flt.until, limit=size, cursor=cursor)


async def search_calls(
    store: CallStore,
    flt: ReportFilter,
    *,
    limit: int = 20,
    cursor: str | None = None,
    max_scan: int = MAX_SCAN,
) -> SearchResult:
    """Up to `limit` matching calls, newest first, looking at no more than `max_scan` calls.

    ValueError for a cursor this function did not make. When the scan bound stops the search early,
    `scan_limited` is true and `next_cursor` continues the search where it stopped.
    """
    store_cursor, offset, size = _position(cursor)
    size = size or (max(limit, STORE_PAGE) if flt.filters_in_memory else limit)
    found: list[Call] = []
    scanned = 0
    while True:
        page = await _fetch(store, flt, size, store_cursor)
        for index in range(offset, len(page.items)):
            call = page.items[index]
            scanned += 1
            if flt.phone is not None and flt.since is not None and call.created_at < flt.since:
                return SearchResult(found, None, scanned, False)  # newest first: the rest is older
            if flt.matches(call):
                found.append(call)
            if len(found) >= limit or scanned >= max_scan:
                following = _following(page, store_cursor, index + 1, size)
                return SearchResult(found, following, scanned, len(found) < limit and following is not None)
        if page.next_cursor is None:
            return SearchResult(found, None, scanned, False)
        store_cursor, offset = page.next_cursor, 0


def _following(page: Page, store_cursor: str | None, offset: int, size: int) -> str | None:
    if offset < len(page.items):
        return _cursor(store_cursor, offset, size)
    return None if page.next_cursor is None else _cursor(page.next_cursor, 0, size)
