"""The fleet page (`GET /api/report/fleet`, admin key): the last N days of calls in charts and tables,
built from the store alone (`shared.report.fleet`), rendered server-side like the call page's chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Final
from urllib.parse import urlencode

from markupsafe import Markup

from shared.calls.outcome import OUTCOME_WORDS
from shared.report.access import REPORT_PATH, Access, admin_key_matches, carried_key, relative_report_link
from shared.report.fleet import AGENTS, OUTCOMES, Fleet, fleet_of
from shared.report.fleet_chart import AGENT_WORDS, OUTCOME_COLORS, calls_per_day_svg, latency_per_day_svg
from shared.report.listing import MAX_SCAN, ReportFilter, search_calls
from shared.report.render import HtmlPage, error_page, render
from shared.settings import Settings
from shared.store.base import CallStore

__all__ = ["DAY_CHOICES", "DEFAULT_DAYS", "FLEET_PATH", "FleetRequest", "fleet_page"]

FLEET_PATH: Final = f"{REPORT_PATH}/fleet"
DAY_CHOICES: Final = (7, 14, 30, 90)
DEFAULT_DAYS: Final = 14


@dataclass(frozen=True)
class FleetRequest:
    days: int = DEFAULT_DAYS
    query_key: str | None = None
    header_key: str | None = None


@dataclass(frozen=True)
class FleetView:
    fleet: Fleet
    calls_chart: Markup
    latency_chart: Markup
    days: int
    day_choices: tuple[int, ...]
    carry_key: str | None
    list_url: str
    outcome_words: dict[str, str]
    outcome_colors: dict[str, str]
    agent_words: dict[str, str]
    agents: tuple[str, ...]


def _admin(settings: Settings, request: FleetRequest) -> HtmlPage | str | None:
    """An error page, or the key to carry in links (None: the admin came with the header)."""
    access = admin_key_matches(settings, request.header_key, request.query_key)
    if access is Access.NOT_CONFIGURED:
        return error_page(503, "API__KEY is not configured on the server: the report is closed.")
    if access is Access.DENIED:
        return render("key.html", 401, action=FLEET_PATH)
    granted = admin_key_matches(settings, request.query_key) is Access.GRANTED
    return carried_key(settings, request.query_key) if granted and request.query_key else None


async def fleet_page(
    store: CallStore, settings: Settings, request: FleetRequest, *, now: datetime | None = None
) -> HtmlPage:
    admin = _admin(settings, request)
    if isinstance(admin, HtmlPage):
        return admin
    if request.days not in DAY_CHOICES:
        choices = ", ".join(map(str, DAY_CHOICES))
        return error_page(400, f"days: {request.days} is not one of {choices}.")
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    since = datetime.combine(today - timedelta(days=request.days - 1), time.min, tzinfo=UTC)
    found = await search_calls(store, ReportFilter(since=since), limit=MAX_SCAN)
    fleet = fleet_of(
        found.calls,
        end=today,
        days=request.days,
        link=lambda call: relative_report_link(settings, call),
        complete=found.next_cursor is None,
    )
    view = FleetView(
        fleet=fleet,
        calls_chart=calls_per_day_svg(fleet.days),
        latency_chart=latency_per_day_svg(fleet.days),
        days=request.days,
        day_choices=DAY_CHOICES,
        carry_key=admin,
        list_url=f"{REPORT_PATH}?{urlencode({'key': admin})}" if admin else REPORT_PATH,
        outcome_words={o.value: OUTCOME_WORDS[o] for o in OUTCOMES},
        outcome_colors={o.value: OUTCOME_COLORS[o] for o in OUTCOMES},
        agent_words=dict(AGENT_WORDS),
        agents=AGENTS,
    )
    return render("fleet.html", view=view, action=FLEET_PATH)
