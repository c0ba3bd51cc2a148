"""Traces of a call on the OpenTelemetry API (a no-op until `shared.telemetry.export` installs a provider).

Each process works on its own part of a call: the function app answers or places it (`call.answer`,
`call.place`), applies its ACS events (`call.event`), runs the post-call activities (`call.post_call`);
the media host serves its audio (`call.media`, with one `call.turn` per caller turn and its steps as
children). The part that answered or placed the call stores its W3C traceparent in the call document
(`connection.trace_parent`); every later part, in either process, links to it. Every part carries the
call id and the ACS correlation id.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import (
    Link,
    Span,
    SpanContext,
    SpanKind,
    TraceFlags,
)

from shared.telemetry import names
from shared.telemetry.logs import call_scope

if TYPE_CHECKING:
    from shared.models import Call

AttributeValue = str | bool | int | float
_tracer = trace.get_tracer(names.INSTRUMENTATION)


def call_attributes(call: Call) -> dict[str, AttributeValue]:
    """What identifies a call on every part of its trace (never the caller's number)."""
    attributes: dict[str, AttributeValue] = {
        names.ATTR_CALL_ID: str(call.call_id),
        names.ATTR_DIRECTION: str(call.direction),
    }
    if call.connection.correlation_id:
        attributes[names.ATTR_CORRELATION_ID] = call.connection.correlation_id
    if call.agent is not None:
        attributes[names.ATTR_AGENT] = str(call.agent)
    return attributes


def traceparent(span: Span | None = None) -> str | None:
    """The W3C traceparent of `span` (default: the current one), None when it is not recorded."""
    context = (span or trace.get_current_span()).get_span_context()
    if not context.is_valid:
        return None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"


def parse_traceparent(value: str | None) -> SpanContext | None:
    parts = (value or "").split("-")
    if len(parts) != 4 or parts[0] != "00" or len(parts[1]) != 32 or len(parts[2]) != 16:
        return None
    try:
        context = SpanContext(
            trace_id=int(parts[1], 16),
            span_id=int(parts[2], 16),
            is_remote=True,
            trace_flags=TraceFlags(int(parts[3], 16)),
        )
    except ValueError:
        return None
    return context if context.is_valid else None


@contextmanager
def call_part(
    name: str, call: Call, attributes: Mapping[str, AttributeValue] | None = None, *, new_trace: bool = True
) -> Iterator[Span]:
    """One process's part of a call: a span (current for the block) with the call's attributes, linked
    to the span that answered or placed the call, and the call id in the logs of the block. `new_trace`:
    a root span (the media host's session, whose socket carries no trace context); otherwise a child
    of the current span (a Functions invocation's)."""
    merged = {**call_attributes(call), **(attributes or {})}
    with part(name, call.call_id, call.connection.trace_parent, merged, new_trace=new_trace) as span:
        yield span


@contextmanager
def part(
    name: str,
    call_id: object,
    trace_parent: str | None,
    attributes: Mapping[str, AttributeValue] | None = None,
    *,
    new_trace: bool = False,
) -> Iterator[Span]:
    """`call_part` when only the call id and its stored traceparent are at hand (post-call activities)."""
    origin = parse_traceparent(trace_parent)
    links = [Link(origin, {names.ATTR_CALL_ID: str(call_id)})] if origin is not None else []
    with (
        call_scope(call_id),
        _tracer.start_as_current_span(
            name,
            context=otel_context.Context() if new_trace else None,
            kind=SpanKind.SERVER if new_trace else SpanKind.INTERNAL,  # a root: a request in App Insights
            attributes={names.ATTR_CALL_ID: str(call_id), **(attributes or {})},
            links=links,
            record_exception=True,
        ) as span,
    ):
        yield span


@contextmanager
def step(name: str, attributes: Mapping[str, AttributeValue] | None = None) -> Iterator[Span]:
    """A child of the current span for one step of a call (an LLM round, a tool call, an SMS)."""
    with _tracer.start_as_current_span(name, attributes=attributes, record_exception=True) as span:
        yield span


def start_span(
    name: str, attributes: Mapping[str, AttributeValue] | None = None, *, at: int | None = None
) -> Span:
    """A span ended by its owner (`finish`), child of the current span; `at` in epoch nanoseconds."""
    return _tracer.start_span(name, attributes=attributes, start_time=at)


def interval(
    name: str,
    parent: Span,
    start_ns: int,
    end_ns: int,
    attributes: Mapping[str, AttributeValue] | None = None,
) -> None:
    """A finished child span of `parent` from measured marks (the turn's milestones)."""
    if not parent.is_recording():
        return
    context = trace.set_span_in_context(parent)
    span = _tracer.start_span(name, context=context, attributes=attributes, start_time=start_ns)
    span.end(end_time=max(start_ns, end_ns))


@contextmanager
def within(span: Span) -> Iterator[None]:
    """Make `span` current for a block (the turn span while the agent answers)."""
    token = otel_context.attach(trace.set_span_in_context(span))
    try:
        yield
    finally:
        otel_context.detach(token)


class Clock:
    """Monotonic marks to epoch nanoseconds (spans need wall-clock times; the media loop keeps
    monotonic ones)."""

    def __init__(self, monotonic_now: float) -> None:
        self._offset_ns = time.time_ns() - int(monotonic_now * 1e9)

    def ns(self, mark: float) -> int:
        return self._offset_ns + int(mark * 1e9)
