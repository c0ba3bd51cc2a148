from __future__ import annotations

import logging
import os
import threading
from typing import Any

import pytest
from azure.appconfiguration.provider import load

from shared.flags.appconfig import AppConfigFlagSource
from shared.flags.base import FeatureFlags, FlagsError, FlagSource
from tests.flags._fakes import FakeClock, FakeLoader, FakeProvider, feature_flags

ENDPOINT = "https://example.azconfig.io"


class StaticCredential:
    """Any object: the fake loader never uses it."""


def make_source(
    data: dict[str, Any], clock: FakeClock | None = None, **kwargs: Any
) -> tuple[AppConfigFlagSource, FakeProvider, FakeLoader]:
    provider = FakeProvider(data)
    loader = FakeLoader(provider)
    options: dict[str, Any] = {"endpoint": ENDPOINT, "credential": StaticCredential(), "ttl_sec": 30}
    options.update(kwargs)
    source = AppConfigFlagSource(clock=clock or FakeClock(), loader=loader, **options)
    return source, provider, loader


async def test_empty_store_gives_defaults() -> None:
    source, _, _ = make_source({})
    assert isinstance(source, FlagSource)
    assert await source.get() == FeatureFlags()


async def test_key_values_false_and_zero_are_honoured() -> None:
    source, _, _ = make_source(
        {
            "recording_enabled": "false",
            "answer_hard_timeout_sec": "0",
            "phone_silence_timeout_sec": "0.0",
            "vad_threshold": "0.0",
            # JSON content type: the provider hands over decoded values
            "slow_llm_for_chat": False,
            "recognition_retry_max": 0,
        }
    )
    flags = await source.get()
    assert flags.recording_enabled is False
    assert flags.slow_llm_for_chat is False
    assert flags.answer_hard_timeout_sec == 0
    assert flags.phone_silence_timeout_sec == 0
    assert flags.recognition_retry_max == 0
    assert flags.vad_threshold == 0.0


async def test_string_values_are_parsed() -> None:
    source, _, _ = make_source(
        {"recording_enabled": "true", "answer_soft_timeout_sec": "7", "vad_threshold": "0.8", "unknown": "x"}
    )
    assert await source.get() == FeatureFlags(
        recording_enabled=True, answer_soft_timeout_sec=7, vad_threshold=0.8
    )


async def test_untrimmed_prefixed_keys_are_understood() -> None:
    source, _, _ = make_source({"flags:callback_timeout_hour": "0"})
    assert (await source.get()).callback_timeout_hour == 0


async def test_feature_flags_drive_the_booleans() -> None:
    source, _, _ = make_source(
        {
            "recording_enabled": "true",  # overridden by the feature flag below
            "feature_management": feature_flags(
                recording_enabled=False, slow_llm_for_chat=True, answer_hard_timeout_sec=True
            ),
        }
    )
    flags = await source.get()
    assert flags.recording_enabled is False
    assert flags.slow_llm_for_chat is True
    assert flags.answer_hard_timeout_sec == 15  # feature flags only apply to boolean flags


async def test_feature_flags_can_be_turned_off() -> None:
    source, _, _ = make_source(
        {"recording_enabled": "true", "feature_management": feature_flags(recording_enabled=False)},
        use_feature_flags=False,
    )
    assert (await source.get()).recording_enabled is True


async def test_refresh_only_after_the_ttl_and_off_the_event_loop() -> None:
    clock = FakeClock()
    source, provider, loader = make_source({"answer_hard_timeout_sec": "15"}, clock, ttl_sec=30)
    assert (await source.get()).answer_hard_timeout_sec == 15
    assert loader.threads[0] != threading.get_ident()

    provider.pending = {
        "answer_hard_timeout_sec": "0",
        "feature_management": feature_flags(recording_enabled=True),
    }
    clock.advance(29)
    for _ in range(5):
        assert (await source.get()).answer_hard_timeout_sec == 15
    assert provider.refresh_calls == 0

    clock.advance(1)
    flags = await source.get()
    assert flags.answer_hard_timeout_sec == 0
    assert flags.recording_enabled is True
    assert provider.refresh_calls == 1
    assert provider.refresh_threads[0] != threading.get_ident()

    await source.get()
    assert provider.refresh_calls == 1
    clock.advance(30)
    await source.get()
    assert provider.refresh_calls == 2
    assert len(loader.calls) == 1


