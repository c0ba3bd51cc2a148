"""The Functions host stand-in reads bindings and resolves their connections the way the real host does,
so a binding the host would leave "in error" fails here too."""

from __future__ import annotations

import fnmatch
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import azure.durable_functions as df
import azure.functions as func
import pytest

from local.functions_host import FunctionsHost
from local.host_settings import HostIndexingError, HostSettings, resolve_storage_connection
from local.queue_trigger import QueueOptions

HOST_WORDING = (
    "Storage account connection string '{}' does not exist. Make sure that it is a defined App Setting."
)


@pytest.fixture(scope="module")
def production_bindings() -> dict[str, list[dict[str, Any]]]:
    import function_app
    from local.functions_host import _all_bindings

    return _all_bindings(function_app.app)


def test_no_binding_of_any_registered_function_names_a_nested_setting(
    production_bindings: dict[str, list[dict[str, Any]]],
) -> None:
    """The host reads `__` in an app setting name as a section (`:`): a binding connection holding either
    is never found as a flat setting, and the function is in error on Azure."""
    connections = {
        (name, str(b["connection"]))
        for name, bs in production_bindings.items()
        for b in bs
        if b.get("connection")
    }
    assert connections, "the post-call queue trigger declares a connection"
    for name, connection in connections:
        assert "__" not in connection and ":" not in connection, f"{name}: connection {connection!r}"


def _app_with_queue_trigger(connection: str) -> Any:
    app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.function_name("starter")  # type: ignore[untyped-decorator]
    @app.queue_trigger(arg_name="message", queue_name="post-call", connection=connection)  # type: ignore[untyped-decorator]
    @app.durable_client_input(client_name="client")  # type: ignore[untyped-decorator]
    async def starter(message: func.QueueMessage, client: df.DurableOrchestrationClient) -> None:
        return None

    return app


def test_the_stand_in_refuses_a_double_underscore_connection_in_the_hosts_words() -> None:
    """The binding shipped before (`JOBS__CONNECTION_STRING`) is refused even with that variable set:
    the host looks for the section `JOBS__CONNECTION_STRING`, the variable is `JOBS:CONNECTION_STRING`."""
    settings = HostSettings.of({"JOBS__CONNECTION_STRING": "UseDevelopmentStorage=true"})
    host = FunctionsHost(_app_with_queue_trigger("JOBS__CONNECTION_STRING"), settings)
    for in_process in (False, True):
        with pytest.raises(HostIndexingError) as refused:
            host.check(in_process_queues=in_process)
        message = str(refused.value)
        assert message.startswith("The following 1 functions are in error:\nstarter: ")
        assert "Error indexing method 'Functions.starter'" in message
        assert HOST_WORDING.format("JOBS__CONNECTION_STRING") in message


def test_a_flat_connection_resolves_from_a_connection_string_or_identity_settings() -> None:
    host = FunctionsHost(_app_with_queue_trigger("JobsStorage"), HostSettings.of({}))
    with pytest.raises(HostIndexingError, match=re.escape(HOST_WORDING.format("JobsStorage"))):
        host.check()
    host.check(in_process_queues=True)  # the embedded default feeds the trigger in process

    keyed = resolve_storage_connection(
        "JobsStorage", HostSettings.of({"jobsstorage": "UseDevelopmentStorage=true"})
    )
    assert keyed.connection_string == "UseDevelopmentStorage=true"
    identity = resolve_storage_connection(
        "JobsStorage",
        HostSettings.of(
            {
                "JobsStorage__queueServiceUri": "https://acct.queue.core.windows.net",
                "JobsStorage__credential": "managedidentity",
                "JobsStorage__clientId": "1111",
            }
        ),
    )
    assert (identity.connection_string, identity.service_uri) == (None, "https://acct.queue.core.windows.net")
    assert (identity.credential, identity.client_id) == ("managedidentity", "1111")
    by_account = resolve_storage_connection(
        "JobsStorage", HostSettings.of({"JobsStorage__accountName": "acct"})
    )
    assert by_account.service_uri == "https://acct.queue.core.windows.net"
    prefixed = resolve_storage_connection("JobsStorage", HostSettings.of({"AzureWebJobsJobsStorage": "x=1"}))
    assert (prefixed.setting, prefixed.connection_string) == ("AzureWebJobsJobsStorage", "x=1")
    default = resolve_storage_connection(None, HostSettings.of({"AzureWebJobsStorage": "y=2"}))
    assert default.connection_string == "y=2"


