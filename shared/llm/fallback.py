"""Several chat models behind the one `ChatModel` port, tried in order, that remember which one failed.

Any failure of a model (an HTTP error, a timeout, a stream that breaks or goes silent for longer than
the idle timeout, an answer with nothing in it) moves to the next model, as long as nothing of the
answer was handed to the caller yet. A model that failed is skipped by every later request for a
cool-down (`cooldown_sec`); once the cool-down is over it is probed in the background with a tiny
request and used again only when the probe answers. So a hanging primary costs its timeout once per
cool-down, not on every turn. A content-filter refusal is not a failure of the model: it is raised.

One `FallbackChatModel` per process (built in `shared.composition`), shared by every call and by the
post-call insights; `reordered()` gives another order over the same memory of failures. The probes
are tasks this object owns: `aclose()` cancels them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Collection, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from shared.llm.client import ChatEvent, ChatModel, ContentFiltered, Finished, ModelFailure, TextDelta
from shared.telemetry import record

log = logging.getLogger(__name__)

DEFAULT_COOLDOWN_SEC = 30.0
DEFAULT_PROBE_TIMEOUT_SEC = 10.0
PROBE_MESSAGES: list[dict[str, Any]] = [{"role": "user", "content": "Answer with the word OK."}]


class NoModelAvailable(ModelFailure):
    """Every model failed this request or is cooling down after a failure."""


@dataclass
class Served:
    """Which model is serving a stream (the last one tried), for failures found after it ended."""

    model: str | None = None


@dataclass
class _Health:
    failed_at: float | None = None
    reason: str = ""
    probe: asyncio.Task[None] | None = None


@dataclass
class _Memory:
    """What the process knows about each model, shared by every order over the same models."""

    health: dict[str, _Health] = field(default_factory=dict)
    probes: set[asyncio.Task[None]] = field(default_factory=set)


def _useful(event: ChatEvent) -> bool:
    """An event that is part of an answer (text to say, a tool call), not only its end."""
    if isinstance(event, TextDelta):
        return bool(event.text.strip())
    return not isinstance(event, Finished)


def _describe(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, ModelFailure) else f"{type(exc).__name__}: {exc}"


class FallbackChatModel:
    """Ordered models; see the module docstring."""

    def __init__(
        self,
        models: Sequence[ChatModel],
        *,
        cooldown_sec: float = DEFAULT_COOLDOWN_SEC,
        probe_timeout_sec: float = DEFAULT_PROBE_TIMEOUT_SEC,
        clock: Callable[[], float] = time.monotonic,
        _memory: _Memory | None = None,
    ) -> None:
        if not models:
            raise ValueError("a fallback chat model needs at least one model")
        self.models = list(models)
        self.name = "fallback(" + ", ".join(m.name for m in self.models) + ")"
        self._cooldown = cooldown_sec
        self._probe_timeout = probe_timeout_sec
        self._clock = clock
        self._memory = _memory or _Memory()
        for model in self.models:
            self._memory.health.setdefault(model.name, _Health())

    def reordered(self, *, reverse: bool) -> FallbackChatModel:
        """The same models (and the same memory of failures) in reverse order, or as they are."""
        if not reverse:
            return self
        return FallbackChatModel(
            list(reversed(self.models)),
            cooldown_sec=self._cooldown,
            probe_timeout_sec=self._probe_timeout,
            clock=self._clock,
            _memory=self._memory,
        )

    # health

    def cooling_down(self, name: str) -> bool:
        return self._memory.health[name].failed_at is not None

    def failed(self, name: str, reason: str) -> None:
        """Skip the model `name` for a cool-down (from now), then probe it before using it again."""
        health = self._memory.health.get(name)
        if health is None:
            return
        record.model_failed(name, reason)
        if health.failed_at is None:
            log.warning("model %s failed, skipped for %.0f s: %s", name, self._cooldown, reason)
        health.failed_at, health.reason = self._clock(), reason

    def _recovered(self, name: str) -> None:
        health = self._memory.health[name]
        if health.failed_at is not None:
            log.info("model %s answers again", name)
        health.failed_at, health.reason = None, ""

    def available(self) -> list[ChatModel]:
        """The models to try now, in order; a model whose cool-down ended gets a background probe."""
        ready: list[ChatModel] = []
        for model in self.models:
            health = self._memory.health[model.name]
            if health.failed_at is None:
                ready.append(model)
            elif self._clock() - health.failed_at >= self._cooldown and health.probe is None:
                self._start_probe(model, health)
        return ready

    def _start_probe(self, model: ChatModel, health: _Health) -> None:
        try:
            task = asyncio.get_running_loop().create_task(self._probe(model), name=f"probe {model.name}")
        except RuntimeError:  # no loop running (a synchronous caller): the next request probes
            return
        health.probe = task
        self._memory.probes.add(task)

        def _done(finished: asyncio.Task[None]) -> None:
            self._memory.probes.discard(finished)
            if health.probe is finished:
                health.probe = None

        task.add_done_callback(_done)

    async def _probe(self, model: ChatModel) -> None:
        try:
            async with asyncio.timeout(self._probe_timeout):
                async with aclosing(_as_generator(model.stream(PROBE_MESSAGES, []))) as events:
                    async for event in events:
                        if _useful(event):
                            self._recovered(model.name)
                            return
            raise ModelFailure(f"{model.name}: the probe got an empty answer")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # any failure: cool down again
            self.failed(model.name, f"probe: {_describe(exc)}")

    # streaming

    def stream(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AsyncIterator[ChatEvent]:
        """The `ChatModel` port: the first model that answers, with no idle timeout of its own."""
        return self.open(messages, tools)

    async def open(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        *,
        idle_timeout_sec: float | None = None,
        skip: Collection[str] = (),
        served: Served | None = None,
    ) -> AsyncGenerator[ChatEvent, None]:
        """Stream from the first available model not in `skip`; a model silent for `idle_timeout_sec`
        (before its first event or between two) has failed. Raises NoModelAvailable when none
        answered; ModelFailure when a model failed after part of its answer was yielded."""
        served = served if served is not None else Served()
        failures: list[str] = []
        for model in [m for m in self.available() if m.name not in skip]:
            served.model = model.name
            held: list[ChatEvent] = []  # events before the first useful one: a failure may still move on
            answering = False
            try:
                async with aclosing(_idle_bounded(model.stream(messages, tools), idle_timeout_sec)) as events:
                    async for event in events:
                        if answering:
                            yield event
                        elif _useful(event):
                            answering = True
                            for waiting in held:
                                yield waiting
                            held.clear()
                            yield event
                        else:
                            held.append(event)
                if not answering:
                    raise ModelFailure(f"{model.name}: empty answer")
            except ContentFiltered:
                raise
            except Exception as exc:  # any failure of the model, a broken stream included
                self.failed(model.name, _describe(exc))
                if answering:
                    raise ModelFailure(f"{model.name} failed mid-answer: {_describe(exc)}") from exc
                failures.append(f"{model.name}: {_describe(exc)}")
                record.fell_back(model.name, "next")
                continue
            self._recovered(model.name)
            return
        cooling = [m.name for m in self.models if self.cooling_down(m.name) and m.name not in skip]
        detail = "; ".join(failures) or "none tried"
        if cooling:
            detail += f" (cooling down: {', '.join(cooling)})"
        raise NoModelAvailable(f"no model answered: {detail}")

    async def aclose(self) -> None:
        """Cancel the background probes (the models themselves are closed by their owner)."""
        probes = list(self._memory.probes)
        for task in probes:
            task.cancel()
        await asyncio.gather(*probes, return_exceptions=True)


async def _as_generator(events: AsyncIterator[ChatEvent]) -> AsyncGenerator[ChatEvent, None]:
    async for event in events:
        yield event


async def _idle_bounded(
    events: AsyncIterator[ChatEvent], idle_sec: float | None
) -> AsyncGenerator[ChatEvent, None]:
    """Relay `events`; TimeoutError when none arrives within `idle_sec` (None: wait for ever)."""
    iterator = aiter(events)
    try:
        while True:
            try:
                event = await asyncio.wait_for(anext(iterator), idle_sec)
            except StopAsyncIteration:
                return
            except TimeoutError:
                raise ModelFailure(f"no answer within {idle_sec} s") from None
            yield event
    finally:
        closer = getattr(iterator, "aclose", None)
        if closer is not None:
            with contextlib.suppress(Exception):
                await closer()
