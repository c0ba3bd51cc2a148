from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import pytest
import yaml

from shared.flags import yaml_source
from shared.flags.base import FeatureFlags, FlagsError
from shared.flags.yaml_source import YamlFlagSource
from tests.flags._fakes import FakeClock

REPO_ROOT = Path(__file__).resolve().parents[2]
_MTIME_NS = iter(range(1_700_000_000_000_000_000, 1_800_000_000_000_000_000, 1_000_000_000))


def write(path: Path, text: str) -> None:
    """Write and force a new mtime: coarse filesystem timestamps must not hide a change."""
    path.write_text(text, encoding="utf-8")
    stamp = next(_MTIME_NS)
    os.utime(path, ns=(stamp, stamp))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def test_no_path_gives_defaults() -> None:
    assert await YamlFlagSource(None).get() == FeatureFlags()


async def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    assert await YamlFlagSource(tmp_path / "absent.yaml").get() == FeatureFlags()


async def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    path = tmp_path / "flags.yaml"
    write(path, "# nothing set\n")
    assert await YamlFlagSource(path).get() == FeatureFlags()


async def test_yaml_false_zero_and_zero_float_are_honoured(tmp_path: Path) -> None:
    path = tmp_path / "flags.yaml"
    write(
        path,
        "recording_enabled: false\n"
        "slow_llm_for_chat: false\n"
        "answer_hard_timeout_sec: 0\n"
        "recognition_retry_max: 0\n"
        "vad_threshold: 0.0\n"
        "vad_silence_timeout_ms: 0.0\n",
    )
    # The numeric defaults are non-zero, so a 0 here can only come from the file; for the
    # booleans (default false) see test_explicit_false_overrides_a_previous_true.
    flags = await YamlFlagSource(path).get()
    assert flags.recording_enabled is False
    assert flags.slow_llm_for_chat is False
    assert flags.answer_hard_timeout_sec == 0
    assert flags.recognition_retry_max == 0
    assert flags.vad_threshold == 0.0
    assert flags.vad_silence_timeout_ms == 0


