"""The smart-turn end-of-turn model, loaded from the installed pipecat-ai wheel (no download), on
caller audio made by piper: a finished sentence against a clause cut after "and"."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from media_host.end_of_turn import TurnEnd, TurnEndPolicy
from shared.speech.base import SpeechError
from shared.speech.models import piper_voice_path
from shared.speech.piper_tts import PiperTts
from shared.speech.smart_turn import SmartTurnModel, bundled_model_path
from tests.media.support import wait_for
from tests.speech.conftest import collect

PAUSE = bytes(2 * 1600)  # the 100 ms of silence the media host has heard when it asks the model


@pytest.fixture(scope="module")
def model() -> Iterator[SmartTurnModel]:
    engine = SmartTurnModel()
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def caller() -> PiperTts:
    return PiperTts({"en": piper_voice_path()}, steady=True)


def say(caller: PiperTts, text: str) -> bytes:
    pcm, _first = asyncio.run(collect(caller.synthesize(text, lang="en-US")))
    return pcm + PAUSE


def test_the_bundled_model_is_the_file_installed_with_the_package() -> None:
    path = bundled_model_path()
    assert path.name == "smart-turn-v3.2-cpu.onnx"
    assert "site-packages" in path.parts and path.stat().st_size > 5_000_000


def test_the_input_is_eight_seconds_of_log_mel(model: SmartTurnModel) -> None:
    assert model.features(bytes(2 * 16_000)).shape == (80, 800)  # 1 s, padded before
    assert model.features(bytes(2 * 16_000 * 12)).shape == (80, 800)  # 12 s, the last 8 kept


def test_a_finished_sentence_and_a_clause_cut_after_and(model: SmartTurnModel, caller: PiperTts) -> None:
    finished = model.predict(say(caller, "My name is John Smith."))
    cut = model.predict(say(caller, "I was driving to the office and"))
    assert 0.0 <= cut < 0.5 <= finished <= 1.0, (finished, cut)


async def test_the_model_decides_at_the_pause_for_unsure_words(
    model: SmartTurnModel, caller: PiperTts
) -> None:
    cut = await asyncio.to_thread(say, caller, "I was driving to the office and")
    turn_end = TurnEnd(TurnEndPolicy(), model)
    turn_end.on_pause(cut)  # the speculative pause: the prediction runs beside the transcript
    transcript = asyncio.create_task(asyncio.sleep(0, result="I was driving to the office"))  # no "and" heard
    await wait_for(lambda: turn_end.probability is not None)
    await transcript
    assert not turn_end.ended(500, [transcript], "en-US")  # the model holds the unsure words
    assert turn_end.ended(1500, [transcript], "en-US")


def test_a_missing_or_broken_model_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SpeechError, match="not found"):
        SmartTurnModel(tmp_path / "missing.onnx")
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(SpeechError, match="cannot load"):
        SmartTurnModel(broken)


async def test_the_model_agrees_with_a_finished_sentence_so_it_ends_after_the_short_pause(
    model: SmartTurnModel, caller: PiperTts
) -> None:
    finished = await asyncio.to_thread(say, caller, "My name is John Smith.")
    turn_end = TurnEnd(TurnEndPolicy(), model)
    turn_end.on_pause(finished)
    transcript = asyncio.create_task(asyncio.sleep(0, result="My name is John Smith."))
    await wait_for(lambda: turn_end.probability is not None)
    await transcript
    assert turn_end.probability is not None and turn_end.probability >= 0.5
    assert not turn_end.ended(288, [transcript], "en-US")
    assert turn_end.ended(300, [transcript], "en-US")
