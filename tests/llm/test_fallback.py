"""FallbackChatModel: ordered models, any failure moves on, a failed model cools down and is probed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import openai
import pytest

from local.llm_server import ScriptedLlmServer
from shared.llm.client import ChatEvent, ContentFiltered, Finished, ModelFailure, OpenAiChatModel, TextDelta
from shared.llm.fallback import FallbackChatModel, NoModelAvailable, Served

MESSAGES: list[dict[str, Any]] = [{"role": "user", "content": "What is my excess?"}]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Scripted:
    """A ChatModel whose behaviour per request is scripted: "ok", "fail", "hang", "empty", "filtered"."""

    def __init__(self, name: str, *behaviours: str) -> None:
        self.name = name
        self.behaviours = list(behaviours)
        self.requests: list[list[dict[str, Any]]] = []

    async def stream(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> AsyncIterator[ChatEvent]:
        self.requests.append(messages)
        behaviour = self.behaviours.pop(0) if len(self.behaviours) > 1 else self.behaviours[0]
        if behaviour == "fail":
            raise ModelFailure(f"{self.name}: HTTP 500")
        if behaviour == "hang":
            await asyncio.sleep(3600)
        if behaviour == "filtered":
            raise ContentFiltered(f"{self.name}: filtered")
        if behaviour == "ok":
            yield TextDelta(f"{self.name} says hello.")
        yield Finished("stop")


async def texts(stream: AsyncIterator[ChatEvent]) -> str:
    return "".join([e.text async for e in stream if isinstance(e, TextDelta)])


async def test_the_first_model_that_answers_is_used() -> None:
    fallback = FallbackChatModel([Scripted("fast", "fail"), Scripted("slow", "ok")])
    served = Served()
    assert await texts(fallback.open(MESSAGES, [], served=served)) == "slow says hello."
    assert served.model == "slow"


async def test_a_failed_model_is_skipped_for_the_cool_down_then_probed_in_the_background() -> None:
    clock = Clock()
    fast, slow = Scripted("fast", "fail", "fail", "ok"), Scripted("slow", "ok")
    fallback = FallbackChatModel([fast, slow], cooldown_sec=30, clock=clock)
    assert await texts(fallback.stream(MESSAGES, [])) == "slow says hello."
    assert fallback.cooling_down("fast")
    clock.now += 10  # within the cool-down: the fast model is not asked at all
    assert await texts(fallback.stream(MESSAGES, [])) == "slow says hello."
    assert len(fast.requests) == 1
    clock.now += 25  # cool-down over: a probe goes out in the background, this request still skips it
    assert await texts(fallback.stream(MESSAGES, [])) == "slow says hello."
    await asyncio.sleep(0.01)
    assert len(fast.requests) == 2  # the probe, which failed: a new cool-down from now
    assert fast.requests[-1][0]["content"] != MESSAGES[0]["content"]
    assert fallback.cooling_down("fast")
    clock.now += 31
    assert await texts(fallback.stream(MESSAGES, [])) == "slow says hello."
    await asyncio.sleep(0.01)
    assert not fallback.cooling_down("fast")  # the second probe answered
    assert await texts(fallback.stream(MESSAGES, [])) == "fast says hello."
    await fallback.aclose()


async def test_a_hanging_model_costs_the_idle_timeout_once_not_on_every_request() -> None:
    fast, slow = Scripted("fast", "hang"), Scripted("slow", "ok")
    fallback = FallbackChatModel([fast, slow], cooldown_sec=60)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await texts(fallback.open(MESSAGES, [], idle_timeout_sec=0.2)) == "slow says hello."
    first = loop.time() - started
    started = loop.time()
    for _ in range(5):
        assert await texts(fallback.open(MESSAGES, [], idle_timeout_sec=0.2)) == "slow says hello."
    assert len(fast.requests) == 1
    assert first >= 0.2
    assert loop.time() - started < 0.2  # five more turns did not wait for the hanging model


async def test_an_empty_answer_moves_on_and_nothing_left_raises_no_model_available() -> None:
    fallback = FallbackChatModel([Scripted("fast", "empty"), Scripted("slow", "fail")])
    with pytest.raises(NoModelAvailable, match=r"fast: empty answer.*slow: HTTP 500"):
        await texts(fallback.stream(MESSAGES, []))
    with pytest.raises(NoModelAvailable, match="cooling down: fast, slow"):
        await texts(fallback.stream(MESSAGES, []))


async def test_a_content_filter_is_raised_not_counted_as_a_failure() -> None:
    fallback = FallbackChatModel([Scripted("fast", "filtered"), Scripted("slow", "ok")])
    with pytest.raises(ContentFiltered):
        await texts(fallback.stream(MESSAGES, []))
    assert not fallback.cooling_down("fast")


async def test_reordered_shares_the_memory_of_failures() -> None:
    fast, slow = Scripted("fast", "fail"), Scripted("slow", "ok")
    fallback = FallbackChatModel([fast, slow])
    assert await texts(fallback.stream(MESSAGES, [])) == "slow says hello."
    assert await texts(fallback.reordered(reverse=True).stream(MESSAGES, [])) == "slow says hello."
    assert fallback.reordered(reverse=True).cooling_down("fast")
    assert len(fast.requests) == 1


@pytest.fixture(scope="module")
def server() -> Iterator[ScriptedLlmServer]:
    with ScriptedLlmServer() as running:
        yield running


@pytest.mark.parametrize("breakage", ["truncated", "shape", "noise"])
async def test_a_broken_stream_through_the_sdk_moves_to_the_next_model(
    server: ScriptedLlmServer, breakage: str
) -> None:
    server.script.clear()
    server.script.add_broken(breakage, model="primary")  # type: ignore[arg-type]
    server.script.add_text("The backup answers.", model="backup")
    clients = [openai.AsyncOpenAI(base_url=server.base_url, api_key="t", max_retries=0) for _ in range(2)]
    fallback = FallbackChatModel(
        [OpenAiChatModel(clients[0], "primary"), OpenAiChatModel(clients[1], "backup")]
    )
    try:
        assert await texts(fallback.stream(MESSAGES, [])) == "The backup answers."
        assert fallback.cooling_down("primary")
    finally:
        for client in clients:
            await client.close()


async def test_a_stream_broken_after_part_of_the_answer_is_a_model_failure(server: ScriptedLlmServer) -> None:
    server.script.clear()
    server.script.add_broken("truncated", partial_text="Sure, let me check.", model="primary")
    client = openai.AsyncOpenAI(base_url=server.base_url, api_key="t", max_retries=0)
    model = OpenAiChatModel(client, "primary")
    try:
        with pytest.raises(ModelFailure, match="primary"):
            await texts(model.stream(MESSAGES, []))
    finally:
        await client.close()