async def test_failed_refresh_keeps_the_last_snapshot(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    source, provider, _ = make_source({"recording_enabled": "true"}, clock, ttl_sec=10)
    good = await source.get()

    provider.fail_with = RuntimeError("service unavailable")
    clock.advance(10)
    with caplog.at_level(logging.ERROR, logger="shared.flags.appconfig"):
        assert await source.get() == good
    assert "service unavailable" in caplog.text

    provider.fail_with = None
    provider.pending = {"recording_enabled": "maybe", "vad_threshold": "7"}
    clock.advance(10)
    assert await source.get() == good

    provider.pending = {"recording_enabled": "false"}
    clock.advance(10)
    assert (await source.get()).recording_enabled is False


async def test_invalid_values_at_first_load_raise() -> None:
    source, _, _ = make_source({"recording_enabled": "maybe", "vad_threshold": "7"})
    with pytest.raises(FlagsError) as caught:
        await source.get()
    assert {p.name for p in caught.value.problems} == {"recording_enabled", "vad_threshold"}


async def test_connection_failure_at_first_load_raises_flags_error() -> None:
    loader = FakeLoader(error=TimeoutError("The provider timed out while attempting to load."))
    source = AppConfigFlagSource(connection_string="Endpoint=https://x;Id=a;Secret=b", loader=loader)
    with pytest.raises(FlagsError, match="timed out"):
        await source.get()


async def test_loader_options_follow_the_documented_layout() -> None:
    source, _, loader = make_source({}, label="prod", ttl_sec=45)
    await source.get()
    (call,) = loader.calls
    assert call["endpoint"] == ENDPOINT
    assert isinstance(call["credential"], StaticCredential)
    assert "connection_string" not in call
    assert [(s.key_filter, s.label_filter) for s in call["selects"]] == [
        ("flags:*", "\0"),
        ("flags:*", "prod"),
    ]
    assert call["trim_prefixes"] == ["flags:"]
    assert call["refresh_enabled"] is True
    assert call["refresh_interval"] == 45
    assert call["feature_flag_enabled"] is True
    assert call["feature_flag_refresh_enabled"] is True
    assert [(s.key_filter, s.label_filter) for s in call["feature_flag_selectors"]] == [
        ("recording_enabled", "\0"),
        ("slow_llm_for_chat", "\0"),
        ("recording_enabled", "prod"),
        ("slow_llm_for_chat", "prod"),
    ]


async def test_connection_string_and_close() -> None:
    provider = FakeProvider({})
    loader = FakeLoader(provider)
    source = AppConfigFlagSource(
        connection_string="Endpoint=https://x;Id=a;Secret=b", loader=loader, ttl_sec=0.2
    )
    await source.get()
    (call,) = loader.calls
    assert call["connection_string"].startswith("Endpoint=")
    assert "endpoint" not in call
    assert "credential" not in call
    assert [(s.key_filter, s.label_filter) for s in call["selects"]] == [("flags:*", "\0")]
    assert call["refresh_interval"] == 1  # the provider's minimum
    await source.close()
    assert provider.closed


def test_constructor_validation() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        AppConfigFlagSource()
    with pytest.raises(ValueError, match="exactly one"):
        AppConfigFlagSource(endpoint=ENDPOINT, connection_string="Endpoint=x")
    with pytest.raises(ValueError, match="credential"):
        AppConfigFlagSource(connection_string="Endpoint=x", credential=StaticCredential())  # type: ignore[arg-type]


def test_default_loader_is_the_provider_load() -> None:
    source = AppConfigFlagSource(endpoint=ENDPOINT)
    assert source._loader is load


@pytest.mark.appconfig
@pytest.mark.skipif(not os.environ.get("APPCONFIG_ENDPOINT"), reason="APPCONFIG_ENDPOINT is not set")
async def test_real_app_configuration() -> None:
    source = AppConfigFlagSource(
        endpoint=os.environ["APPCONFIG_ENDPOINT"], label=os.environ.get("APPCONFIG_LABEL")
    )
    try:
        flags = await source.get()
        assert isinstance(flags, FeatureFlags)
        assert await source.get() == flags
    finally:
        await source.close()
