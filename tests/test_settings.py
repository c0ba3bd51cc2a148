from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from shared.blobs.base import NoBlobStore
from shared.composition import build_services
from shared.jobs.base import MemoryJobQueue, NoJobQueue
from shared.settings import (
    CacheBackend,
    FlagsBackend,
    Mode,
    ProcessRole,
    SettingsError,
    StoreBackend,
    load_settings,
)


def test_defaults_are_the_embedded_local_adapters() -> None:
    settings = load_settings()
    assert settings.mode is Mode.LOCAL
    assert settings.store_backend is StoreBackend.SQLITE
    assert settings.cache_backend is CacheBackend.MEMORY
    assert settings.flags_backend is FlagsBackend.YAML
    assert not settings.llm.fast.configured


def test_environment_variables_nest_with_double_underscore(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM__FAST__ENDPOINT", "https://example.openai.azure.com")
    monkeypatch.setenv("LLM__FAST__API_KEY", "secret-value")
    monkeypatch.setenv("STORE__SQLITE__BUSY_TIMEOUT_MS", "2500")
    settings = load_settings()
    assert settings.llm.fast.endpoint == "https://example.openai.azure.com"
    assert settings.llm.fast.api_key is not None
    assert settings.llm.fast.api_key.get_secret_value() == "secret-value"
    assert "secret-value" not in settings.model_dump_json()
    assert settings.store.sqlite.busy_timeout_ms == 2500


def test_local_settings_json_values_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "local.settings.json"
    path.write_text(
        json.dumps(
            {
                "IsEncrypted": False,
                "Values": {
                    "FUNCTIONS_WORKER_RUNTIME": "python",
                    "CACHE__BACKEND": "redis",
                    "CACHE__REDIS__URL": "redis://127.0.0.1:6390/0",
                },
            }
        )
    )
    monkeypatch.setenv("LOCAL_SETTINGS_PATH", str(path))
    settings = load_settings()
    assert settings.cache_backend is CacheBackend.REDIS
    assert settings.cache.redis.url is not None
    assert settings.cache.redis.url.get_secret_value() == "redis://127.0.0.1:6390/0"


def test_environment_wins_over_local_settings_json_which_wins_over_config_yaml(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "config.yaml").write_text(
        "conversation:\n  timezone: America/New_York\n  default_region: US\n"
        "llm:\n  fast:\n    model: from-yaml\n"
    )
    path = tmp_path / "local.settings.json"
    path.write_text(
        json.dumps({"Values": {"CONVERSATION__DEFAULT_REGION": "BE", "LLM__FAST__MODEL": "from-json"}})
    )
    monkeypatch.setenv("LOCAL_SETTINGS_PATH", str(path))
    monkeypatch.setenv("LLM__FAST__MODEL", "from-env")
    settings = load_settings()
    assert settings.llm.fast.model == "from-env"
    assert settings.conversation.default_region == "BE"
    assert settings.conversation.timezone == "America/New_York"


def test_empty_values_fall_back_to_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM__FAST__BASE_URL", "")
    assert load_settings().llm.fast.base_url is None


def test_azure_mode_lists_every_missing_setting_with_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODE", "azure")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    for variable in (
        "STORE__COSMOS__ENDPOINT",
        "CACHE__REDIS__URL",
        "FLAGS__APPCONFIG__ENDPOINT",
        "API__KEY",
        "ACS__ENDPOINT",
        "ACS__CALLBACK_JWT__AUDIENCE",
        "JOBS__CONNECTION_STRING",
        "REPORT__SIGNING_KEY",
        "BLOBS__CONNECTION_STRING",
        "API__PUBLIC_URL",  # http://127.0.0.1: ACS only calls back over https
        "MEDIA__PUBLIC_URL",  # ws://127.0.0.1: ACS only streams over wss
    ):
        assert variable in message
    assert len(caught.value.problems) == 11


def test_invalid_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORE__SQLITE__BUSY_TIMEOUT_MS", "soon")
    monkeypatch.setenv("MODE", "cloudy")
    monkeypatch.setenv("CONVERSATION__DEFAULT_REGION", "france")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "STORE__SQLITE__BUSY_TIMEOUT_MS" in message and "'soon'" in message
    assert "MODE" in message and "CONVERSATION__DEFAULT_REGION" in message
    assert len(caught.value.problems) == 3


def test_broken_local_settings_json_is_a_settings_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "local.settings.json"
    path.write_text("{ not json")
    monkeypatch.setenv("LOCAL_SETTINGS_PATH", str(path))
    with pytest.raises(SettingsError, match=r"local\.settings\.json"):
        load_settings()


