"""The acoustic end-of-turn model: smart-turn v3 (an ONNX classifier on a Whisper-tiny encoder,
BSD-2-Clause, ~8.7 MB), run with onnxruntime on Whisper log-mel features of the caller's last 8 s.

The model file is a setting (`SPEECH__TURN_END_MODEL`). By default it is the one that ships inside
the `pipecat-ai` wheel (installed without its dependencies: nothing of that package is imported, the
file is located through the installed distribution's metadata), so no weights are ever downloaded.
The features come from faster-whisper's extractor (already a dependency) on the audio normalised to
zero mean and unit variance, as the model was trained: 80 mel bins x 800 frames for 8 s at 16 kHz.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from shared.speech.base import SAMPLE_RATE, SpeechError

__all__ = ["BUNDLED", "SmartTurnModel", "bundled_model_path"]

BUNDLED = "bundled"
WINDOW_SEC = 8
_PACKAGE = "pipecat-ai"
_PACKAGE_FILE = "pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx"
_NORMALISE_EPS = 1e-7


def bundled_model_path() -> Path:
    """smart-turn v3.2 (CPU, int8) as installed with the `pipecat-ai` wheel."""
    try:
        distribution = importlib.metadata.distribution(_PACKAGE)
    except importlib.metadata.PackageNotFoundError as exc:
        raise SpeechError(
            f"the end-of-turn model ships in {_PACKAGE}: "
            "pip install --no-deps -r requirements-media-nodeps.txt"
        ) from exc
    path = Path(str(distribution.locate_file(_PACKAGE_FILE)))
    if not path.is_file():
        raise SpeechError(
            f"{path} is missing: reinstall {_PACKAGE} (pip install --no-deps --force-reinstall)"
        )
    return path


class SmartTurnModel:
    """A `TurnEndModel`: one ONNX session for the process, one inference thread (calls queue)."""

    def __init__(self, path: Path | str = BUNDLED, *, threads: int = 1) -> None:
        import onnxruntime  # type: ignore[import-untyped]  # noqa: PLC0415 (media host only)
        from faster_whisper.feature_extractor import FeatureExtractor  # type: ignore[import-untyped]  # noqa: PLC0415

        self.path = bundled_model_path() if str(path) == BUNDLED else Path(path)
        if not self.path.is_file():
            raise SpeechError(f"end-of-turn model {self.path} not found")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            self._session = onnxruntime.InferenceSession(
                str(self.path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own error types for a bad file
            raise SpeechError(f"cannot load the end-of-turn model {self.path}: {exc}") from exc
        self._input = self._session.get_inputs()[0].name
        self._features = FeatureExtractor(feature_size=80, sampling_rate=SAMPLE_RATE, chunk_length=WINDOW_SEC)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="turn-end")

    def features(self, pcm: bytes) -> np.ndarray[Any, np.dtype[np.float32]]:
        """The model's input for 16 kHz PCM16: the last 8 s (zeros before a shorter clip), normalised,
        as an (80, 800) log-mel array."""
        samples = np.frombuffer(pcm[len(pcm) % 2 :], dtype=np.int16).astype(np.float32) / 32768.0
        size = WINDOW_SEC * SAMPLE_RATE
        samples = np.pad(samples[-size:], (max(0, size - len(samples)), 0))
        samples = (samples - samples.mean()) / np.sqrt(samples.var() + _NORMALISE_EPS)
        features: np.ndarray[Any, np.dtype[np.float32]] = self._features(samples, padding=0).astype(
            np.float32
        )
        return features

    def predict(self, pcm: bytes) -> float:
        """Probability that the audio ends a finished turn (blocking: ~20-60 ms on one core)."""
        outputs = self._session.run(None, {self._input: self.features(pcm)[np.newaxis]})
        return float(np.asarray(outputs[0]).reshape(-1)[0])

    async def probability(self, pcm: bytes) -> float:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self.predict, pcm)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
