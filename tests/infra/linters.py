"""The three linters from PyPI: checkov over the templates and Dockerfiles (against a reviewed baseline),
hadolint on the Dockerfiles, actionlint on the GitHub Actions workflows. Each returns its problems."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.infra.project import REPO, Project

BIN = Path(sys.executable).parent
HADOLINT = BIN / "hadolint"
ACTIONLINT = BIN / "actionlint"
SHELLCHECK = BIN / "shellcheck"
DEPLOY_SCRIPTS = ("scripts/deploy.sh", "scripts/logs.sh")
# checkov pins `packaging<24`, which pytest 9 cannot run with: it lives in its own virtual environment
# (scripts/install-python-tools.sh, requirements-checkov.txt)
CHECKOV = REPO / ".tools" / "checkov" / "bin" / "checkov"
CHECKOV_FRAMEWORKS = ("bicep", "dockerfile")
BASELINE = "infra/checkov-baseline.yaml"


def dockerfiles(project: Project) -> list[Path]:
    return sorted([*project.root.glob("media_host/Dockerfile"), *project.infra.rglob("*Dockerfile")])


def _run(command: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


def hadolint_problems(project: Project) -> list[str]:
    files = dockerfiles(project)
    if not files:
        return ["no Dockerfile to lint"]
    result = _run([HADOLINT, "--no-color", *files], project.root)
    return result.stdout.splitlines() + result.stderr.splitlines() if result.returncode else []


def actionlint_problems(project: Project) -> list[str]:
    workflows = sorted((project.root / ".github" / "workflows").glob("*.y*ml"))
    if not workflows:
        return ["no workflow in .github/workflows"]
    # with shellcheck, actionlint also checks each step's `run:` script
    result = _run([ACTIONLINT, "-no-color", "-oneline", "-shellcheck", SHELLCHECK, *workflows], project.root)
    return result.stdout.splitlines() + result.stderr.splitlines() if result.returncode else []


def shellcheck_problems(project: Project) -> list[str]:
    """The deployment scripts make deploy and make logs run."""
    scripts = [project.root / name for name in DEPLOY_SCRIPTS]
    result = _run([SHELLCHECK, "--format=gcc", *scripts], project.root)
    return result.stdout.splitlines() + result.stderr.splitlines() if result.returncode else []


def checkov_findings(project: Project) -> dict[str, Any]:
    """One checkov run over the project's templates and Dockerfiles: failed checks and parsing errors."""
    if not CHECKOV.is_file():
        raise AssertionError(
            f"checkov is not installed at {CHECKOV}: run make install (scripts/install-python-tools.sh)"
        )
    result = _run(
        [
            CHECKOV,
            "--directory",
            project.root,
            "--framework",
            *CHECKOV_FRAMEWORKS,
            "--skip-download",  # offline: the built-in policies only
            "--output",
            "json",
            "--quiet",
        ],
        project.root,
    )
    try:
        reports = json.loads(result.stdout)
    except ValueError as exc:
        raise AssertionError(f"checkov gave no report: {result.stderr[-2000:]}") from exc
    failed: set[tuple[str, str, str]] = set()
    parsing_errors: list[str] = []
    for report in reports if isinstance(reports, list) else [reports]:
        results = report.get("results") or {}
        for finding in results.get("failed_checks") or []:
            path = Path(finding["file_path"].lstrip("/"))
            file = str(path.relative_to("infra")) if path.parts[:1] == ("infra",) else str(path)
            failed.add((finding["check_id"], file, finding["resource"]))
        parsing_errors += results.get("parsing_errors") or []
    return {"failed": failed, "parsing_errors": parsing_errors}


def checkov_problems(project: Project, findings: dict[str, Any]) -> list[str]:
    baseline_file = project.root / BASELINE
    accepted = {
        (entry["check"], entry["file"], entry["resource"])
        for entry in yaml.safe_load(baseline_file.read_text(encoding="utf-8")) or []
        if entry.get("reason")
    }
    problems = [f"checkov could not parse {path}" for path in findings["parsing_errors"]]
    for check, file, resource in sorted(findings["failed"] - accepted):
        problems.append(f"checkov {check} fails on {resource} ({file}): fix it or review it into {BASELINE}")
    for check, file, resource in sorted(accepted - findings["failed"]):
        problems.append(f"{BASELINE}: {check} on {resource} ({file}) no longer fails: remove the entry")
    return problems
