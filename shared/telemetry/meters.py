"""The call center's metrics on the OpenTelemetry API: latency histograms (ms) and counters.

Recorded per turn, per call or per event, never per audio frame: the media loop keeps plain integer
counts (late frames, echo-guard drops) and reports their growth once per turn, so a process exporting
nothing pays nothing on its per-frame path.
"""

from __future__ import annotations

from opentelemetry import metrics

from shared.telemetry import names

LATENCY_BUCKETS_MS = (50, 100, 200, 300, 400, 500, 650, 800, 1000, 1300, 1600, 2000, 3000, 5000, 10000)
_meter = metrics.get_meter(names.INSTRUMENTATION)


def _histogram(name: str, description: str) -> metrics.Histogram:
    return _meter.create_histogram(
        name, unit="ms", description=description, explicit_bucket_boundaries_advisory=LATENCY_BUCKETS_MS
    )


voice_to_voice = _histogram(
    names.VOICE_TO_VOICE, "end of the caller's speech to the first bot audio frame out"
)
end_of_turn = _histogram(names.END_OF_TURN, "silence waited before the caller's turn was ended")
stt_final = _histogram(names.STT_FINAL, "end of the caller's speech to the final transcript")
llm_first_token = _histogram(names.LLM_FIRST_TOKEN, "end of the caller's speech to the model's first token")
tts_first_audio = _histogram(
    names.TTS_FIRST_AUDIO, "end of the caller's speech to the first synthesized audio"
)
barge_in_latency = _histogram(
    names.BARGE_IN_LATENCY, "onset of the caller's speech over the bot to StopAudio sent"
)
continuations = _meter.create_counter(
    names.CONTINUATIONS, unit="{turn}", description="turns taken back because the caller went on right after"
)
late_frames = _meter.create_counter(names.LATE_FRAMES, unit="{frame}", description="bot frames sent late")
echo_guard_drops = _meter.create_counter(
    names.ECHO_GUARD_DROPS, unit="{window}", description="VAD windows held as the bot's own echo"
)
frames_dropped = _meter.create_counter(
    names.FRAMES_DROPPED, unit="{message}", description="inbound media messages that were not the protocol"
)
sessions_failed = _meter.create_counter(
    names.SESSIONS_FAILED, unit="{call}", description="media sessions failed"
)
model_fallbacks = _meter.create_counter(
    names.MODEL_FALLBACKS, unit="{fallback}", description="a turn moved on to the next model or agent"
)
model_failures = _meter.create_counter(names.MODEL_FAILURES, unit="{failure}", description="model failures")
llm_tokens = _meter.create_counter(names.LLM_TOKENS, unit="{token}", description="LLM token usage")
calls = _meter.create_counter(names.CALLS, unit="{call}", description="calls ended, by outcome")
