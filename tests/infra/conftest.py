"""Fixtures of the deployment checks: the functions function_app registers, the project, one checkov run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from local.functions_host import RegisteredFunction, registered_functions
from tests.infra.linters import checkov_findings
from tests.infra.project import REPO, Project, copy_deployment


@pytest.fixture(scope="session")
def functions() -> dict[str, RegisteredFunction]:
    """What the Functions host indexes from function_app (the real decorators' bindings)."""
    import function_app

    return registered_functions(function_app.app)


@pytest.fixture
def project() -> Project:
    return Project(REPO)


@pytest.fixture(scope="session")
def checkov_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """checkov over a copy of the deployment files, once per session (it takes seconds)."""
    root: Path = tmp_path_factory.mktemp("deployment")
    return checkov_findings(copy_deployment(root))
