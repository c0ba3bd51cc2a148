"""`callcenter chat --lang es-ES`: any call language tag; the phrases translated when a Translator is
configured; a tag that is not one is a one-line error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from local.translator_server import TranslatorServer
from tests.local.test_chat_cli import run_chat
from tests.translation.conftest import KEY, REGION


def test_a_chat_in_spanish_hears_the_translated_phrases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, translator_server: TranslatorServer
) -> None:
    for name, value in {
        "TRANSLATOR__ENDPOINT": translator_server.endpoint,
        "TRANSLATOR__KEY": KEY,
        "TRANSLATOR__REGION": REGION,
    }.items():
        monkeypatch.setitem(os.environ, name, value)
    result = run_chat(tmp_path, ["Se me ha roto el portátil.", "/quit"], "--lang", "es-ES")
    assert result.returncode == 0, result.stderr
    bot = [line.split("bot> ", 1)[1] for line in result.stdout.splitlines() if "bot> " in line]
    assert bot and all(line.startswith(("Hola", "[es] ")) for line in bot), result.stdout
    assert len(translator_server.requests) == 1


def test_a_language_that_is_not_a_tag_is_one_line(tmp_path: Path) -> None:
    result = run_chat(tmp_path, [], "--lang", "spanish")
    assert result.returncode == 2
    assert "'spanish' is not a language tag like en-US, fr-FR or es-ES" in result.stderr
    assert "Traceback" not in result.stderr
