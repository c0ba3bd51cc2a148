"""The first words of a held answer (what the turn would say first if it took the answer over), read
from the held events without consuming them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence

from shared.conversation.speculation import Speculation
from shared.llm.client import ChatEvent, Finished, TextDelta, ToolCallDelta


async def _events(
    items: Sequence[ChatEvent], gate: asyncio.Event | None = None
) -> AsyncGenerator[ChatEvent, None]:
    for index, item in enumerate(items):
        if gate is not None and index == 1:
            await gate.wait()  # the model streams the rest later
        yield item


def _speculation(items: Sequence[ChatEvent], gate: asyncio.Event | None = None) -> Speculation:
    return Speculation("I had an accident.", [], _events(items, gate))


def _deltas(text: str) -> list[ChatEvent]:
    return [TextDelta(f"{word} ") for word in text.split(" ")]


async def test_the_first_clause_of_a_long_first_sentence_is_the_opening() -> None:
    reply = "Thank you for telling me about the accident, I have noted everything you said. Was anyone hurt?"
    speculation = _speculation([*_deltas(reply), Finished("stop")])
    assert await speculation.opening_words() == "Thank you for telling me about the accident,"
    taken = [event async for event in speculation.take()]  # nothing was consumed
    assert "".join(e.text for e in taken if isinstance(e, TextDelta)).strip() == reply


async def test_a_short_answer_is_its_opening_once_the_model_finished() -> None:
    speculation = _speculation([TextDelta("**Thank you.**"), Finished("stop")])
    assert await speculation.opening_words() == "Thank you."
    await speculation.discard()


async def test_a_tool_call_before_any_words_means_no_opening() -> None:
    call = ToolCallDelta(index=0, id="c1", name="updated_claim", arguments="{}")
    speculation = _speculation([call, TextDelta("Noted. "), Finished("tool_calls")])
    assert await speculation.opening_words() is None
    await speculation.discard()


async def test_the_opening_waits_for_the_model_to_stream_it() -> None:
    gate = asyncio.Event()
    speculation = _speculation([TextDelta("Thank "), TextDelta("you. "), TextDelta("Next?")], gate)
    waiting = asyncio.create_task(speculation.opening_words())
    await asyncio.sleep(0.05)
    assert not waiting.done()  # "Thank " is not a sentence yet
    gate.set()
    assert await asyncio.wait_for(waiting, 5) == "Thank you."
    await speculation.discard()


async def test_a_dropped_answer_has_no_opening_left_to_wait_for() -> None:
    gate = asyncio.Event()
    speculation = _speculation([TextDelta("Thank "), TextDelta("you.")], gate)
    waiting = asyncio.create_task(speculation.opening_words())
    await asyncio.sleep(0.05)
    await speculation.discard()
    assert await asyncio.wait_for(waiting, 5) is None
