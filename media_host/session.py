"""One phone call's media loop: caller frames -> 16 kHz -> VAD -> turns -> STT -> conversation ->
sentence-by-sentence TTS -> paced 20 ms frames out, with barge-in, echo guard and silence prompts.

The session owns every task it starts (player, watchdog, transcriptions, the agent turn) and cancels
them when the call's websocket closes; an error inside it ends this call only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from starlette.websockets import WebSocketDisconnect

from media_host.codec import AcsCodec, CallerAudio, Codec, FrameCounts, KeyPressed
from media_host.continuation import Continuation
from media_host.end_of_turn import TurnEnd, TurnEndPolicy
from media_host.heard import trim_unheard
from media_host.pause_answer import PauseAnswer
from media_host.tasks import TaskOwner
from media_host.turn_timing import TurnMarks, telemetry_marks, turn_latency
from media_host.turns import (
    Pause,
    Segment,
    SpeechStarted,
    TurnConfig,
    TurnDetector,
    TurnEnded,
    TurnEvent,
)
from media_host.voice import BotVoice
from shared.conversation.engine import Conversation
from shared.conversation.timing import TurnTiming
from shared.models import Call
from shared.speech.base import VAD_FRAME_BYTES, SpeechEngines, SpeechError
from shared.store.base import StoreError
from shared.telemetry import record, spans

log = logging.getLogger(__name__)

WATCHDOG_PERIOD_SEC = 0.5
LEAVING_GRACE_SEC = 5.0  # a turn that hung up or transferred the call gets this long to be stored


def _socket_gone(exc: Exception) -> bool:
    """Sending on a websocket the phone already closed (Starlette raises one of these)."""
    return isinstance(exc, WebSocketDisconnect) or (
        isinstance(exc, RuntimeError) and "websocket" in str(exc).lower()
    )


@dataclass
class SessionStats:
    frames: FrameCounts = field(default_factory=FrameCounts)  # the codec's counts
    turns: int = 0
    barge_ins: int = 0
    continuations: int = 0  # turns taken back because the caller went on
    errors: list[str] = field(default_factory=list)  # the task owner's failures

    @property
    def frames_in(self) -> int:
        return self.frames.frames_in

    @property
    def dropped(self) -> int:
        return self.frames.dropped


class CallSession:
    def __init__(
        self,
        conversation: Conversation,
        engines: SpeechEngines,
        send: Callable[[str], Awaitable[None]],
        *,
        codec: Codec | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.conversation = conversation
        self._codec: Codec = codec or AcsCodec(conversation.ctx.call.call_id)
        self.tasks = TaskOwner(f"call {conversation.ctx.call.call_id}", expected=_socket_gone)
        self._engines = engines
        self._send = send
        self._clock = clock
        flags = conversation.ctx.flags
        policy = TurnEndPolicy.from_flags(flags)
        self._turns = TurnDetector(
            TurnConfig(
                threshold=flags.vad_threshold,
                cutoff_ms=flags.vad_cutoff_timeout_ms,
                silence_ms=policy.longest_ms,
            )
        )
        self._turn_end = TurnEnd(policy, engines.turn_end)
        self._continuation = Continuation(flags.vad_continuation_window_ms, clock)
        self._vad = engines.vad.new_stream()
        self.stats = SessionStats(frames=self._codec.counts, errors=self.tasks.errors)
        self._vad_buffer = b""
        self.voice = BotVoice(conversation.ctx, engines.tts, self._codec, send, clock=clock)
        self.playback = self.voice.playback
        self._segments: list[asyncio.Task[str]] = []  # the turn's transcriptions (tasks of self.tasks)
        self._pause: tuple[int, asyncio.Task[str]] | None = None  # a speculative transcription
        self._agent: asyncio.Task[None] | None = None  # the greeting, a turn's answer or a prompt
        self._pause_answer = PauseAnswer(conversation, self.tasks, self.voice)  # an answer opened at a pause
        self._last_activity = clock()
        self._silence_prompts = 0
        self._closed = False
        self._reported = (0, 0)  # late frames and echo-guard drops already counted in telemetry
        conversation.ctx.drain = self._drain

    @property
    def idle(self) -> bool:
        """Nobody speaks and no answer is being prepared."""
        return not (self.playback.playing or self._turns.speaking or (self._agent and not self._agent.done()))

    @property
    def call(self) -> Call:
        return self.conversation.ctx.call

    # life cycle

    async def run(self, messages: AsyncIterator[str | bytes]) -> None:
        """Serve the call until the phone side closes the stream."""
        self.tasks.guarded(self.playback.run(), "player")
        self.tasks.guarded(self._watchdog(), "watchdog")
        self._agent = self.tasks.guarded(self.conversation.start(self.speak), "greeting")
        try:
            async for message in messages:
                await self._on_message(message)
        finally:
            await self.close()

    async def close(self) -> None:
        self._closed = True
        agent = self._agent
        if agent is not None and not agent.done() and self.conversation.ctx.outcome.leaving:
            await asyncio.wait({agent}, timeout=LEAVING_GRACE_SEC)  # store its goodbye, then tear down
        self._turn_end.close()
        self._pause_answer.drop()
        await self.tasks.close()
        self._segments.clear()
        await self._store_what_is_kept()

    async def _store_what_is_kept(self) -> None:
        """Changes the store could not take during the call (it was locked) are written now."""
        ctx = self.conversation.ctx
        for delay in (0.0, 1.0, 2.0, 4.0):
            await asyncio.sleep(delay)
            try:
                if await ctx.flush():
                    return
            except StoreError as exc:
                log.error("call %s: kept changes not stored: %s", self.call.call_id, exc)
                return
        log.error("call %s: %d change(s) could not be stored", self.call.call_id, len(ctx.unsaved))

    # inbound

    async def _on_message(self, message: str | bytes) -> None:
        if self._closed:  # replaced or ended: what comes in now is never answered nor stored
            return
        heard = self._codec.decode(message)
        if isinstance(heard, CallerAudio):
            await self._on_audio(heard.pcm)
        elif isinstance(heard, KeyPressed):
            self.tasks.guarded(self._on_dtmf(heard.tone), "dtmf")

    async def _on_audio(self, pcm: bytes) -> None:
        self._vad_buffer += pcm
        while len(self._vad_buffer) >= VAD_FRAME_BYTES:
            frame, self._vad_buffer = self._vad_buffer[:VAD_FRAME_BYTES], self._vad_buffer[VAD_FRAME_BYTES:]
            await self._on_vad_frame(frame)

    async def _on_vad_frame(self, frame: bytes) -> None:
        now = self._clock()
        events = self._turns.feed(
            frame,
            probability=self._vad.speech_probability(frame),
            echo_level_dbfs=self.playback.echo_level_dbfs(),  # None unless the bot speaks
            bot_speaking=self.playback.playing
            and not self._may_continue(now),  # no cutoff for a continuation
            now=now,
        )
        for event in events:
            await self._on_turn_event(event, now)
        if self._turns.all_cut and self._turn_end.ended(  # after this frame's events: its segment counts
            self._turns.silence_ms, self._segments, self.conversation.ctx.lang
        ):
            ended = self._turns.end_now()
            if ended is not None:
                await self._on_turn_event(ended, now)

    async def _on_turn_event(self, event: TurnEvent, now: float) -> None:
        self._last_activity = now
        if isinstance(event, SpeechStarted):
            self._silence_prompts = 0
            if self._may_continue(now):
                await self._continue_turn()
            elif event.barge_in:
                await self._barge_in(event.at)
            if not self._segments:
                self._turn_end.forget()
            self._pause_answer.drop()
        elif isinstance(event, Pause):
            if self._pause is not None:
                self._pause[1].cancel()  # the caller went on: that transcript is stale
            self._pause = (event.number, self.tasks.start(self._transcribe(event.pcm), "pause-stt"))
            self._turn_end.on_pause(event.pcm)
            self._pause_answer.start([*self._segments, self._pause[1]])
        elif isinstance(event, Segment):
            self._segments.append(self._transcription(event.pcm, event.pause))
            self._turn_end.on_segment(event.pcm)
        elif isinstance(event, TurnEnded):
            if event.pcm:
                self._segments.append(self._transcription(event.pcm, event.pause))
                self._turn_end.on_segment(event.pcm)
            segments, self._segments = self._segments, []
            self._continuation.turn_ended(now, segments)
            await self._start_turn(segments, event.speech_end_at, turn_end_at=now)

    def _transcription(self, pcm: bytes, pause: int | None) -> asyncio.Task[str]:
        """The transcript of a cut segment: the one started at the pause, when that was the same speech."""
        if self._pause is not None and self._pause[0] == pause:
            task, self._pause = self._pause[1], None
            return task
        return self.tasks.start(self._transcribe(pcm), "stt")

    async def _transcribe(self, pcm: bytes) -> str:
        try:
            return (await self._engines.stt.transcribe(pcm, lang=self.conversation.ctx.lang)).text
        except SpeechError as exc:
            log.warning("call %s: transcription failed: %s", self.call.call_id, exc)
            return ""

    async def _barge_in(self, confirmed_at: float) -> None:
        self.stats.barge_ins += 1
        await self._interrupt()
        onset_ms = self._turns.config.cutoff_ms  # speech confirmed `cutoff_ms` after its onset
        record.barge_in((self._clock() - confirmed_at) * 1000 + onset_ms)
        cuts = self.voice.cuts()
        if cuts:
            await self.conversation.ctx.save(lambda call: trim_unheard(call, cuts))

    def _may_continue(self, now: float) -> bool:
        """Speech now would continue the last turn: it ended moments ago and its answer is still
        being prepared or said."""
        answering = self.playback.playing or (self._agent is not None and not self._agent.done())
        return answering and self._continuation.open(now)

    async def _continue_turn(self) -> None:
        """The caller goes on right after their turn ended: stop and take back the answer, and
        carry the first part's transcripts into this utterance."""
        await self._interrupt()
        self._segments = await self._continuation.take_back(self.conversation.ctx)
        self.stats.continuations += 1
        record.continuation()

    async def _interrupt(self) -> None:
        """Stop what the bot says (StopAudio first: the priority lane) and cancel its turn. The cancel
        is requested before StopAudio goes out, so the turn cannot count the dropped audio as heard."""
        agent = self._agent if self._agent is not None and not self._agent.done() else None
        if agent is not None:
            agent.cancel()
        await self.playback.stop()
        if agent is not None:
            await asyncio.gather(agent, return_exceptions=True)

    def interim_transcript(self) -> str:
        """What the caller said so far in the turn in progress, as transcribed yet (the cut segments and
        the last pause's speculative transcript), for a live display such as the local softphone."""
        tasks = [*self._segments, *([self._pause[1]] if self._pause is not None else [])]
        texts = [t.result() for t in tasks if t.done() and not t.cancelled() and t.exception() is None]
        return " ".join(text.strip() for text in texts if text.strip())

    async def _on_dtmf(self, tone: str) -> None:
        """A key chooses the language (1 = first available, 2 = second...) when several are offered."""
        await self.conversation.ctx.key_pressed(tone)

    # the agent's turn

    async def _start_turn(
        self, segments: list[asyncio.Task[str]], speech_end_at: float, turn_end_at: float | None = None
    ) -> None:
        if self._closed:
            return
        if self._agent is not None and not self._agent.done():
            await self._interrupt()  # the caller spoke again before the answer came: answer the newest
        self.voice.new_answer()
        self._agent = self.tasks.guarded(self._turn(segments, speech_end_at, turn_end_at), "agent-turn")

    async def _turn(
        self, segments: list[asyncio.Task[str]], speech_end_at: float, turn_end_at: float | None = None
    ) -> None:
        texts = await asyncio.gather(*map(asyncio.shield, segments))  # a continuation may carry them on
        text = " ".join(t.strip() for t in texts if t.strip())
        stt_final = self._clock()
        speculation = await self._pause_answer.take()
        if not text:
            if speculation is not None:
                await speculation.discard()
            return
        self.stats.turns += 1
        self._continuation.answering(self.conversation.ctx)
        timing = TurnTiming()
        marks = TurnMarks()
        agent = self.call.agent
        trace = record.TurnTrace(
            self.stats.turns,
            speech_end_at=speech_end_at,
            now=self._clock(),
            lang=self.conversation.ctx.lang,
            agent=str(agent) if agent else None,
        )
        try:
            with spans.within(trace.span):
                await self.conversation.respond(text, self._speaker(marks), timing, speculation)
        finally:  # recorded by its own task: a barge-in cancelling this turn must not lose it
            recording = self._record_turn(speech_end_at, stt_final, timing, marks, turn_end_at, trace=trace)
            self.tasks.guarded(recording, "turn-record")

    def _speaker(self, marks: TurnMarks) -> Callable[[str], Awaitable[None]]:
        async def speak(sentence: str) -> None:
            await self.speak(sentence, marks)

        return speak

    async def speak(self, sentence: str, marks: TurnMarks | None = None) -> None:
        """Synthesize and queue one sentence; returns once the previous sentence has been played."""
        await self.voice.say(sentence, marks)

    async def _drain(self) -> None:
        await self._continuation.settled()  # a continuation could still take this turn back
        await self.voice.heard()

    async def _record_turn(
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
            late, echo = self.playback.late_frames, self._turns.echo_held
            trace.finish(
                telemetry_marks(latency),
                late_frames=late - self._reported[0],
                echo_guard_drops=echo - self._reported[1],
            )
            self._reported = (late, echo)

        def _append(call: Call) -> None:
            call.turns.append(latency)

        await self.conversation.ctx.save(_append)

    # silence

    async def _watchdog(self) -> None:
        flags = self.conversation.ctx.flags
        while not self.conversation.ended:
            await asyncio.sleep(WATCHDOG_PERIOD_SEC)
            busy = (
                self.playback.playing
                or self._turns.speaking
                or (self._agent is not None and not self._agent.done())
            )
            if busy:
                self._last_activity = self._clock()
                continue
            if (
                not flags.phone_silence_timeout_sec
                or self._clock() - self._last_activity < flags.phone_silence_timeout_sec
            ):
                continue
            self._last_activity = self._clock()
            self._silence_prompts += 1
            if self._silence_prompts > flags.recognition_retry_max:
                await self.conversation.give_up(self.speak)  # goodbye, then the call is hung up
                return
            self._agent = self.tasks.guarded(self.conversation.are_you_there(self.speak), "are-you-there")