async def test_explicit_false_overrides_a_previous_true(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "flags.yaml"
    write(path, "recording_enabled: true\nanswer_soft_timeout_sec: 9\n")
    source = YamlFlagSource(path, ttl_sec=10, clock=clock)
    assert (await source.get()).recording_enabled is True
    write(path, "recording_enabled: false\nanswer_soft_timeout_sec: 0\n")
    clock.advance(10)
    flags = await source.get()
    assert flags.recording_enabled is False
    assert flags.answer_soft_timeout_sec == 0


async def test_quoted_string_forms(tmp_path: Path) -> None:
    path = tmp_path / "flags.yaml"
    write(
        path,
        'recording_enabled: "true"\n'
        'slow_llm_for_chat: "false"\n'
        'answer_hard_timeout_sec: "15"\n'
        'callback_timeout_hour: "0"\n'
        'vad_threshold: "0.0"\n',
    )
    flags = await YamlFlagSource(path).get()
    assert flags.recording_enabled is True
    assert flags.slow_llm_for_chat is False
    assert flags.answer_hard_timeout_sec == 15
    assert flags.callback_timeout_hour == 0
    assert flags.vad_threshold == 0.0


async def test_invalid_values_name_each_bad_flag(tmp_path: Path) -> None:
    path = tmp_path / "flags.yaml"
    write(path, "answer_hard_timeout_sec: soon\nrecording_enabled: perhaps\nvad_threshold: 3\n")
    with pytest.raises(FlagsError) as caught:
        await YamlFlagSource(path).get()
    assert {p.name for p in caught.value.problems} == {
        "answer_hard_timeout_sec",
        "recording_enabled",
        "vad_threshold",
    }
    for text in ("answer_hard_timeout_sec", "'soon'", "recording_enabled", "'perhaps'", "vad_threshold"):
        assert text in str(caught.value)


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string\n", "key: [unclosed\n"])
async def test_not_a_mapping_or_bad_yaml_fails_the_first_load(tmp_path: Path, text: str) -> None:
    path = tmp_path / "flags.yaml"
    write(path, text)
    with pytest.raises(FlagsError, match=str(path)):
        await YamlFlagSource(path).get()


async def test_unknown_keys_are_ignored(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "flags.yaml"
    write(path, "recording_enabled: true\nmystery_flag: 12\n")
    with caplog.at_level(logging.WARNING):
        flags = await YamlFlagSource(path).get()
    assert flags == FeatureFlags(recording_enabled=True)
    assert "mystery_flag" in caplog.text


async def test_refresh_happens_only_after_the_ttl(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "flags.yaml"
    write(path, "answer_hard_timeout_sec: 15\n")
    source = YamlFlagSource(path, ttl_sec=60, clock=clock)
    assert (await source.get()).answer_hard_timeout_sec == 15

    write(path, "answer_hard_timeout_sec: 30\n")
    clock.advance(59.9)
    assert (await source.get()).answer_hard_timeout_sec == 15  # still cached

    clock.advance(0.1)
    assert (await source.get()).answer_hard_timeout_sec == 30

    write(path, "answer_hard_timeout_sec: 45\n")
    clock.advance(30)
    assert (await source.get()).answer_hard_timeout_sec == 30  # TTL restarts at the last check
    clock.advance(30)
    assert (await source.get()).answer_hard_timeout_sec == 45


async def test_unchanged_file_is_not_reparsed(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "flags.yaml"
    write(path, "recording_enabled: true\n")
    parses: list[str] = []
    real_parse = yaml_source.parse_yaml

    def counting_parse(text: str, *, source: str = "<string>") -> FeatureFlags:
        parses.append(text)
        return real_parse(text, source=source)

    monkeypatch.setattr(yaml_source, "parse_yaml", counting_parse)
    source = YamlFlagSource(path, ttl_sec=5, clock=clock)
    for _ in range(4):
        assert (await source.get()).recording_enabled is True
        clock.advance(5)
    assert len(parses) == 1

    write(path, "recording_enabled: false\n")
    assert (await source.get()).recording_enabled is False
    assert len(parses) == 2


async def test_broken_file_at_refresh_keeps_the_last_snapshot(
    tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "flags.yaml"
    write(path, "recording_enabled: true\nanswer_hard_timeout_sec: 20\n")
    source = YamlFlagSource(path, ttl_sec=1, clock=clock)
    good = await source.get()

    write(path, "recording_enabled: [oops\n")
    clock.advance(1)
    with caplog.at_level(logging.ERROR, logger="shared.flags.yaml_source"):
        assert await source.get() == good
    assert any(r.levelno == logging.ERROR for r in caplog.records)

    write(path, "answer_hard_timeout_sec: -3\n")  # parses, but invalid
    clock.advance(1)
    assert await source.get() == good

    write(path, "recording_enabled: false\n")
    clock.advance(1)
    assert await source.get() == FeatureFlags(recording_enabled=False)


async def test_file_removed_later_falls_back_to_defaults(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "flags.yaml"
    write(path, "recording_enabled: true\n")
    source = YamlFlagSource(path, ttl_sec=1, clock=clock)
    assert (await source.get()).recording_enabled is True
    path.unlink()
    clock.advance(1)
    assert await source.get() == FeatureFlags()
    write(path, "slow_llm_for_chat: true\n")
    clock.advance(1)
    assert await source.get() == FeatureFlags(slow_llm_for_chat=True)


async def test_concurrent_gets_read_the_file_once(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "flags.yaml"
    write(path, "vad_threshold: 0.75\n")
    reads: list[Path] = []
    real_read = yaml_source._read

    def counting_read(p: Path, previous: object) -> object:
        reads.append(p)
        return real_read(p, previous)  # type: ignore[arg-type]

    monkeypatch.setattr(yaml_source, "_read", counting_read)
    source = YamlFlagSource(path, clock=clock)
    results = await asyncio.gather(*(source.get() for _ in range(10)))
    assert {r.vad_threshold for r in results} == {0.75}
    assert len(reads) == 1
    await source.close()


async def test_example_file_lists_every_flag_with_its_default() -> None:
    example = REPO_ROOT / "flags.example.yaml"
    document = yaml.safe_load(example.read_text(encoding="utf-8"))
    assert set(document) == set(FeatureFlags.model_fields)
    assert await YamlFlagSource(example).get() == FeatureFlags()
    for line in example.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            assert "#" in line, f"flag without a comment: {line}"


def test_negative_ttl_is_rejected() -> None:
    with pytest.raises(ValueError, match="ttl_sec"):
        YamlFlagSource(None, ttl_sec=-1)
