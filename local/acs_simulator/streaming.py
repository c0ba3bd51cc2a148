"""Media streaming: one `Phone` per call while its stream runs, and the MediaStreaming* callbacks.

The stream starts when the call connects with `startMediaStreaming: true`, or on `:startMediaStreaming`.
A connected websocket -> MediaStreamingStarted; a refused one -> MediaStreamingFailed
(`streamConnectionUnsuccessful`); `:stopMediaStreaming` -> MediaStreamingStopped; the bot closing the
socket while the call lasts -> MediaStreamingFailed (`streamConnectionInterrupted`). Each event carries
`mediaStreamingUpdate {contentType, mediaStreamingStatus, mediaStreamingStatusDetails}`.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from local.acs_simulator.errors import bad_request, optional_str
from local.acs_simulator.events import result_information
from local.acs_simulator.phone import Phone
from local.acs_simulator.state import SimCall, TimelineKind

if TYPE_CHECKING:
    from local.acs_simulator.switchboard import Switchboard

__all__ = ["MediaStreams"]


class MediaStreams:
    """The phones of the calls whose media stream runs; implements `PhoneHooks`."""

    def __init__(self, board: Switchboard) -> None:
        self.board = board
        self.phones: dict[str, Phone] = {}

    def start(self, call: SimCall, context: str | None = None, url: str | None = None) -> Phone:
        if call.media is None:
            raise bad_request("The call was set up without mediaStreamingOptions.")
        if call.call_connection_id in self.phones:
            raise bad_request("Media streaming is already started.")
        phone = Phone(
            call, call.media, self.board.signer.token, self, operation_context=context, callback_url=url
        )
        call.audio.sample_rate = phone.sample_rate
        self.phones[call.call_connection_id] = phone
        phone.start()
        return phone

    def detach(self, call: SimCall) -> Phone | None:
        """Forget the call's phone (the caller closes it)."""
        return self.phones.pop(call.call_connection_id, None)

    # REST operations.
    def start_media(self, call_id: str, body: dict[str, Any]) -> None:
        call = self.board.active(call_id)
        self.start(call, optional_str(body, "operationContext"), optional_str(body, "operationCallbackUri"))

    def stop_media(self, call_id: str, body: dict[str, Any]) -> None:
        phone = self.detach(self.board.active(call_id))
        if phone is None:
            raise bad_request("Media streaming is not started.")
        phone.stop_requested = True
        phone.operation_context = optional_str(body, "operationContext") or phone.operation_context
        phone.callback_url = optional_str(body, "operationCallbackUri") or phone.callback_url
        self.board.spawn(phone.aclose())

    # PhoneHooks.
    def _event(self, phone: Phone, event_type: str, status: str, details: str, code: int = 200) -> None:
        update = {
            "contentType": "Audio",
            "mediaStreamingStatus": status,
            "mediaStreamingStatusDetails": details,
        }
        self.board.callback(
            phone.call,
            event_type,
            url=phone.callback_url,
            operation_context=phone.operation_context,
            result=result_information(code, 0, details),
            mediaStreamingUpdate=update,
        )

    def _forget(self, phone: Phone) -> None:
        if self.phones.get(phone.call.call_connection_id) is phone:
            del self.phones[phone.call.call_connection_id]

    def media_started(self, phone: Phone) -> None:
        phone.call.media_state = "active"
        phone.call.mark(TimelineKind.MEDIA_CONNECTED)
        self._event(phone, "MediaStreamingStarted", "mediaStreamingStarted", "subscriptionStarted")

    def media_failed(self, phone: Phone, reason: str) -> None:
        self._forget(phone)
        call = phone.call
        call.protocol_errors.append(f"media websocket: {reason}")
        if not call.ended:
            call.media_state = "inactive"
            self._event(
                phone, "MediaStreamingFailed", "mediaStreamingFailed", "streamConnectionUnsuccessful", 500
            )

    def media_ended(self, phone: Phone) -> None:
        self._forget(phone)
        call = phone.call
        call.mark(TimelineKind.MEDIA_DISCONNECTED)
        if call.ended:
            return
        call.media_state = "inactive"
        if phone.stop_requested:
            self._event(phone, "MediaStreamingStopped", "mediaStreamingStopped", "subscriptionStopped")
        else:
            self._event(
                phone, "MediaStreamingFailed", "mediaStreamingFailed", "streamConnectionInterrupted", 500
            )

    async def aclose(self) -> None:
        phones = list(self.phones.values())
        self.phones.clear()
        with contextlib.suppress(Exception):
            await asyncio.gather(*(phone.aclose() for phone in phones), return_exceptions=True)
