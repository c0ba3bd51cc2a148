"""`callcenter simulate --caller-voice LANG=PATH.onnx`: a piper voice says the callers' lines in that
language (the French callers' espeak-ng voice is misheard by Whisper base: bench.french_caller_voice);
a voice that is not there, or a malformed option, is a one-line error before anything starts."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from local.cli import main
from local.simulate import caller_voices, parse_caller_voices
from shared.speech.espeak_tts import EspeakTts
from shared.speech.models import piper_voice_path
from shared.speech.piper_tts import PiperTts

SCENARIOS = Path(__file__).parents[2] / "scenarios"


def _voice_copy(folder: Path) -> Path:
    """The installed piper voice (linked) under another name, standing for a French voice file."""
    source = piper_voice_path()
    target = folder / "fr_FR-caller.onnx"
    target.symlink_to(source)
    shutil.copyfile(source.with_name(source.name + ".json"), target.with_name(target.name + ".json"))
    return target


def test_default_caller_voices_are_piper_for_english_and_espeak_otherwise() -> None:
    voices = caller_voices()
    assert isinstance(voices("en-US"), PiperTts)
    assert isinstance(voices("fr-FR"), EspeakTts)


def test_a_piper_caller_voice_says_that_language(tmp_path: Path) -> None:
    voices = caller_voices(parse_caller_voices([f"fr-FR={_voice_copy(tmp_path)}"]))
    french = voices("fr-FR")
    assert isinstance(french, PiperTts)
    assert french.families == ["en", "fr"]
    assert isinstance(voices("de-DE"), EspeakTts)

    async def say() -> bytes:
        return b"".join([chunk async for chunk in french.synthesize("Bonjour.", lang="fr-FR")])

    pcm = asyncio.run(say())
    assert len(pcm) > 16000  # more than half a second of 16 kHz PCM16


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("fr", "--caller-voice wants LANGUAGE=PATH.onnx (e.g. fr=fr_FR-voice.onnx), got 'fr'"),
        (
            "=voice.onnx",
            "--caller-voice wants LANGUAGE=PATH.onnx (e.g. fr=fr_FR-voice.onnx), got '=voice.onnx'",
        ),
        (
            "fr=/nowhere/fr.onnx",
            "caller voice fr=/nowhere/fr.onnx: no such .onnx file, or no fr.onnx.json beside it",
        ),
    ],
)
def test_a_bad_caller_voice_is_a_one_line_error(
    option: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["simulate", str(SCENARIOS / "goodbye-fr.yaml"), "--caller-voice", option])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == f"callcenter simulate: {message}"


def test_a_voice_without_its_config_is_refused(tmp_path: Path) -> None:
    voice = _voice_copy(tmp_path)
    voice.with_name(voice.name + ".json").unlink()
    with pytest.raises(ValueError, match=r"no fr_FR-caller\.onnx\.json beside it"):
        caller_voices({"fr": voice})
