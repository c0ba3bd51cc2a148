"""A chat model through the real openai SDK against the scripted OpenAI-compatible server
(local/llm_server.py), for the tests of the LLM agent's answers (registered in tests/conftest.py).

`llm_server` is one server per test module; `llm_model` starts each test with an empty script and no
recorded requests. `llm_conversation` is the conversation the LLM agent leads on that model.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import openai
import pytest

from local.llm_server import ScriptedLlmServer
from shared.conversation.engine import Conversation
from shared.conversation.llm_agent import LlmAgent
from shared.llm.client import OpenAiChatModel
from tests.conversation.support import Harness

MODEL = "fast-model"


@pytest.fixture(scope="module")
def llm_server() -> Iterator[ScriptedLlmServer]:
    with ScriptedLlmServer() as running:
        yield running


@pytest.fixture
async def llm_model(llm_server: ScriptedLlmServer) -> AsyncIterator[OpenAiChatModel]:
    llm_server.script.clear()
    llm_server.requests.clear()
    client = openai.AsyncOpenAI(base_url=llm_server.base_url, api_key="test", max_retries=0)
    chat = OpenAiChatModel(client, MODEL)
    yield chat
    await chat.close()


def llm_conversation(harness: Harness, model: OpenAiChatModel) -> Conversation:
    """The call's conversation, led by the LLM agent on `model`."""
    return Conversation(harness.ctx, llm=LlmAgent([model]))


def name_update(name: str) -> dict[str, Any]:
    """The model's tool call writing the caller's name into the claim."""
    return {"name": "updated_claim", "arguments": {"updates": [{"field": "caller_name", "value": name}]}}
