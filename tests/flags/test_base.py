from __future__ import annotations

import logging

import pytest
from pydantic import ValidationError

from shared.flags.base import FeatureFlags, FlagsError, FlagSource
from shared.flags.yaml_source import YamlFlagSource

REFERENCE_DEFAULTS = {
    "answer_hard_timeout_sec": 15,
    "answer_soft_timeout_sec": 4,
    "callback_timeout_hour": 3,
    "phone_silence_timeout_sec": 20,
    "recognition_retry_max": 3,
    "recognition_stt_complete_timeout_ms": 100,
    "recording_enabled": False,
    "slow_llm_for_chat": False,
    "vad_cutoff_timeout_ms": 250,
    "vad_silence_timeout_ms": 500,
    "vad_threshold": 0.5,
}
PROJECT_DEFAULTS = {  # flags the reference product does not have
    "vad_sentence_end_timeout_ms": 300,
    "vad_unfinished_timeout_ms": 1500,
    "vad_end_of_turn_threshold": 0.5,
    "vad_end_of_turn_hold_threshold": 0.05,
    "vad_end_of_turn_short_hold_threshold": 0.15,
    "vad_continuation_window_ms": 1500,
}


def test_defaults_match_the_reference_product() -> None:
    assert FeatureFlags().model_dump() == REFERENCE_DEFAULTS | PROJECT_DEFAULTS
    assert FeatureFlags.from_raw({}) == FeatureFlags()


def test_false_and_zero_are_honoured_not_treated_as_unset() -> None:
    flags = FeatureFlags.from_raw(
        {
            "recording_enabled": "false",
            "slow_llm_for_chat": False,
            "answer_hard_timeout_sec": "0",
            "answer_soft_timeout_sec": 0,
            "recognition_retry_max": 0.0,
            "vad_threshold": "0.0",
            "vad_cutoff_timeout_ms": "0.0",
        }
    )
    assert flags.recording_enabled is False
    assert flags.slow_llm_for_chat is False
    assert flags.answer_hard_timeout_sec == 0
    assert flags.answer_soft_timeout_sec == 0
    assert flags.recognition_retry_max == 0
    assert flags.vad_threshold == 0.0
    assert flags.vad_cutoff_timeout_ms == 0


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("recording_enabled", "true", True),
        ("recording_enabled", " TRUE ", True),
        ("recording_enabled", "False", False),
        ("recording_enabled", "1", True),
        ("recording_enabled", "0", False),
        ("recording_enabled", "on", True),
        ("recording_enabled", "off", False),
        ("recording_enabled", "yes", True),
        ("recording_enabled", "no", False),
        ("recording_enabled", 1, True),
        ("recording_enabled", 0, False),
        ("answer_hard_timeout_sec", "15", 15),
        ("answer_hard_timeout_sec", " 42 ", 42),
        ("answer_hard_timeout_sec", "15.0", 15),
        ("answer_hard_timeout_sec", 7.0, 7),
        ("vad_threshold", "0.25", 0.25),
        ("vad_threshold", "1", 1.0),
        ("vad_threshold", 1, 1.0),
        ("vad_threshold", 0, 0.0),
    ],
)
def test_string_and_scalar_forms(name: str, raw: object, expected: object) -> None:
    value = getattr(FeatureFlags.from_raw({name: raw}), name)
    assert value == expected
    assert type(value) is type(expected)


def test_none_means_unset() -> None:
    assert (
        FeatureFlags.from_raw({"answer_hard_timeout_sec": None, "recording_enabled": None}) == FeatureFlags()
    )


def test_invalid_values_are_all_reported() -> None:
    raw = {
        "answer_hard_timeout_sec": "abc",
        "answer_soft_timeout_sec": "-1",
        "callback_timeout_hour": True,
        "phone_silence_timeout_sec": "1.5",
        "recording_enabled": "maybe",
        "slow_llm_for_chat": 2,
        "vad_threshold": "1.5",
        "vad_silence_timeout_ms": "",
        "vad_cutoff_timeout_ms": [250],
        "recognition_retry_max": 3,  # valid, must not be reported
    }
    with pytest.raises(FlagsError) as caught:
        FeatureFlags.from_raw(raw)
    bad = {name for name in raw if name != "recognition_retry_max"}
    assert {p.name for p in caught.value.problems} == bad
    message = str(caught.value)
    for name in bad:
        assert name in message
        assert repr(raw[name]) in message
    by_name = {p.name: p for p in caught.value.problems}
    assert by_name["recording_enabled"].value == "maybe"
    assert "boolean" in by_name["recording_enabled"].reason
    assert "greater than or equal to 0" in by_name["answer_soft_timeout_sec"].reason
    assert "less than or equal to 1" in by_name["vad_threshold"].reason


@pytest.mark.parametrize("raw", ["nan", "inf", "-inf", float("nan"), float("inf")])
def test_non_finite_numbers_are_rejected(raw: object) -> None:
    with pytest.raises(FlagsError, match="vad_threshold"):
        FeatureFlags.from_raw({"vad_threshold": raw})
    with pytest.raises(FlagsError, match="answer_hard_timeout_sec"):
        FeatureFlags.from_raw({"answer_hard_timeout_sec": raw})


def test_unknown_keys_are_ignored_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="shared.flags.base"):
        flags = FeatureFlags.from_raw({"recording_enabled": "true", "not_a_flag": "x", "other": 1})
    assert flags == FeatureFlags(recording_enabled=True)
    assert "not_a_flag" in caplog.text
    assert "other" in caplog.text


def test_snapshot_is_frozen_and_strict() -> None:
    flags = FeatureFlags()
    with pytest.raises(ValidationError):
        flags.recording_enabled = True  # type: ignore[misc]
    with pytest.raises(ValidationError):
        FeatureFlags(answer_hard_timeout_sec=-1)
    with pytest.raises(ValidationError):
        FeatureFlags(not_a_flag=1)  # type: ignore[call-arg]


def test_sources_satisfy_the_protocol() -> None:
    assert isinstance(YamlFlagSource(None), FlagSource)
