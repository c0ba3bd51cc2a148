"""The Azure Monitor workbook (infra/workbooks/calls.json) queries only what the code emits: every span,
metric and attribute name in its KQL is one of `shared.telemetry.names`, and it has the charts an operator
opens first (calls by outcome, voice-to-voice p50/p95, failures by kind)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from shared.telemetry import names

WORKBOOK = Path(__file__).resolve().parents[2] / "infra" / "workbooks" / "calls.json"
EMITTED = {value for key, value in vars(names).items() if key.isupper() and isinstance(value, str)}


def _queries() -> dict[str, dict[str, Any]]:
    workbook = json.loads(WORKBOOK.read_text(encoding="utf-8"))
    assert workbook["version"] == "Notebook/1.0"
    parameters = [i for i in workbook["items"] if i["type"] == 9]
    assert [p["name"] for p in parameters[0]["content"]["parameters"]] == ["TimeRange"]
    return {i["name"]: i["content"] for i in workbook["items"] if i["type"] == 3}


def test_every_query_is_kql_over_application_insights_in_the_chosen_time_range() -> None:
    for name, content in _queries().items():
        assert content["version"] == "KqlItem/1.0", name
        assert content["resourceType"] == "microsoft.insights/components", name
        assert content["timeContextFromParameter"] == "TimeRange", name
        assert content["query"].strip() and content["title"], name


def test_the_queries_name_only_what_the_code_emits() -> None:
    for name, content in _queries().items():
        query = content["query"]
        quoted = set(
            re.findall(
                r'"((?:callcenter|call|turn|llm|tool|sms|post_call|failure|fallback)\.[a-z_.]+)"', query
            )
        )
        dimensions = set(re.findall(r'customDimensions\["([^"]+)"\]', query))
        assert quoted | dimensions, name
        assert (quoted | dimensions) <= EMITTED, (name, (quoted | dimensions) - EMITTED)


def test_the_charts_an_operator_opens_first() -> None:
    queries = _queries()
    assert (
        names.CALLS in queries["calls-by-outcome"]["query"]
        and names.ATTR_OUTCOME in queries["calls-by-outcome"]["query"]
    )
    latency = queries["voice-to-voice"]["query"]
    assert (
        f'"{names.SPAN_TURN}"' in latency
        and "percentile(duration, 50)" in latency
        and "percentile(duration, 95)" in latency
    )
    failures = queries["failures"]["query"]
    assert names.MODEL_FAILURES in failures and names.SESSIONS_FAILED in failures and "exceptions" in failures
