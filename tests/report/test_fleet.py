"""The fleet view's numbers and page: outcomes as an operator says them, per-day counts, voice-to-voice
p50/p95 per day and per agent (nearest rank), the slowest calls first, and the page's access rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.calls.outcome import Outcome, call_outcome
from shared.models import AgentKind
from shared.report.fleet import fleet_of, percentile
from shared.report.fleet_page import FleetRequest, fleet_page
from shared.store.sqlite import SqliteCallStore
from tests.report.fleet_calls import fleet_call, fleet_calls
from tests.report.support import KEY, report_settings

NOW = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize("outcome", ["claim_complete", "transferred", "hung_up", "failed", "in_progress"])
def test_each_outcome_is_read_from_the_call_document(outcome: str) -> None:
    assert call_outcome(fleet_call(NOW, outcome, AgentKind.FORM, [500.0])) is Outcome(outcome)


def test_a_transfer_wins_over_a_complete_claim() -> None:
    call = fleet_call(NOW, "transferred", AgentKind.LLM, [])
    call.claim = {field.name: "x" for field in call.initiate.claim}
    assert call_outcome(call) is Outcome.TRANSFERRED


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 21)]  # 1..20
    assert percentile(values, 0.5) == 10.0
    assert percentile(values, 0.95) == 19.0
    assert percentile([7.0], 0.95) == 7.0
    assert percentile([], 0.5) is None


def test_days_outcomes_latencies_and_the_slowest_calls() -> None:
    calls = fleet_calls(NOW, days=10)
    old = fleet_call(NOW - timedelta(days=30), "hung_up", AgentKind.LLM, [9999.0])  # outside the window
    fleet = fleet_of([*calls, old], end=NOW.date(), days=14, link=lambda c: f"/c/{c.call_id}")

    assert [d.day for d in fleet.days] == [NOW.date() - timedelta(days=13 - i) for i in range(14)]
    assert sum(d.calls for d in fleet.days) == fleet.calls == len(calls)
    today = fleet.days[-1]
    assert today.calls == 3 and today.outcomes[Outcome.CLAIM_COMPLETE] == 1
    assert today.outcomes[Outcome.HUNG_UP] == 1  # the slow one
    assert all(d.calls == 0 for d in fleet.days[:4])
    assert fleet.totals[Outcome.FAILED] == sum(1 for c in calls if call_outcome(c) is Outcome.FAILED) > 0

    form_today = [
        ms for c in calls[:2] if c.agent is AgentKind.FORM for ms in (t.first_frame_out_ms for t in c.turns)
    ]
    assert today.agents["form"].p50 == percentile([v for v in form_today if v is not None], 0.5)
    llm = [t.first_frame_out_ms for c in calls if c.agent is AgentKind.LLM for t in c.turns]
    assert fleet.agents["llm"].turns == len(llm)
    assert fleet.agents["llm"].p95 == percentile([v for v in llm if v is not None], 0.95)
    assert fleet.agents["form"].p50 is not None and fleet.agents["form"].p50 < fleet.agents["llm"].p50  # type: ignore[operator]

    slowest = fleet.slowest
    assert slowest[0].worst == 3100.0 and slowest[0].link == f"/c/{slowest[0].call.call_id}"
    assert [s.p95 for s in slowest] == sorted((s.p95 for s in slowest), reverse=True)
    assert all(s.call.call_id != old.call_id for s in slowest)


async def test_the_page_needs_the_admin_key_and_draws_both_charts(tmp_path: Path) -> None:
    settings = report_settings(tmp_path)
    store = SqliteCallStore(settings.store.sqlite.path)
    try:
        for call in fleet_calls(NOW, days=10):
            await store.create(call)
        refused = await fleet_page(store, settings, FleetRequest(), now=NOW)
        assert refused.status == 401
        bad = await fleet_page(store, settings, FleetRequest(days=5, query_key=KEY), now=NOW)
        assert bad.status == 400 and "days: 5" in bad.html
        page = await fleet_page(store, settings, FleetRequest(days=14, header_key=KEY), now=NOW)
    finally:
        await store.close()
    assert page.status == 200
    assert page.html.count('<g class="day"') == 14
    assert 'id="calls-per-day"' in page.html and 'id="latency-per-day"' in page.html
    assert page.html.count('class="slow-call"') == 10
    assert "3,100 ms" in page.html and KEY not in page.html
