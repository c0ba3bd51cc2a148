"""`make deploy` (scripts/deploy.sh) and `make logs` (scripts/logs.sh) run end to end against a stand-in
for the Azure CLI and curl (tests/infra/fake_az.py), since Azure cannot be reached here: the order of the
steps, what each command is given, the first run without a phone number, and the one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.infra.project import REPO, Project

FAKE = Path(__file__).with_name("fake_az.py")
NUMBER = "+33612345678"


def run_deploy(
    tmp_path: Path, parameters: dict[str, Any] | None, *, tools: tuple[str, ...] = ("az", "curl")
) -> tuple[subprocess.CompletedProcess[str], list[list[str]], dict[str, Any]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in tools:
        wrapper = bin_dir / tool
        wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" {tool} "$@"\n', encoding="utf-8")
        wrapper.chmod(0o755)
    parameters_file = tmp_path / "main.parameters.json"
    if parameters is not None:
        document = {"parameters": {name: {"value": value} for name, value in parameters.items()}}
        parameters_file.write_text(json.dumps(document), encoding="utf-8")
    main = Project(REPO).main
    main.set_parameters(
        {name: value for name, value in (parameters or {}).items() if name in main.parameters}
    )
    outputs = {
        name: {"type": "String", "value": main.value(output["value"])}
        for name, output in main.tree["outputs"].items()
    }
    (tmp_path / "outputs.json").write_text(json.dumps(outputs), encoding="utf-8")
    log = tmp_path / "calls.jsonl"
    log.touch()
    environment = {
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "FAKE_AZ_LOG": str(log),
        "FAKE_AZ_OUTPUTS": str(tmp_path / "outputs.json"),
        "PARAMETERS": str(parameters_file),
        "LOCATION": "swedencentral",
    }
    result = subprocess.run(
        ["bash", "scripts/deploy.sh", "rg-calls"],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    calls = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    return result, calls, {name: output["value"] for name, output in outputs.items()}


def _option(call: list[str], name: str) -> str | None:
    return call[call.index(name) + 1] if name in call else None


def _deployments(calls: list[list[str]]) -> list[list[str]]:
    return [call for call in calls if call[1:4] == ["deployment", "group", "create"]]


def test_a_first_run_without_a_number_deploys_everything_but_the_event_subscriptions(tmp_path: Path) -> None:
    result, calls, outputs = run_deploy(tmp_path, {"botPhoneNumber": "", "prefix": "cca"})
    assert result.returncode == 0, result.stderr
    assert "no phone number is set yet" in result.stdout
    assert calls[1][:3] == ["az", "group", "show"] and calls[2][:3] == ["az", "group", "create"]
    assert _option(calls[2], "--location") == "swedencentral"
    stage1 = _deployments(calls)
    assert [_option(call, "--template-file") for call in stage1] == ["infra/main.bicep", "infra/main.bicep"]
    images = [next(word for word in call if word.startswith("mediaImage=")) for call in stage1]
    assert images[0] == "mediaImage="  # the registry exists only after stage 1
    assert images[1].startswith(f"mediaImage={outputs['registryServer']}/media-host:")
    secrets = [_option(call, "--name") for call in calls if call[1:4] == ["keyvault", "secret", "set"]]
    assert secrets == ["api-key", "report-signing-key"]
    build = next(call for call in calls if call[1:3] == ["acr", "build"])
    assert _option(build, "--file") == "media_host/Dockerfile" and "." in build  # the repository as context
    published = next(
        i for i, call in enumerate(calls) if call[1:4] == ["functionapp", "deployment", "source"]
    )
    listed = next(i for i, call in enumerate(calls) if call[1:4] == ["functionapp", "function", "list"])
    assert calls.index(stage1[1]) < published < listed
    assert _option(calls[published], "--name") == outputs["functionAppName"]
    assert not [call for call in calls if call[0] == "curl"]


def test_a_run_with_the_number_subscribes_the_functions_last_and_smoke_tests(tmp_path: Path) -> None:
    result, calls, outputs = run_deploy(tmp_path, {"botPhoneNumber": NUMBER})
    assert result.returncode == 0, result.stderr
    events = _deployments(calls)[-1]
    assert _option(events, "--template-file") == "infra/events.bicep"
    assert f"botPhoneNumber={NUMBER}" in events
    assert f"functionAppName={outputs['functionAppName']}" in events
    listed = next(i for i, call in enumerate(calls) if call[1:4] == ["functionapp", "function", "list"])
    assert listed < calls.index(events)
    checked = [call[-1] for call in calls if call[0] == "curl"]
    assert checked == [
        f"{outputs['functionAppUrl']}/api/health/liveness",
        f"{outputs['functionAppUrl']}/api/health/readiness",
        f"{outputs['mediaUrl']}{outputs['mediaLivenessPath']}",
        f"{outputs['mediaUrl']}{outputs['mediaReadinessPath']}",
    ]
    assert f"Call {NUMBER}" in result.stdout


def test_a_number_that_is_not_e164_stops_with_one_line(tmp_path: Path) -> None:
    result, calls, _outputs = run_deploy(tmp_path, {"botPhoneNumber": "0612345678"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "deploy: botPhoneNumber must be E.164 (+ and 7 to 15 digits), got '0612345678'"
    ]
    assert not [call for call in _deployments(calls) if "infra/events.bicep" in call]


def test_without_the_azure_cli_or_a_parameters_file_one_line_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "no-az").mkdir()
    result, calls, _outputs = run_deploy(tmp_path / "no-az", {"botPhoneNumber": NUMBER}, tools=())
    assert result.returncode == 2 and calls == []
    assert "the Azure CLI (az) is not installed" in result.stderr
    (tmp_path / "no-parameters").mkdir()
    result, calls, _outputs = run_deploy(tmp_path / "no-parameters", None)
    assert result.returncode == 2 and calls == []
    assert "main.parameters.json is missing: copy infra/main.parameters.example.json" in result.stderr


def run_logs(tmp_path: Path, since: str) -> tuple[subprocess.CompletedProcess[str], list[list[str]]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "az"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" az "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    log = tmp_path / "calls.jsonl"
    log.touch()
    environment = {"PATH": f"{bin_dir}:/usr/bin:/bin", "FAKE_AZ_LOG": str(log), "SINCE": since}
    result = subprocess.run(
        ["bash", "scripts/logs.sh", "rg-calls"],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result, [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def test_make_logs_queries_the_workspace_of_the_resource_group_over_the_period_asked(tmp_path: Path) -> None:
    result, calls = run_logs(tmp_path, "30m")
    assert result.returncode == 0, result.stderr
    assert "call answered" in result.stdout
    workspaces, query = calls
    assert _option(workspaces, "--resource-group") == "rg-calls"
    assert _option(query, "--workspace") == "00000000-aaaa-bbbb-cccc-000000000000"
    assert _option(query, "--timespan") == "PT30M"
    assert "ContainerAppConsoleLogs" in (_option(query, "--analytics-query") or "")


def test_make_logs_refuses_a_period_it_cannot_read_with_one_line(tmp_path: Path) -> None:
    result, calls = run_logs(tmp_path, "yesterday")
    assert result.returncode == 2 and calls == []
    assert result.stderr.strip() == "logs: since must look like 30m, 2h or 1d, got 'yesterday'"