def test_the_production_app_starts_once_its_connection_is_set() -> None:
    import function_app

    FunctionsHost(function_app.app, HostSettings.of({"JobsStorage": "UseDevelopmentStorage=true"})).check()
    with pytest.raises(HostIndexingError, match="post_call_starter"):
        FunctionsHost(function_app.app, HostSettings.of({"JOBS__CONNECTION_STRING": "x"})).check()


def test_local_settings_values_and_the_environment_feed_the_host(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "local.settings.json"
    path.write_text('{"IsEncrypted": false, "Values": {"JobsStorage": "from-file", "Other": "kept"}}')
    monkeypatch.setenv("JobsStorage", "from-env")
    settings = HostSettings.from_environment(path)
    assert settings.value("JobsStorage") == "from-env"  # the environment wins, as exported settings do
    assert settings.value("other") == "kept"


def test_queue_options_follow_host_json(tmp_path: Any) -> None:
    path = tmp_path / "host.json"
    path.write_text(
        '{"extensions": {"queues": {"maxPollingInterval": "00:00:02", "maxDequeueCount": 3,'
        ' "visibilityTimeout": "00:01:30"}}}'
    )
    options = QueueOptions.from_host_json(path)
    assert (options.max_polling_interval_sec, options.max_dequeue_count) == (2.0, 3)
    assert options.visibility_timeout_sec == 90.0
    assert QueueOptions.from_host_json(tmp_path / "missing.json") == QueueOptions()


def test_the_example_local_settings_resolve_every_binding_for_func_start() -> None:
    """`func start` reads local.settings.json: the example must give every binding its connection."""
    import function_app

    example = Path(__file__).resolve().parents[2] / "local.settings.example.json"
    settings = HostSettings.of(json.loads(example.read_text())["Values"])
    FunctionsHost(function_app.app, settings).check()
    assert settings.value("DURABLE_TASK_HUB"), "host.json names the task hub %DURABLE_TASK_HUB%"
    host_json = json.loads((example.parent / "host.json").read_text())
    assert host_json["extensions"]["durableTask"]["hubName"] == "%DURABLE_TASK_HUB%"


def test_the_function_package_is_the_apps_code_only() -> None:
    """.funcignore leaves out the venv, the tools, the tests and everything the function app never
    imports, and keeps every project module the function app imports (checked in a fresh interpreter)."""
    root = Path(__file__).resolve().parents[2]
    patterns = [
        line.strip().rstrip("/")
        for line in (root / ".funcignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def ignored(path: str) -> bool:
        top = path.split("/", maxsplit=1)[0]
        return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(top, p) for p in patterns)

    for heavy in (".venv", ".tools", "tests", "local", "media_host", "bench", "infra", "docs", ".git"):
        assert ignored(heavy), heavy
    probe = (
        "import sys, pathlib, function_app\n"
        "root = pathlib.Path.cwd().resolve()\n"
        "for m in list(sys.modules.values()):\n"
        "    f = getattr(m, '__file__', None)\n"
        "    if f and pathlib.Path(f).resolve().is_relative_to(root) and '.venv' not in f:\n"
        "        print(pathlib.Path(f).resolve().relative_to(root).as_posix())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, timeout=120, check=True
    )
    files = done.stdout.split()
    assert "function_app.py" in files and any(f.startswith("shared/") for f in files)
    assert [f for f in files if ignored(f)] == []
    for needed in ("host.json", "requirements.txt"):
        assert not ignored(needed), needed
