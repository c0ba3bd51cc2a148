"""Translator settings that could never work stop the process at start with the variable to set."""

from __future__ import annotations

import pytest

from shared.composition import build_translator
from shared.settings import SettingsError, load_settings
from shared.translation.azure_translator import AzureTranslator


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {"TRANSLATOR__ENDPOINT": "https://api.cognitive.microsofttranslator.com"},
            "TRANSLATOR__RESOURCE_ID and TRANSLATOR__REGION: Entra ID on the global",
        ),
    ],
)
def test_a_translator_that_cannot_answer_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, values: dict[str, str], expected: str
) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=expected):
        load_settings()


@pytest.mark.parametrize(
    "values",
    [
        {"TRANSLATOR__ENDPOINT": "https://api.cognitive.microsofttranslator.com", "TRANSLATOR__KEY": "k"},
        {"TRANSLATOR__ENDPOINT": "https://my-res.cognitiveservices.azure.com/"},  # Entra ID, custom endpoint
        {
            "TRANSLATOR__ENDPOINT": "https://api.cognitive.microsofttranslator.com",
            "TRANSLATOR__RESOURCE_ID": "/subscriptions/s/resourceGroups/g/providers/x",
            "TRANSLATOR__REGION": "westeurope",
        },
    ],
)
async def test_working_translator_settings_build_the_azure_adapter(
    monkeypatch: pytest.MonkeyPatch, values: dict[str, str]
) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    translator = build_translator(load_settings())
    assert isinstance(translator, AzureTranslator)
    await translator.close()


def test_no_endpoint_no_translator() -> None:
    assert build_translator(load_settings()) is None