def test_example_local_settings_file_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    example = Path(__file__).resolve().parents[1] / "local.settings.example.json"
    monkeypatch.setenv("LOCAL_SETTINGS_PATH", str(example))
    settings = load_settings()
    assert settings.mode is Mode.LOCAL
    assert settings.api.key is not None


def test_per_port_backend_overrides_the_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CACHE__BACKEND", "redis")
    with pytest.raises(SettingsError, match="CACHE__REDIS__URL"):
        load_settings()


AZURE_BACKENDS = {
    "MODE": "azure",
    "STORE__COSMOS__ENDPOINT": "https://db.documents.azure.com",
    "CACHE__REDIS__URL": "rediss://cache:6380",
    "FLAGS__APPCONFIG__ENDPOINT": "https://flags.azconfig.io",
    "ACS__ENDPOINT": "https://acs.communication.azure.com",
    "ACS__CALLBACK_JWT__AUDIENCE": "immutable-id",
}
FUNCTION_APP_ONLY = {
    "API__KEY": "key",
    "REPORT__SIGNING_KEY": "signing",
    "API__PUBLIC_URL": "https://app.azurewebsites.net",
    "MEDIA__PUBLIC_URL": "wss://media.azurecontainerapps.io",
    "JOBS__ACCOUNT_URL": "https://acct.queue.core.windows.net",
    "BLOBS__ACCOUNT_URL": "https://acct.blob.core.windows.net",
}


def _env(monkeypatch: pytest.MonkeyPatch, values: dict[str, str]) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def test_the_media_host_needs_no_function_app_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Per process role: the media host never signs report links, enqueues jobs or keeps blobs."""
    _env(monkeypatch, AZURE_BACKENDS)
    media = load_settings(process_role="media")
    assert media.process_role is ProcessRole.MEDIA and not media.runs(ProcessRole.FUNCTIONS)
    with pytest.raises(SettingsError) as caught:
        load_settings(process_role="functions")
    assert {problem.split(":")[0].split(" ")[0] for problem in caught.value.problems} == {
        "API__KEY",
        "REPORT__SIGNING_KEY",
        "API__PUBLIC_URL",
        "MEDIA__PUBLIC_URL",
        "JOBS__CONNECTION_STRING",
        "BLOBS__CONNECTION_STRING",
    }
    _env(monkeypatch, FUNCTION_APP_ONLY)
    functions = load_settings(process_role="functions")
    assert functions.jobs.account_url == "https://acct.queue.core.windows.net"


def test_the_media_hosts_services_hold_no_job_queue_nor_blob_store(monkeypatch: pytest.MonkeyPatch) -> None:
    _env(monkeypatch, {"ACS__ENDPOINT": "http://127.0.0.1:1"})
    media = build_services(load_settings(process_role="media"))
    assert isinstance(media.jobs, NoJobQueue) and isinstance(media.blobs, NoBlobStore)
    whole = build_services(load_settings())
    assert isinstance(whole.jobs, MemoryJobQueue) and not isinstance(whole.blobs, NoBlobStore)


@pytest.mark.parametrize("marker", ["WEBSITE_INSTANCE_ID", "CONTAINER_APP_NAME"])
def test_local_mode_on_azure_fails_fast_with_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, marker: str
) -> None:
    monkeypatch.delenv("MODE", raising=False)
    monkeypatch.setenv(marker, "some-instance")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    (problem,) = caught.value.problems
    assert problem.startswith("MODE: set MODE=azure") and marker in problem


def test_azure_mode_refuses_plain_http_public_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    _env(monkeypatch, {**AZURE_BACKENDS, **FUNCTION_APP_ONLY, "API__PUBLIC_URL": "http://app.example"})
    with pytest.raises(SettingsError, match="API__PUBLIC_URL: must be the function app's https:// URL"):
        load_settings(process_role="functions")
    _env(monkeypatch, {"API__PUBLIC_URL": "https://app.example", "MEDIA__PUBLIC_URL": "ws://media.example"})
    with pytest.raises(SettingsError, match="MEDIA__PUBLIC_URL: must be the media host's wss:// URL"):
        load_settings(process_role="functions")


def test_the_azure_settings_example_passes_each_role(monkeypatch: pytest.MonkeyPatch) -> None:
    """azure.settings.example.json lists every setting azure mode requires, per process."""
    example = json.loads((Path(__file__).parents[1] / "azure.settings.example.json").read_text())
    for role in ("functions", "media"):
        with monkeypatch.context() as scoped:
            for name in list(os.environ):
                if "__" in name or name == "MODE":
                    scoped.delenv(name)
            _env(scoped, {k: str(v) for k, v in example[role].items() if not k.startswith("//")})
            settings = load_settings(process_role=role)
            assert settings.mode is Mode.AZURE
