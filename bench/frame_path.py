"""Benchmark: the media loop's per-frame path in CPU time, without sockets or other processes.

One CallSession (the production conversation over a local SQLite store) is fed ACS AudioData messages
directly, as `MediaHost` does after `websocket.receive()`, and the process CPU time per frame is
measured (CPU time, so other users of the machine matter less than to wall-clock lateness). The VAD is
a constant stub so the session's own work is what is measured. Three phases of `--frames` frames each:

- idle: the caller is silent, the bot too (parse, VAD windows, turn detection);
- over the bot: the bot is speaking (a long answer queued in playback) and every caller window is
  speech to the VAD but far under the bot's level, so the echo guard holds it (the level of each
  frame, the echo path, the held count);
- turn: the telemetry of one turn (`TurnTrace` start and finish, no exporter installed), per turn.

Each phase is repeated `--repeat` times; the best (least disturbed) run is printed, in us per frame.

    .venv/bin/python -m bench.frame_path [--frames 20000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from bench.common import machine
from local.speech_stubs import ScriptedStt, ToneTts, tone
from media_host.protocol import encode_audio_data, encode_audio_metadata
from media_host.session import CallSession
from shared.composition import build_services
from shared.conversation.engine import open_conversation
from shared.models import Call, CallDirection
from shared.settings import load_settings
from shared.speech.base import SpeechEngines

FRAME_BYTES = 640


class ConstantVad:
    """Every window has the same speech probability (the session's cost, not a VAD's)."""

    def __init__(self, probability: float) -> None:
        self.probability = probability

    def new_stream(self) -> ConstantVad:
        return self

    def speech_probability(self, frame: bytes) -> float:
        return self.probability

    def reset(self) -> None:
        return None


async def _session(data: Path, vad: ConstantVad) -> CallSession:
    services = build_services(load_settings(store={"sqlite": {"path": data / "calls.sqlite3"}}))
    call = await services.store.create(Call(caller_phone="+33612345678", direction=CallDirection.INBOUND))
    conversation = await open_conversation(services, call)
    sent: list[str] = []

    async def send(text: str) -> None:
        sent.append(text)

    return CallSession(conversation, SpeechEngines(vad=vad, stt=ScriptedStt(), tts=ToneTts()), send)


async def _frames(session: CallSession, messages: list[str]) -> float:
    start = time.process_time()
    for message in messages:
        await session._on_message(message)
    return (time.process_time() - start) / len(messages) * 1e6


async def _run(frames: int, repeat: int) -> dict[str, float]:
    silence = encode_audio_data(b"\x00\x00" * (FRAME_BYTES // 2), "2026-12-06T10:00:00Z", "4:+33612345678")
    quiet = encode_audio_data(b"\x00\x01" * (FRAME_BYTES // 2), "2026-12-06T10:00:00Z", "4:+33612345678")
    best = {"idle_us_per_frame": float("inf"), "over_bot_us_per_frame": float("inf")}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(repeat):
            idle = await _session(Path(folder), ConstantVad(0.0))
            await idle._on_message(encode_audio_metadata("sub"))
            best["idle_us_per_frame"] = min(
                best["idle_us_per_frame"], await _frames(idle, [silence] * frames)
            )
            speaking = await _session(Path(folder), ConstantVad(1.0))
            speaking.playback.enqueue(tone(frames * 20 + 5000))  # the bot talks through the whole phase
            player = asyncio.create_task(speaking.playback.run())
            await asyncio.sleep(0.05)  # its first frames are out: the echo guard has a level
            cost = await _frames(speaking, [quiet] * frames)
            player.cancel()
            await asyncio.gather(player, return_exceptions=True)
            best["over_bot_us_per_frame"] = min(best["over_bot_us_per_frame"], cost)
    best.update(_turn_cost(repeat))
    return best


def _turn_cost(repeat: int) -> dict[str, float]:
    try:
        from shared.telemetry.record import TurnMarksMs, TurnTrace  # noqa: PLC0415 (absent before telemetry)
    except ImportError:
        return {}
    marks = TurnMarksMs(500, 520, 530, 540, 600, 630)
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for number in range(2000):
            TurnTrace(number, speech_end_at=1.0, now=2.0, lang="en-US", agent="form").finish(marks)
        best = min(best, (time.process_time() - start) / 2000 * 1e6)
    return {"turn_telemetry_us_per_turn": best}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--frames", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import logging  # noqa: PLC0415

    logging.disable(logging.INFO)  # the turn lines would be timed too: the log's own cost is not ours
    result = asyncio.run(_run(args.frames, args.repeat))
    for name, value in result.items():
        print(f"{name:>28} {value:8.2f}")
    print(json.dumps({"benchmark": "frame_path", **result, "frames": args.frames, "machine": machine()}))


if __name__ == "__main__":
    main()
