"""The deployment files agree with the code: run on the repository (each check has a failing counterpart
on a broken copy in test_broken_copies.py). The Bicep CLI, az and Docker cannot run here: these checks
read the templates offline (docs/deploy.md)."""

from __future__ import annotations

from typing import Any

from local.functions_host import RegisteredFunction
from tests.infra import checks, linters, security, settings_checks
from tests.infra.project import Project


def test_every_bicep_file_parses(project: Project) -> None:
    assert len(list(project.infra.rglob("*.bicep"))) >= 10
    assert checks.parse_problems(project) == []


def test_event_grid_subscriptions_deliver_each_event_to_the_function_handling_it(
    project: Project, functions: dict[str, RegisteredFunction]
) -> None:
    assert checks.event_grid_problems(project, functions) == []


def test_app_settings_pass_load_settings_for_each_process_role(
    project: Project, functions: dict[str, RegisteredFunction]
) -> None:
    processes = {process.role: process for process in settings_checks.process_settings(project)}
    assert set(processes) == {"functions", "media"}
    assert settings_checks.settings_problems(project, functions) == []
    media = settings_checks.load_process_settings(processes["media"])
    assert media.media.public_url.startswith("wss://")


def test_the_templates_set_every_setting_the_example_lists_per_process(project: Project) -> None:
    assert settings_checks.example_problems(project) == []


def test_names_ports_and_probe_paths_are_the_codes(
    project: Project, functions: dict[str, RegisteredFunction]
) -> None:
    assert checks.names_problems(project, functions) == []


def test_feature_flags_in_app_configuration_are_the_codes(project: Project) -> None:
    assert checks.flags_problems(project) == []


def test_security_properties(project: Project) -> None:
    assert security.security_problems(project) == []


def test_each_identity_has_exactly_the_roles_its_settings_imply(project: Project) -> None:
    assert settings_checks.role_problems(project) == []
    assigned = settings_checks.assigned_roles(project)
    assert ("cosmosDataContributor", "cosmos") in assigned["media"]
    assert ("storageQueueDataContributor", "storage") in assigned["function"]


def test_checkov_finds_nothing_beyond_the_reviewed_baseline(
    project: Project, checkov_report: dict[str, Any]
) -> None:
    assert checkov_report["failed"], "checkov reported nothing: did it scan the templates?"
    assert linters.checkov_problems(project, checkov_report) == []


def test_hadolint_passes_on_the_dockerfiles(project: Project) -> None:
    assert len(linters.dockerfiles(project)) == 2
    assert linters.hadolint_problems(project) == []


def test_actionlint_passes_on_the_workflows(project: Project) -> None:
    assert linters.actionlint_problems(project) == []


def test_shellcheck_passes_on_the_deployment_scripts(project: Project) -> None:
    assert linters.shellcheck_problems(project) == []
