"""A call in a language the prompts file has no phrase list for hears the bot's fixed phrases
translated (once per language, cached), or English when the translator fails: never a broken call."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest

from local.translator_server import TranslatorServer
from shared.composition import Services, build_services
from shared.conversation.engine import Conversation, open_conversation
from shared.insights.customer_sms import customer_sms
from shared.models import Call, CallDirection, CallInitiate
from shared.settings import load_settings
from tests.translation.conftest import KEY, REGION

SCHEMA = [
    {"name": "caller_name", "type": "text", "description": "the caller's full name"},
    {"name": "incident_description", "type": "text", "description": "what happened"},
]
ENGLISH_HELLOS = (
    "Hello, I'm Amélie from Contoso. How can I help you today?",
    "Hi, this is Amélie at Contoso. What can I do for you?",
)
SPANISH_HELLOS = (
    "Hola, soy Amélie de Contoso. ¿En qué puedo ayudarle hoy?",
    "Hola, le atiende Amélie, de Contoso. ¿Qué puedo hacer por usted?",
)

Runner = Callable[..., AbstractAsyncContextManager[Services]]


@pytest.fixture
def runner(tmp_path: Path, redis_url: str) -> Runner:
    """Services of one process (a fresh one per use) on one SQLite file and one Redis namespace."""
    prefix = f"tr-{uuid.uuid4().hex[:8]}:"

    @asynccontextmanager
    async def build(
        endpoint: str | None, *, key: str = KEY, timeout_sec: float = 2.0
    ) -> AsyncIterator[Services]:
        translator = {"endpoint": endpoint, "key": key, "region": REGION, "timeout_sec": timeout_sec}
        settings = load_settings(
            store={"sqlite": {"path": tmp_path / "calls.sqlite3"}},
            blobs={"files_dir": tmp_path / "blobs"},
            cache={"backend": "redis", "redis": {"url": redis_url, "key_prefix": prefix}},
            translator=translator if endpoint else {},
        )
        services = build_services(settings)
        try:
            yield services
        finally:
            await services.aclose()

    return build


class Caller:
    """What the caller hears."""

    def __init__(self) -> None:
        self.heard: list[str] = []

    async def speak(self, text: str) -> None:
        self.heard.append(text)


async def _call(services: Services, lang: str = "es-ES") -> tuple[Conversation, Caller]:
    initiate = CallInitiate.model_validate({"claim": SCHEMA, "lang": {"default_short_code": lang}})
    call = await services.store.create(
        Call(caller_phone="+34612345678", direction=CallDirection.INBOUND, initiate=initiate)
    )
    caller = Caller()
    conversation = await open_conversation(services, call)
    await conversation.start(caller.speak)
    return conversation, caller


def _spanish(line: str) -> bool:
    return line in SPANISH_HELLOS or line.startswith("[es] ")


async def test_a_form_agent_call_in_spanish_hears_translated_phrases(
    runner: Runner, translator_server: TranslatorServer
) -> None:
    async with runner(translator_server.endpoint) as services:
        conversation, caller = await _call(services)
        await conversation.respond("Se me ha roto el portátil esta mañana.", caller.speak)
    spoken = caller.heard
    assert spoken[0] in SPANISH_HELLOS  # placeholders filled where Spanish puts them
    assert len(spoken) >= 2
    assert all(_spanish(line) for line in spoken), spoken
    assert not any("{" in line or "}" in line for line in spoken)
    (request,) = translator_server.requests  # every phrase and the claim's questions in one request
    assert request.query["to"] == ["es"]
    assert len(request.body) == sum(len(v) for v in services.prompts.phrases["en-US"].values()) + 2
    assert request.body[-2:] == [{"Text": "what happened"}, {"Text": "your full name"}]


async def test_a_language_is_translated_once_then_served_from_the_process_and_the_cache(
    runner: Runner, translator_server: TranslatorServer
) -> None:
    async with runner(translator_server.endpoint) as services:
        await _call(services)
        _, caller = await _call(services)  # a second call in this process
        assert caller.heard[0] in SPANISH_HELLOS
    assert len(translator_server.requests) == 1
    async with runner(translator_server.endpoint) as services:
        _, caller = await _call(services)  # another process, the same cache
        assert caller.heard[0] in SPANISH_HELLOS
        assert services.phrases.translated("es-ES") is not None
    assert len(translator_server.requests) == 1


async def test_languages_with_a_phrase_list_never_ask_the_translator(
    runner: Runner, translator_server: TranslatorServer
) -> None:
    async with runner(translator_server.endpoint) as services:
        _, french = await _call(services, "fr-CA")  # the fr-FR list serves every French
        _, english = await _call(services, "en-GB")
    assert french.heard[0].startswith("Bonjour")
    assert english.heard[0] in ENGLISH_HELLOS
    assert translator_server.requests == []


@pytest.mark.parametrize(
    ("breakage", "reason"),
    [("down", "HTTP 503, 503000"), ("slow", "did not answer in time"), ("key", "HTTP 401, 401000")],
)
async def test_a_failing_translator_leaves_english_phrases_and_the_call_goes_on(
    runner: Runner,
    translator_server: TranslatorServer,
    caplog: pytest.LogCaptureFixture,
    breakage: str,
    reason: str,
) -> None:
    if breakage == "down":
        translator_server.fail_with(503, 503000, "Service is temporarily unavailable.")
    if breakage == "slow":
        translator_server.delay_sec = 1.5
    key = "wrong-key" if breakage == "key" else KEY
    caplog.set_level(logging.INFO, logger="shared.translation")
    async with runner(translator_server.endpoint, key=key, timeout_sec=0.3) as services:
        conversation, caller = await _call(services)
        await conversation.respond("My laptop broke this morning.", caller.speak)
        _, again = await _call(services)  # the next call does not ask a failing translator again
    translator_server.delay_sec = 0.0
    spoken = caller.heard
    assert spoken[0] in ENGLISH_HELLOS and again.heard[0] in ENGLISH_HELLOS
    assert len(spoken) >= 2 and not any(line.startswith("[es]") for line in spoken)
    warnings = [
        r for r in caplog.records if r.levelno == logging.WARNING and r.name.startswith("shared.translation")
    ]
    assert len(warnings) == 1 and reason in warnings[0].getMessage()
    assert len(translator_server.requests) == 1


async def test_without_a_translator_english_phrases_and_one_line_saying_so(
    runner: Runner, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="shared.translation")
    async with runner(None) as services:
        _, caller = await _call(services, "de-DE")
    assert caller.heard[0] in ENGLISH_HELLOS
    assert [r.getMessage() for r in caplog.records if "no translator configured" in r.getMessage()]


async def test_the_post_call_sms_is_written_in_the_translated_words(
    runner: Runner, translator_server: TranslatorServer
) -> None:
    async with runner(translator_server.endpoint) as services:
        conversation, _ = await _call(services)
        call = conversation.ctx.call
        await services.phrases.prepare(call.current_lang)
        text = customer_sms(
            call, services.phrases, link="https://example.test/r/1", now=conversation.ctx.now()
        )
    assert text.startswith("[es] Contoso: ")
    assert "[es] Your file: https://example.test/r/1" in text


async def test_an_outbound_call_in_spanish_never_reads_the_english_task(
    runner: Runner, translator_server: TranslatorServer
) -> None:
    async with runner(translator_server.endpoint) as services:
        initiate = CallInitiate.model_validate(
            {
                "claim": SCHEMA,
                "lang": {"default_short_code": "es-ES"},
                "task": "Help the employee with their broken laptop.",
            }
        )
        call = await services.store.create(
            Call(caller_phone="+34612345678", direction=CallDirection.OUTBOUND, initiate=initiate)
        )
        caller = Caller()
        conversation = await open_conversation(services, call)
        await conversation.start(caller.speak)
    opening = caller.heard[0]
    assert opening == "[es] Hello, this is Amélie from Contoso, calling about your file."
    assert "laptop" not in " ".join(caller.heard)


async def test_a_field_is_asked_with_its_label_translated(
    runner: Runner, translator_server: TranslatorServer
) -> None:
    schema = [
        {"name": "contract_id", "type": "text"},
        {"name": "incident_description", "type": "text", "description": "what happened"},
    ]
    async with runner(translator_server.endpoint) as services:
        initiate = CallInitiate.model_validate({"claim": schema, "lang": {"default_short_code": "es-ES"}})
        call = await services.store.create(
            Call(caller_phone="+34612345678", direction=CallDirection.INBOUND, initiate=initiate)
        )
        caller = Caller()
        conversation = await open_conversation(services, call)
        await conversation.start(caller.speak)
        await conversation.respond("Se me ha roto el portátil esta mañana.", caller.speak)
    question = caller.heard[-1]
    assert "el número de contrato" in question, caller.heard  # not the generic question, not English
    assert "contract" not in question
