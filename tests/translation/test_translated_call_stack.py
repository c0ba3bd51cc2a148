"""A call in Spanish through the local stack (simulator, function app, media host) with a Translator
configured: the media host's own services translate the phrases, and the stored transcript is what the
person called heard, in Spanish."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import httpx
import pytest

from local.dev import LocalStack
from local.translator_server import TranslatorServer
from shared.composition import Services
from shared.models import Call, Persona
from tests.calls.test_telephony_flow import place
from tests.stack import eventually, local_stack
from tests.translation.conftest import KEY, REGION, SPANISH


@pytest.fixture(scope="module")
def module_translator() -> Iterator[TranslatorServer]:
    with TranslatorServer(key=KEY, region=REGION, glossary={"es": SPANISH}) as server:
        yield server


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, module_translator: TranslatorServer
) -> Iterator[LocalStack]:
    translator = {"endpoint": module_translator.endpoint, "key": KEY, "region": REGION}
    with local_stack(tmp_path_factory.mktemp("stack"), overrides={"translator": translator}) as running:
        yield running


async def test_an_outbound_call_in_spanish_is_spoken_and_stored_in_spanish(
    stack: LocalStack, api: httpx.AsyncClient, services: Services, module_translator: TranslatorServer
) -> None:
    claim = [{"name": "contract_id", "type": "text"}, {"name": "caller_email", "type": "email"}]
    call_id = UUID((await place(api, lang={"default_short_code": "es-ES"}, claim=claim))["call_id"])

    async def two_bot_lines() -> Call | None:
        call = await services.store.get(call_id)
        said = [m for m in call.messages if m.persona is Persona.ASSISTANT] if call else []
        return call if len(said) >= 2 else None

    call: Call = await eventually(two_bot_lines, "the opening and the first question stored")
    said = [m.content for m in call.messages if m.persona is Persona.ASSISTANT]
    assert said[0] == "[es] Hello, this is Amélie from Contoso, calling about your file."
    assert said[1].startswith(("[es] ", "¿")) and "el número de contrato" in said[1], said
    assert [r.query["to"] for r in module_translator.requests] == [["es"]]  # one request, the media host's
