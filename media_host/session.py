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
from media_host.pause_answer import PauseAnswer
from media_host.silence import Silence, SilenceWatch
from media_host.tasks import TaskOwner
from media_host.transcripts import TurnTranscripts
from media_host.turn_timing import TurnMarks, TurnRecorder
from media_host.turns import Pause, Segment, SpeechStarted, TurnConfig, TurnDetector, TurnEnded, TurnEvent
from media_host.voice import BotVoice
from shared.conversation.engine import Conversation
from shared.conversation.timing import TurnTiming
from shared.models import Call
from shared.speech.base import VAD_FRAME_BYTES, SpeechEngines
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
        self._clock = clock
        ctx, flags = conversation.ctx, conversation.ctx.flags
        self._turns = TurnDetector(TurnConfig.from_flags(flags))
        self._turn_end = TurnEnd(TurnEndPolicy.from_flags(flags), engines.turn_end)
        self._continuation = Continuation(flags.vad_continuation_window_ms, clock)
        self._vad = engines.vad.new_stream()
        self._vad_buffer = b""
        self.stats = SessionStats(frames=self._codec.counts, errors=self.tasks.errors)
        self.voice = BotVoice(ctx, engines.tts, self._codec, send, clock=clock)
        self.playback = self.voice.playback
        self._words = TurnTranscripts(ctx, engines.stt, self.tasks)  # the turn in progress, transcribed
        self._agent: asyncio.Task[None] | None = None  # the greeting, a turn's answer or a prompt
        self._pause_answer = PauseAnswer(conversation, self.tasks, self.voice)  # an answer opened at a pause
        self._silence = SilenceWatch(flags, clock)
        self._recorder = TurnRecorder(ctx, lambda: (self.playback.late_frames, self._turns.echo_held))
        self._closed = False
        ctx.drain = self._drain

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
        self._words.clear()
        await self.conversation.ctx.store_kept()  # what the store could not take during the call

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
            self._turns.silence_ms, self._words.segments, self.conversation.ctx.lang
        ):
            ended = self._turns.end_now()
            if ended is not None:
                await self._on_turn_event(ended, now)

    async def _on_turn_event(self, event: TurnEvent, now: float) -> None:
        self._silence.activity(now, speech=isinstance(event, SpeechStarted))
        if isinstance(event, SpeechStarted):
            if self._may_continue(now):
                await self._continue_turn()
            elif event.barge_in:
                await self._barge_in(event.at)
            if not self._words.segments:
                self._turn_end.forget()
            self._pause_answer.drop()
        elif isinstance(event, Pause):
            so_far = self._words.paused(event.number, event.pcm)
            self._turn_end.on_pause(event.pcm)
            self._pause_answer.start(so_far)
        elif isinstance(event, Segment):
            self._words.cut(event.pcm, event.pause)
            self._turn_end.on_segment(event.pcm)
        elif isinstance(event, TurnEnded):
            if event.pcm:
                self._words.cut(event.pcm, event.pause)
                self._turn_end.on_segment(event.pcm)
            segments = self._words.take()
            self._continuation.turn_ended(now, segments)
            await self._start_turn(segments, event.speech_end_at, turn_end_at=now)

    async def _barge_in(self, confirmed_at: float) -> None:
        self.stats.barge_ins += 1
        await self._interrupt()
        onset_ms = self._turns.config.cutoff_ms  # speech confirmed `cutoff_ms` after its onset
        record.barge_in((self._clock() - confirmed_at) * 1000 + onset_ms)
        await self.voice.keep_only_heard()

    def _may_continue(self, now: float) -> bool:
        """Speech now would continue the last turn: it ended moments ago and its answer is still
        being prepared or said."""
        answering = self.playback.playing or (self._agent is not None and not self._agent.done())
        return answering and self._continuation.open(now)

    async def _continue_turn(self) -> None:
        """The caller goes on right after their turn ended: stop and take back the answer, and
        carry the first part's transcripts into this utterance."""
        await self._interrupt()
        self._words.carry(await self._continuation.take_back(self.conversation.ctx, self.voice.cuts()))
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
        """What the caller said so far in the turn in progress (for a live display: the softphone)."""
        return self._words.interim()

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
            await self._continuation.keep_heard(self.conversation.ctx, text)  # what a continuation took back
            recording = self._recorder.record(
                speech_end_at, stt_final, timing, marks, turn_end_at, trace=trace
            )
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

    # silence

    async def _watchdog(self) -> None:
        while not self.conversation.ended:
            await asyncio.sleep(WATCHDOG_PERIOD_SEC)
            silence = self._silence.check(idle=self.idle)
            if silence is Silence.GIVE_UP:
                await self.conversation.give_up(self.speak)  # goodbye, then the call is hung up
                return
            if silence is Silence.PROMPT:
                self._agent = self.tasks.guarded(self.conversation.are_you_there(self.speak), "are-you-there")
