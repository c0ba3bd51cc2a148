"""One turn's timing: the marks of its audio milestones, and their mapping to the latency breakdown the
call document keeps (`TurnLatency`) and to the turn's telemetry (`record.TurnMarksMs`), all in ms
after the end of the caller's speech; `TurnRecorder` stores and reports each turn of a call."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from shared.conversation.context import CallContext
from shared.conversation.timing import TurnTiming
from shared.models import Call, TurnLatency
from shared.telemetry import record

FIRST_FRAME_WAIT_SEC = 5.0


@dataclass
class TurnMarks:
    """Monotonic times of one turn's audio milestones."""

    tts: float | None = None
    frame: float | None = None
    queued: bool = False
    frame_sent: asyncio.Event = field(default_factory=asyncio.Event)

    def first_frame(self, at: float) -> None:
        self.frame = at
        self.frame_sent.set()

    async def settled(self) -> None:
        """Once the first frame is out, when the first sentence was queued (at most a few seconds)."""
        if self.queued:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.frame_sent.wait(), timeout=FIRST_FRAME_WAIT_SEC)


def turn_latency(
    speech_end_at: float,
    stt_final: float,
    timing: TurnTiming,
    marks: TurnMarks,
    turn_end_at: float | None = None,  # when the silence was long enough to end the turn
) -> TurnLatency:
    def ms(mark: float | None) -> float | None:
        return None if mark is None else round((mark - speech_end_at) * 1000, 1)

    return TurnLatency(
        end_of_turn_ms=ms(turn_end_at),
        stt_final_ms=ms(stt_final),
        llm_first_token_ms=ms(timing.first_token),
        first_sentence_ms=ms(timing.first_sentence),
        tts_first_audio_ms=ms(marks.tts),
        first_frame_out_ms=ms(marks.frame),
    )


def telemetry_marks(latency: TurnLatency) -> record.TurnMarksMs:
    return record.TurnMarksMs(
        latency.end_of_turn_ms,
        latency.stt_final_ms,
        latency.llm_first_token_ms,
        latency.first_sentence_ms,
        latency.tts_first_audio_ms,
        latency.first_frame_out_ms,
    )


class TurnRecorder:
    """One per call: each turn's latency stored on the call, and its telemetry trace finished with the
    late frames and echo-guard drops since the previous turn (`counters()`: the call's totals so far)."""

    def __init__(self, ctx: CallContext, counters: Callable[[], tuple[int, int]]) -> None:
        self._ctx = ctx
        self._counters = counters
        self._reported = (0, 0)  # late frames and echo-guard drops already counted in telemetry

    async def record(
        self,
        speech_end_at: float,
        stt_final: float,
        timing: TurnTiming,
        marks: TurnMarks,
        turn_end_at: float | None = None,  # when the silence was long enough to end the turn
        *,
        trace: record.TurnTrace | None = None,
    ) -> None:
        await marks.settled()  # the first sentence may be queued but not sent yet
        latency = turn_latency(speech_end_at, stt_final, timing, marks, turn_end_at)
        if trace is not None:
            late, echo = self._counters()
            trace.finish(
                telemetry_marks(latency),
                late_frames=late - self._reported[0],
                echo_guard_drops=echo - self._reported[1],
            )
            self._reported = (late, echo)

        def _append(call: Call) -> None:
            call.turns.append(latency)

        await self._ctx.save(_append)
