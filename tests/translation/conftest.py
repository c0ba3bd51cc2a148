"""Fixtures for the translation tests: the Translator stand-in on loopback and the real redis-server of
the cache tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.translator_server import TranslatorServer
from tests.cache.conftest import redis_url  # noqa: F401 (the real redis-server, started once per session)

KEY = "translator-test-key"
REGION = "westeurope"
# Spanish as a translator would write it; the placeholders sit where Spanish puts them
SPANISH = {
    "Hello, I'm {bot_name} from {bot_company}. How can I help you today?": (
        "Hola, soy {bot_name} de {bot_company}. ¿En qué puedo ayudarle hoy?"
    ),
    "Hi, this is {bot_name} at {bot_company}. What can I do for you?": (
        "Hola, le atiende {bot_name}, de {bot_company}. ¿Qué puedo hacer por usted?"
    ),
    "Thank you, I noted {value}.": "{value}: anotado, gracias.",
    "and": "y",
    "the contract ID": "el número de contrato",
    "Could you tell me {label}?": "¿Podría decirme {label}?",
    "Can you tell me {label}, please?": "¿Me puede decir {label}, por favor?",
}


@pytest.fixture
def translator_server() -> Iterator[TranslatorServer]:
    with TranslatorServer(key=KEY, region=REGION, glossary={"es": SPANISH}) as server:
        yield server
