"""Each deployment check fails on a deliberately broken copy of the templates, Dockerfiles, scripts or
workflow, with a message naming the problem (tests/infra/broken_cases.py): the checks in test_templates.py
pass because the files are right, not because the checks look at nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.functions_host import RegisteredFunction
from tests.infra import linters
from tests.infra.broken_cases import CASES, STALE_ENTRY, Case
from tests.infra.project import broken_copy


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_the_check_fails_on_a_broken_copy(
    tmp_path: Path, functions: dict[str, RegisteredFunction], case: Case
) -> None:
    problems = case.check(broken_copy(tmp_path, case.path, case.old, case.new), functions)
    assert any(case.expected in problem for problem in problems), problems


def test_checkov_fails_on_an_unreviewed_finding_and_on_a_stale_baseline_entry(tmp_path: Path) -> None:
    project = broken_copy(
        tmp_path, "infra/modules/registry.bicep", "adminUserEnabled: false", "adminUserEnabled: true"
    )
    baseline = project.root / linters.BASELINE
    baseline.write_text(
        baseline.read_text(encoding="utf-8") + STALE_ENTRY,
        encoding="utf-8",
    )
    problems = linters.checkov_problems(project, linters.checkov_findings(project))
    assert any(
        "fails on Microsoft.ContainerRegistry/registries.registry" in problem for problem in problems
    ), problems
    assert any(
        "CKV_AZURE_1 on Microsoft.Storage/storageAccounts.account" in problem for problem in problems
    ), problems
