"""Call media operations: play, recognize (DTMF), cancel.

Play: PlayStarted, then PlayCompleted after `play_duration_s` per source (scaled by the call's speed),
or PlayFailed when `config.play_fails`; a looped play lasts until cancelled. Recognize: collects the
caller's DTMF tones (sent before or during the operation with `sim.send_dtmf`) up to
`maxTonesToCollect` or a stop tone -> RecognizeCompleted `{recognitionType: "dtmf", dtmfResult: {tones}}`;
no tone before `initialSilenceTimeoutInSeconds` -> RecognizeFailed (speech is not simulated).
cancelAllMediaOperations: PlayCanceled / RecognizeCanceled for each running operation.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from local.acs_simulator.errors import bad_request
from local.acs_simulator.events import result_information
from local.acs_simulator.state import CallState, SimCall

if TYPE_CHECKING:
    from local.acs_simulator.switchboard import Switchboard

__all__ = ["TONE_NAMES", "MediaOperations"]

_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
TONE_NAMES = {
    **dict(zip("0123456789", _DIGITS, strict=True)),
    "*": "asterisk",
    "#": "pound",
    **{letter: letter.lower() for letter in "ABCD"},
}
"""DTMF characters -> the tone names of `dtmfResult.tones` and `stopTones`."""
_DEFAULT_INTER_TONE_S = 2.0


@dataclass(eq=False)
class _Operation:
    kind: Literal["Play", "Recognize"]
    operation_context: str | None
    callback_url: str | None
    task: asyncio.Task[Any] | None = field(default=None, repr=False)


class MediaOperations:
    def __init__(self, board: Switchboard) -> None:
        self.board = board
        self._running: dict[str, list[_Operation]] = {}

    def _begin(
        self, call_id: str, body: dict[str, Any], kind: Literal["Play", "Recognize"]
    ) -> tuple[SimCall, _Operation]:
        call = self.board.active(call_id)
        if call.state is not CallState.CONNECTED:
            raise bad_request(f"Cannot {kind.lower()} on a call that is {call.state.value}.")
        if body.get("interruptCallMediaOperation"):
            self.cancel_all(call)
        context = body.get("operationContext")
        url = body.get("operationCallbackUri")
        operation = _Operation(
            kind, context if isinstance(context, str) else None, url if isinstance(url, str) else None
        )
        self._running.setdefault(call.call_connection_id, []).append(operation)
        return call, operation

    def _event(self, call: SimCall, operation: _Operation, suffix: str, **fields: Any) -> None:
        self.board.callback(
            call,
            f"{operation.kind}{suffix}",
            url=operation.callback_url,
            operation_context=operation.operation_context,
            **fields,
        )

    def _done(self, call: SimCall, operation: _Operation) -> None:
        running = self._running.get(call.call_connection_id, [])
        with contextlib.suppress(ValueError):
            running.remove(operation)
        if not running:
            self._running.pop(call.call_connection_id, None)

    # Play.
    def play(self, call_id: str, body: dict[str, Any]) -> None:
        sources = body.get("playSources")
        if not isinstance(sources, list) or not sources:
            raise bad_request("'playSources' must be a non-empty list.")
        options = body.get("playOptions")
        loop = isinstance(options, dict) and bool(options.get("loop"))
        call, operation = self._begin(call_id, body, "Play")
        operation.task = self.board.spawn(self._play(call, operation, len(sources), loop))

    async def _play(self, call: SimCall, operation: _Operation, sources: int, loop: bool) -> None:
        try:
            self._event(call, operation, "Started")
            if loop:
                await asyncio.Event().wait()  # until cancelled
            await asyncio.sleep(self.board.scaled(call, self.board.config.play_duration_s * sources))
            if self.board.config.play_fails:
                result = result_information(400, 8535, "Action failed, file format is invalid.")
                self._event(call, operation, "Failed", result=result, failedPlaySourceIndex=0)
            else:
                self._event(call, operation, "Completed", result=result_information(200, 0))
        finally:
            self._done(call, operation)

    # Recognize.
    def recognize(self, call_id: str, body: dict[str, Any]) -> None:
        options = body.get("recognizeOptions")
        if not isinstance(options, dict):
            raise bad_request("'recognizeOptions' is required.")
        input_type = str(body.get("recognizeInputType") or "")
        raw_dtmf = options.get("dtmfOptions")
        dtmf: dict[str, Any] = raw_dtmf if isinstance(raw_dtmf, dict) else {}
        max_tones = int(dtmf.get("maxTonesToCollect") or 1)
        stop_tones = {str(tone).lower() for tone in dtmf.get("stopTones") or ()}
        initial = float(
            options.get("initialSilenceTimeoutInSeconds") or self.board.config.recognize_timeout_s
        )
        inter = float(dtmf.get("interToneTimeoutInSeconds") or _DEFAULT_INTER_TONE_S)
        call, operation = self._begin(call_id, body, "Recognize")
        accepts_dtmf = input_type.lower() in ("dtmf", "speechordtmf")
        operation.task = self.board.spawn(
            self._recognize(
                call,
                operation=operation,
                accepts_dtmf=accepts_dtmf,
                max_tones=max_tones,
                stop_tones=stop_tones,
                initial_s=initial,
                inter_tone_s=inter,
            )
        )

    async def _recognize(
        self,
        call: SimCall,
        *,
        operation: _Operation,
        accepts_dtmf: bool,
        max_tones: int,
        stop_tones: set[str],
        initial_s: float,
        inter_tone_s: float,
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.board.timeout(call, initial_s)
        tones: list[str] = []
        try:
            while True:
                while accepts_dtmf and call.dtmf_buffer:
                    tone = TONE_NAMES[call.dtmf_buffer.popleft()]
                    if tone in stop_tones:
                        self._recognized(
                            call, operation, tones, 8514, "Action completed, stop tone detected."
                        )
                        return
                    tones.append(tone)
                    if len(tones) >= max_tones:
                        self._recognized(
                            call, operation, tones, 8531, "Action completed, max digits received."
                        )
                        return
                    deadline = loop.time() + self.board.timeout(call, inter_tone_s)
                call.dtmf_arrived.clear()  # no await since the buffer was emptied: no tone is missed
                try:
                    await asyncio.wait_for(call.dtmf_arrived.wait(), max(0.0, deadline - loop.time()))
                except TimeoutError:
                    break
            if tones:
                message = "Action completed, inter-digit silence timeout reached."
                self._recognized(call, operation, tones, 8532, message)
            else:
                result = result_information(400, 8510, "Action failed, initial silence timeout reached.")
                self._event(call, operation, "Failed", result=result)
        finally:
            self._done(call, operation)

    def _recognized(
        self, call: SimCall, operation: _Operation, tones: list[str], sub_code: int, message: str
    ) -> None:
        self._event(
            call,
            operation,
            "Completed",
            result=result_information(200, sub_code, message),
            recognitionType="dtmf",
            dtmfResult={"tones": list(tones)},
        )

    # Cancel.
    def cancel_all(self, call: SimCall, *, notify: bool = True) -> None:
        """Cancel the call's running operations (PlayCanceled / RecognizeCanceled when `notify`)."""
        for operation in self._running.pop(call.call_connection_id, []):
            if operation.task is not None:
                operation.task.cancel()
            if notify:
                self._event(call, operation, "Canceled")

    def cancel_all_for(self, call_id: str) -> None:
        self.cancel_all(self.board.active(call_id))

    def drop(self, call: SimCall) -> None:
        """The call ended: its operations stop without events."""
        self.cancel_all(call, notify=False)
