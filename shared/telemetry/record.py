"""What the call center records, in domain words: each function here emits the spans, metrics and the
one log line of one event (a turn, a barge-in, a model failure, a tool call, a call's end).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.trace import Span

from shared.telemetry import meters, names, spans

if TYPE_CHECKING:
    from shared.models import Call

log = logging.getLogger("callcenter")


@dataclass(frozen=True)
class TurnMarksMs:
    """One turn's milestones in milliseconds after the end of the caller's speech."""

    end_of_turn: float | None = None
    stt_final: float | None = None
    llm_first_token: float | None = None
    first_sentence: float | None = None
    tts_first_audio: float | None = None
    first_frame_out: float | None = None


class TurnTrace:
    """The `call.turn` span of one caller turn, started at the end of the caller's speech (a child of
    the call's `call.media` span, and the parent of the LLM rounds and tool calls while the agent
    answers), finished with its measured steps as child spans."""

    def __init__(
        self, number: int, *, speech_end_at: float, now: float, lang: str, agent: str | None
    ) -> None:
        self.number = number
        self.agent = agent or "unknown"
        self._clock = spans.Clock(now)
        self._speech_end_ns = self._clock.ns(speech_end_at)
        attributes: dict[str, spans.AttributeValue] = {names.ATTR_TURN: number, names.ATTR_LANG: lang}
        self.span: Span = spans.start_span(names.SPAN_TURN, attributes, at=self._speech_end_ns)

    def at(self, offset_ms: float | None) -> int | None:
        return None if offset_ms is None else self._speech_end_ns + int(offset_ms * 1e6)

    def finish(self, marks: TurnMarksMs, *, late_frames: int = 0, echo_guard_drops: int = 0) -> None:
        """The turn's steps as child spans, its latencies as metrics, one log line; ends the span."""
        attributes = {names.ATTR_AGENT: self.agent}
        steps = (
            (names.SPAN_END_OF_TURN, 0.0, marks.end_of_turn),
            (names.SPAN_STT, marks.end_of_turn or 0.0, marks.stt_final),
            (names.SPAN_TTS, marks.first_sentence, marks.tts_first_audio),
            (names.SPAN_FIRST_FRAME, marks.tts_first_audio, marks.first_frame_out),
        )
        for name, start, end in steps:
            start_ns, end_ns = self.at(start), self.at(end)
            if start_ns is not None and end_ns is not None:
                spans.interval(name, self.span, start_ns, end_ns)
        for histogram, value in (
            (meters.voice_to_voice, marks.first_frame_out),
            (meters.end_of_turn, marks.end_of_turn),
            (meters.stt_final, marks.stt_final),
            (meters.llm_first_token, marks.llm_first_token),
            (meters.tts_first_audio, marks.tts_first_audio),
        ):
            if value is not None:
                histogram.record(value, attributes)
        if late_frames:
            meters.late_frames.add(late_frames, attributes)
        if echo_guard_drops:
            meters.echo_guard_drops.add(echo_guard_drops, attributes)
        self.span.set_attribute(names.ATTR_AGENT, self.agent)
        if marks.first_frame_out is not None:
            self.span.set_attribute(names.VOICE_TO_VOICE, marks.first_frame_out)
        self.span.end(end_time=self.at(marks.first_frame_out))
        log.info("turn %d (%s agent) answered: %s", self.number, self.agent, describe_turn(marks))


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def describe_turn(marks: TurnMarksMs) -> str:
    if marks.first_frame_out is None:
        head = "no audio out"
    else:
        head = f"voice-to-voice {_ms(marks.first_frame_out)} ms"
    llm = "" if marks.llm_first_token is None else f", llm first token {_ms(marks.llm_first_token)}"
    tts = _ms(marks.tts_first_audio)
    return f"{head} (end of turn {_ms(marks.end_of_turn)}, stt {_ms(marks.stt_final)}{llm}, tts {tts})"


