"""The one home of metric names, and a tiny recorder (logs + in-process counters).

Exporters (Azure Monitor, OTLP) read the same names; the recorder keeps the code free of any SDK.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

log = logging.getLogger("callcenter.metrics")

TURN_STT_FINAL_MS = "call.turn.stt_final_ms"
TURN_LLM_FIRST_TOKEN_MS = "call.turn.llm_first_token_ms"  # noqa: S105 (a metric name)
TURN_FIRST_SENTENCE_MS = "call.turn.first_sentence_ms"
TURN_TTS_FIRST_AUDIO_MS = "call.turn.tts_first_audio_ms"
TURN_FIRST_FRAME_OUT_MS = "call.turn.first_frame_out_ms"
MEDIA_FRAMES_DROPPED = "media.frames_dropped"
MEDIA_BARGE_INS = "media.barge_ins"
MEDIA_SESSIONS_FAILED = "media.sessions_failed"


@dataclass
class Metrics:
    counters: Counter[str] = field(default_factory=Counter)
    last: dict[str, float] = field(default_factory=dict)

    def count(self, name: str, value: int = 1) -> None:
        self.counters[name] += value

    def observe(self, name: str, value: float, **attributes: str) -> None:
        self.last[name] = value
        log.debug("%s=%.1f %s", name, value, attributes)
