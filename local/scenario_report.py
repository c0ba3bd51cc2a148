"""The per-scenario figures page from `callcenter simulate --json` summaries (one file per run).

    .venv/bin/python -m local.scenario_report run1.json run2.json > docs/scenario-figures.md
    .venv/bin/python -m local.scenario_report "run A=a.json" "run B=b.json"   # named runs

For each scenario and mode (audio, text): claim fields exact over expected, and whether the call ended
as intended, in every run; then the totals per run. Audio runs differ (real speech engines on a shared
machine), so each run has its own column.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

Row = dict[str, Any]


def _cell(row: Row | None) -> str:
    if row is None:
        return "–"
    fields = f"{row['fields_exact']}/{row['fields_expected']}" if row["fields_expected"] else "–"
    ending = {True: "yes", False: "**no**", None: "–"}[row["ended_as_intended"]]
    mark = "" if row["passed"] else " ✗"
    return f"{fields}, {ending}{mark}"


def _totals(label: str, mode: str, numbers: dict[str, Any], scenarios: list[Row]) -> str:
    fields = f"{numbers['fields_exact']}/{numbers['fields_expected']} ({numbers['fields_exact_pct']}%)"
    ends = (
        f"{numbers['ended_as_intended']}/{numbers['endings_expected']} ({numbers['ended_as_intended_pct']}%)"
    )
    ran = [row for row in scenarios if row.get("mode", "audio") == mode]
    return f"| {label} | {mode} | {fields} | {ends} | {sum(bool(r['passed']) for r in ran)}/{len(ran)} |"


def render(runs: list[tuple[str, dict[str, Any]]]) -> str:
    by_scenario: dict[tuple[str, str], dict[str, Row]] = defaultdict(dict)
    for label, summary in runs:
        for row in summary["scenarios"]:
            by_scenario[(row["name"], row.get("mode", "audio"))][label] = row
    labels = [label for label, _ in runs]
    lines = [
        "| run | mode | claim fields exact | calls ending as intended | scenarios passed |",
        "|---|---|---|---|---|",
    ]
    for label, summary in runs:
        for mode, numbers in summary.get("figures", {}).items():
            if numbers["fields_expected"] or numbers["endings_expected"]:
                lines.append(_totals(label, mode, numbers, summary["scenarios"]))
    lines += ["", "| scenario | mode | " + " | ".join(labels) + " |", "|---|---|" + "---|" * len(labels)]
    for (name, mode), rows in sorted(by_scenario.items()):
        lines.append(f"| {name} | {mode} | " + " | ".join(_cell(rows.get(label)) for label in labels) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m local.scenario_report RUN.json [RUN.json...]", file=sys.stderr)
        return 2
    runs: list[tuple[str, dict[str, Any]]] = []
    for number, arg in enumerate(argv, 1):  # "LABEL=path" names a run; else "run N"
        label, _, path = arg.rpartition("=")
        runs.append((label or f"run {number}", json.loads(Path(path).read_text(encoding="utf-8"))))
    sys.stdout.write(render(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