def barge_in(onset_ms_ago: float) -> None:
    """The caller spoke over the bot; StopAudio has just been sent `onset_ms_ago` after their onset."""
    meters.barge_in_latency.record(onset_ms_ago)
    with spans.step(names.SPAN_BARGE_IN, {names.BARGE_IN_LATENCY: round(onset_ms_ago, 1)}):
        pass
    log.info("barge-in: StopAudio %.0f ms after the caller started speaking", onset_ms_ago)


def continuation() -> None:
    """The caller went on right after their turn ended: its answer was stopped and taken back."""
    meters.continuations.add(1)
    log.info("continuation: the caller went on, the answer under way was taken back")


def media_session_ended(
    span: Span, *, frames_in: int, frames_out: int, late_frames: int, turns: int, barge_ins: int
) -> None:
    """What the media session did, on its `call.media` span and in one log line."""
    span.set_attributes(
        {
            names.ATTR_FRAMES_IN: frames_in,
            names.ATTR_FRAMES_OUT: frames_out,
            names.ATTR_LATE_FRAMES: late_frames,
            names.ATTR_TURNS: turns,
            names.ATTR_BARGE_INS: barge_ins,
        }
    )
    log.info(
        "media session ended: %d frames in, %d out (%d late), %d turn(s), %d barge-in(s)",
        frames_in,
        frames_out,
        late_frames,
        turns,
        barge_ins,
    )


def frame_dropped() -> None:
    meters.frames_dropped.add(1)


def session_failed() -> None:
    meters.sessions_failed.add(1)


@contextmanager
def llm_round(attempt: int) -> Iterator[Span]:
    """One streamed completion; `attempt` counts the models tried before it in this round (0: first)."""
    with spans.step(names.SPAN_LLM_ROUND, {names.ATTR_ATTEMPT: attempt}) as span:
        yield span


def model_failed(model: str, reason: str) -> None:
    kind = "timeout" if "no answer within" in reason else "empty" if "empty answer" in reason else "error"
    attributes = {names.ATTR_MODEL: model, names.ATTR_FAILURE: kind}
    meters.model_failures.add(1, attributes)
    trace.get_current_span().add_event(names.EVENT_MODEL_FAILED, attributes)  # on the LLM round, if any


def fell_back(from_model: str, to: str) -> None:
    """A turn moved on from `from_model` to the next model, or to the form agent (`to="form"`)."""
    meters.model_fallbacks.add(1, {names.ATTR_MODEL: from_model, names.ATTR_FALLBACK_TO: to})


def tokens(model: str, prompt: int | None, completion: int | None) -> None:
    for kind, count in (("prompt", prompt), ("completion", completion)):
        if count:
            meters.llm_tokens.add(count, {names.ATTR_MODEL: model, names.ATTR_TOKEN_TYPE: kind})


@contextmanager
def tool_call(name: str) -> Iterator[Span]:
    with spans.step(names.SPAN_TOOL, {names.ATTR_TOOL: name}) as span:
        yield span


def tool_done(name: str, ok: bool, result: str) -> None:
    log.info("tool %s %s: %s", name, "done" if ok else "refused", result[:160])


@contextmanager
def transfer() -> Iterator[Span]:
    with spans.step(names.SPAN_TRANSFER) as span:
        yield span


@contextmanager
def sms(kind: str) -> Iterator[Span]:
    with spans.step(names.SPAN_SMS, {names.ATTR_SMS_KIND: kind}) as span:
        yield span


def call_ended(call: Call, outcome: str) -> None:
    """Once per call, when it is finished (its post-call job enqueued)."""
    attributes = {
        names.ATTR_OUTCOME: outcome,
        names.ATTR_DIRECTION: str(call.direction),
        names.ATTR_AGENT: str(call.agent) if call.agent else "none",
    }
    meters.calls.add(1, attributes)
    trace.get_current_span().set_attribute(names.ATTR_OUTCOME, outcome)
    log.info("call ended: %s, %d turn(s)", outcome, len(call.turns))
