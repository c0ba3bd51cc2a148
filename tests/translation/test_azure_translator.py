"""The Azure AI Translator adapter against the Translator stand-in: the real request (api-version,
from/to, textType, headers, `[{"Text"}]` body) and the real answer and error shapes."""

from __future__ import annotations

import time

import pytest
from azure.core.credentials import AccessToken

from local.translator_server import TranslatorServer
from shared.translation.azure_translator import AzureTranslator, translate_url, translator_language
from shared.translation.base import TranslationError
from tests.cache.support import free_loopback_port
from tests.translation.conftest import KEY, REGION


async def test_a_request_as_the_service_wants_it_and_placeholders_kept(
    translator_server: TranslatorServer,
) -> None:
    translator = AzureTranslator(translator_server.endpoint, key=KEY, region=REGION)
    try:
        texts = [
            "Hello, I'm {bot_name} from {bot_company}. How can I help you today?",
            "Thank you, I noted {value}.",
            " and ",
            "Tom & Jerry <at> {bot_company}",
            "",
        ]
        translated = await translator.translate(texts, source="en-US", target="es-ES")
    finally:
        await translator.close()
    assert translated == [
        "Hola, soy {bot_name} de {bot_company}. ¿En qué puedo ayudarle hoy?",
        "{value}: anotado, gracias.",  # the placeholder moved where Spanish puts it, and kept
        " y ",  # the spaces around a joining word survive
        "[es] Tom & Jerry <at> {bot_company}",  # escaped for HTML on the way, unescaped on return
        "",
    ]
    (request,) = translator_server.requests
    assert request.query == {"api-version": ["3.0"], "from": ["en"], "to": ["es"], "textType": ["html"]}
    assert request.headers["ocp-apim-subscription-key"] == KEY
    assert request.headers["ocp-apim-subscription-region"] == REGION
    assert request.headers["content-type"].startswith("application/json")
    assert request.body == [
        {
            "Text": 'Hello, I\'m <span class="notranslate">{bot_name}</span> from '
            '<span class="notranslate">{bot_company}</span>. How can I help you today?'
        },
        {"Text": 'Thank you, I noted <span class="notranslate">{value}</span>.'},
        {"Text": "and"},
        {"Text": 'Tom &amp; Jerry &lt;at&gt; <span class="notranslate">{bot_company}</span>'},
    ]  # the empty text is not sent


async def test_more_texts_than_one_request_takes_go_in_several(translator_server: TranslatorServer) -> None:
    translator = AzureTranslator(translator_server.endpoint, key=KEY, region=REGION)
    try:
        translated = await translator.translate([f"line {i}" for i in range(1_001)], source="en", target="de")
    finally:
        await translator.close()
    assert translated[0] == "[de] line 0" and translated[-1] == "[de] line 1000"
    assert [len(r.body) for r in translator_server.requests] == [1_000, 1]


@pytest.mark.parametrize(
    ("key", "region", "target", "expected"),
    [
        ("wrong-key", REGION, "de", "HTTP 401, 401000"),
        (KEY, None, "de", "HTTP 401, 401000"),  # a regional resource needs its region
        (KEY, REGION, "xx-YY", "HTTP 400, 400036"),
    ],
)
async def test_a_refusal_is_a_translation_error_with_the_service_code(
    translator_server: TranslatorServer, key: str, region: str | None, target: str, expected: str
) -> None:
    translator = AzureTranslator(translator_server.endpoint, key=key, region=region)
    try:
        with pytest.raises(TranslationError, match=expected):
            await translator.translate(["Hello"], source="en", target=target)
    finally:
        await translator.close()


async def test_an_unavailable_slow_or_absent_service_is_a_translation_error(
    translator_server: TranslatorServer,
) -> None:
    translator = AzureTranslator(translator_server.endpoint, key=KEY, region=REGION, timeout_sec=0.3)
    absent = AzureTranslator(f"http://127.0.0.1:{free_loopback_port()}", key=KEY, timeout_sec=0.3)
    try:
        translator_server.fail_with(503, 503000, "Service is temporarily unavailable.")
        with pytest.raises(TranslationError, match="HTTP 503, 503000"):
            await translator.translate(["Hello"], source="en", target="de")
        translator_server.recover()
        translator_server.delay_sec = 1.0
        with pytest.raises(TranslationError, match="did not answer in time"):
            await translator.translate(["Hello"], source="en", target="de")
        with pytest.raises(TranslationError, match="unreachable"):
            await absent.translate(["Hello"], source="en", target="de")
    finally:
        translator_server.delay_sec = 0.0
        await translator.close()
        await absent.close()


class _Credential:
    """An Entra credential as azure-identity's are used (get_token with the scope, close)."""

    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []

    async def get_token(self, *scopes: str, **_: object) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken("entra-token", int(time.time()) + 3600)

    async def close(self) -> None:
        return None


async def test_microsoft_entra_id_sends_a_bearer_token_to_the_custom_endpoint() -> None:
    credential = _Credential()
    with TranslatorServer(token="entra-token") as server:
        translator = AzureTranslator(server.endpoint, credential=credential)  # type: ignore[arg-type]
        try:
            assert await translator.translate(["Hello"], source="en", target="fr") == ["[fr] Hello"]
            assert await translator.translate(["Bye"], source="en", target="fr") == ["[fr] Bye"]
        finally:
            await translator.close()
        assert credential.scopes == [("https://cognitiveservices.azure.com/.default",)]  # token reused
        assert all(r.headers["authorization"] == "Bearer entra-token" for r in server.requests)
        assert all("ocp-apim-subscription-key" not in r.headers for r in server.requests)


def test_endpoints_and_language_codes() -> None:
    assert translate_url("https://api.cognitive.microsofttranslator.com/") == (
        "https://api.cognitive.microsofttranslator.com/translate"
    )
    assert translate_url("https://my-res.cognitiveservices.azure.com") == (
        "https://my-res.cognitiveservices.azure.com/translator/text/v3.0/translate"
    )
    assert [translator_language(tag) for tag in ("de-DE", "es-ES", "zh-TW", "zh-CN", "pt-PT", "pt-BR")] == [
        "de",
        "es",
        "zh-Hant",
        "zh-Hans",
        "pt-pt",
        "pt",
    ]


async def test_a_translation_that_drops_a_placeholder_keeps_the_source_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    glossary = {"de": {"Got it: {value}.": "Verstanden.", "Goodbye!": "Auf Wiedersehen!"}}
    with TranslatorServer(key=KEY, glossary=glossary) as server:
        translator = AzureTranslator(server.endpoint, key=KEY)
        try:
            translated = await translator.translate(
                ["Got it: {value}.", "Goodbye!"], source="en", target="de"
            )
        finally:
            await translator.close()
    assert translated == ["Got it: {value}.", "Auf Wiedersehen!"]  # never a phrase without its value
    assert any("changed the placeholders" in r.getMessage() for r in caplog.records)
