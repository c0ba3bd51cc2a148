"""The one home of every span, metric, attribute and log field name the project emits.

Spans and metrics go through the OpenTelemetry API (`shared.telemetry.spans`, `shared.telemetry.meters`);
log records carry the log fields (`shared.telemetry.logs`). docs/observability.md lists them all and
shows how to query them in Application Insights.
"""

from __future__ import annotations

INSTRUMENTATION = "callcenter"

# spans: one part of a call per process invocation, linked to the span that answered or placed it
SPAN_ANSWER = "call.answer"  # function app: IncomingCall -> answered (inbound)
SPAN_PLACE = "call.place"  # function app: POST /call -> call created (outbound)
SPAN_EVENT = "call.event"  # function app: one ACS callback event applied (transfer, disconnect...)
SPAN_MEDIA = "call.media"  # media host: the websocket session of the call (its turns are children)
SPAN_TURN = "call.turn"  # media host: one caller turn, end of speech -> first frame out
SPAN_END_OF_TURN = "turn.end_of_turn"  # the silence waited before the turn was ended
SPAN_STT = "turn.stt"  # end of speech -> final transcript
SPAN_LLM_ROUND = "turn.llm_round"  # one streamed completion of the LLM agent
SPAN_TOOL = "turn.tool"  # one tool call (LLM or form agent)
SPAN_TTS = "turn.tts"  # synthesis of the turn's first sentence (to its first audio)
SPAN_FIRST_FRAME = "turn.first_frame"  # first audio ready -> first frame sent to the phone
SPAN_BARGE_IN = "call.barge_in"  # caller speech over the bot: StopAudio sent
SPAN_TRANSFER = "call.transfer"  # the assistant asked to transfer the call to a human
SPAN_SMS = "call.sms"  # one SMS sent to the caller (assistant tool or post-call summary)
SPAN_POST_CALL = "call.post_call"  # one post-call activity (synthesis, next action, SMS, reminders)
EVENT_MODEL_FAILED = "model_failed"  # span event on the LLM round: a model failed, the next one is tried

# span attributes
ATTR_CALL_ID = "call.id"
ATTR_CORRELATION_ID = "call.correlation_id"  # ACS correlation id: what Azure support asks for
ATTR_DIRECTION = "call.direction"
ATTR_AGENT = "call.agent"  # llm | form
ATTR_OUTCOME = "call.outcome"
ATTR_EVENT = "call.event_type"
ATTR_TURN = "turn.number"
ATTR_LANG = "turn.lang"
ATTR_TOOL = "tool.name"
ATTR_MODEL = "llm.model"
ATTR_ATTEMPT = "llm.attempt"  # models tried before this one in the round
ATTR_FALLBACK_TO = "fallback.to"  # next | form
ATTR_ACTIVITY = "post_call.activity"
ATTR_SMS_KIND = "sms.kind"  # assistant | summary | inbound
ATTR_FAILURE = "failure.kind"
ATTR_FRAMES_IN = "media.frames_in"  # on call.media: caller frames received (0: no audio ever came)
ATTR_FRAMES_OUT = "media.frames_out"  # bot frames sent
ATTR_LATE_FRAMES = "media.late_frames"
ATTR_TURNS = "call.turns"
ATTR_BARGE_INS = "call.barge_ins"
ATTR_TOKEN_TYPE = "llm.token_type"  # noqa: S105 (prompt | completion)

# metrics (histograms in milliseconds, counters)
VOICE_TO_VOICE = "callcenter.turn.voice_to_voice"  # end of caller speech -> first bot frame out
END_OF_TURN = "callcenter.turn.end_of_turn"
STT_FINAL = "callcenter.turn.stt"
LLM_FIRST_TOKEN = "callcenter.turn.llm_first_token"  # noqa: S105 (a metric name)
TTS_FIRST_AUDIO = "callcenter.turn.tts_first_audio"
BARGE_IN_LATENCY = "callcenter.barge_in.latency"  # caller speech onset -> StopAudio sent
CONTINUATIONS = "callcenter.turn.continuations"  # turns taken back: the caller went on right after
LATE_FRAMES = "callcenter.media.late_frames"
ECHO_GUARD_DROPS = "callcenter.media.echo_guard_drops"
FRAMES_DROPPED = "callcenter.media.frames_dropped"  # inbound messages that were not media protocol
SESSIONS_FAILED = "callcenter.media.sessions_failed"
MODEL_FALLBACKS = "callcenter.llm.fallbacks"  # a turn moved on to the next model
MODEL_FAILURES = "callcenter.llm.failures"  # a model failed (kind: error | timeout | all)
LLM_TOKENS = "callcenter.llm.tokens"
CALLS = "callcenter.calls"  # calls ended, by outcome

# log record fields (JSON lines; the text format shows the call id after the logger)
LOG_TIME = "time"
LOG_LEVEL = "level"
LOG_LOGGER = "logger"
LOG_CALL_ID = "call_id"
LOG_MESSAGE = "message"
LOG_EXCEPTION = "exception"
