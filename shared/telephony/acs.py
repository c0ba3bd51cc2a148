"""Telephony over Azure Communication Services Call Automation (`azure-communication-callautomation`).

The same adapter drives the local ACS simulator: the endpoint and the key are passed separately
(a connection string would force https), so an `http://127.0.0.1` endpoint works.
"""

from __future__ import annotations

from azure.communication.callautomation import (
    AudioFormat,
    MediaStreamingAudioChannelType,
    MediaStreamingContentType,
    MediaStreamingOptions,
    PhoneNumberIdentifier,
    RecordingChannel,
    RecordingContent,
    RecordingFormat,
    StreamingTransportType,
    TextSource,
)
from azure.communication.callautomation.aio import CallAutomationClient
from azure.core.credentials import AzureKeyCredential
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import AzureError, ResourceNotFoundError

from shared.models import Call
from shared.telephony.base import CallLeg, CallRoute, TelephonyError

AUDIO_FORMATS = {"Pcm16KMono": AudioFormat.PCM16_K_MONO, "Pcm24KMono": AudioFormat.PCM24_K_MONO}


class AcsTelephony:
    def __init__(
        self,
        endpoint: str,
        *,
        access_key: str | None = None,
        credential: AsyncTokenCredential | None = None,
        audio_format: str = "Pcm16KMono",
        cognitive_services_endpoint: str | None = None,
    ) -> None:
        """`cognitive_services_endpoint`: the Azure AI services resource connected to ACS, which
        Call Automation's text-to-speech play needs (the media host speaks otherwise)."""
        self._cognitive_services_endpoint = cognitive_services_endpoint
        if access_key:
            self._client = CallAutomationClient(endpoint, AzureKeyCredential(access_key))
        else:
            if credential is None:
                from azure.identity.aio import DefaultAzureCredential  # noqa: PLC0415 (Entra ID only)

                credential = DefaultAzureCredential()
            self._client = CallAutomationClient(endpoint, credential)
        self._audio_format = AUDIO_FORMATS[audio_format]

    def _media(self, route: CallRoute) -> MediaStreamingOptions:
        return MediaStreamingOptions(
            transport_url=route.media_url,
            transport_type=StreamingTransportType.WEBSOCKET,
            content_type=MediaStreamingContentType.AUDIO,
            audio_channel_type=MediaStreamingAudioChannelType.MIXED,
            start_media_streaming=True,
            enable_bidirectional=True,
            audio_format=self._audio_format,
            enable_dtmf_tones=True,  # keys pressed reach the media host (language choice)
        )

    @staticmethod
    def _connection_id(call: Call) -> str:
        connection_id = call.connection.call_connection_id
        if not connection_id:
            raise TelephonyError(f"call {call.call_id} has no telephony connection")
        return connection_id

    async def answer(self, incoming_call_context: str, route: CallRoute) -> CallLeg:
        try:
            properties = await self._client.answer_call(
                incoming_call_context,
                route.callback_url,
                media_streaming=self._media(route),
                cognitive_services_endpoint=self._cognitive_services_endpoint,
            )
        except AzureError as exc:
            status_code = getattr(exc, "status_code", None)
            raise TelephonyError(f"answer failed: {exc}", status_code=status_code) from exc
        return CallLeg(
            call_connection_id=str(properties.call_connection_id),
            server_call_id=properties.server_call_id,
            correlation_id=properties.correlation_id,
        )

    async def create(self, target_phone: str, source_phone: str, route: CallRoute) -> CallLeg:
        try:
            properties = await self._client.create_call(
                PhoneNumberIdentifier(target_phone),
                route.callback_url,
                source_caller_id_number=PhoneNumberIdentifier(source_phone),
                media_streaming=self._media(route),
                cognitive_services_endpoint=self._cognitive_services_endpoint,
            )
        except AzureError as exc:
            raise TelephonyError(f"call to {target_phone} failed: {exc}") from exc
        return CallLeg(
            call_connection_id=str(properties.call_connection_id),
            server_call_id=properties.server_call_id,
            correlation_id=properties.correlation_id,
        )

    async def hang_up(self, call: Call) -> None:
        try:
            await self._client.get_call_connection(self._connection_id(call)).hang_up(is_for_everyone=True)
        except AzureError as exc:
            raise TelephonyError(f"hang up of call {call.call_id} failed: {exc}") from exc

    async def start_media_streaming(self, call: Call) -> None:
        try:
            await self._client.get_call_connection(self._connection_id(call)).start_media_streaming()
        except AzureError as exc:
            raise TelephonyError(f"media streaming of call {call.call_id} not restarted: {exc}") from exc

    async def connection_state(self, call: Call) -> str | None:
        try:
            connection = self._client.get_call_connection(self._connection_id(call))
            properties = await connection.get_call_properties()
        except ResourceNotFoundError:
            return None  # the service forgot the connection: the call is over
        except AzureError as exc:
            raise TelephonyError(f"state of call {call.call_id} unknown: {exc}") from exc
        state = properties.call_connection_state
        return str(getattr(state, "value", state) or "unknown").lower()

    async def transfer(self, call: Call, target_phone: str) -> None:
        try:
            await self._client.get_call_connection(self._connection_id(call)).transfer_call_to_participant(
                PhoneNumberIdentifier(target_phone), operation_context=f"transfer:{call.call_id}"
            )
        except AzureError as exc:
            raise TelephonyError(f"transfer of call {call.call_id} to {target_phone} failed: {exc}") from exc

    async def play_text(
        self,
        call: Call,
        text: str,
        *,
        lang: str,
        voice: str | None = None,
        operation_context: str | None = None,
    ) -> None:
        source = TextSource(text=text, source_locale=lang, voice_name=voice)
        try:
            await self._client.get_call_connection(self._connection_id(call)).play_media(
                source, operation_context=operation_context or f"play:{call.call_id}"
            )
        except AzureError as exc:
            raise TelephonyError(f"play on call {call.call_id} failed: {exc}") from exc

    async def start_recording(self, call: Call, *, state_callback_url: str | None = None) -> str:
        if not call.connection.server_call_id:
            raise TelephonyError(f"call {call.call_id} has no server call id to record")
        try:
            properties = await self._client.start_recording(  # audio only, one channel, WAV: ACS's
                server_call_id=call.connection.server_call_id,  # defaults are audio+video in mp4
                recording_state_callback_url=state_callback_url,
                recording_content_type=RecordingContent.AUDIO,
                recording_channel_type=RecordingChannel.MIXED,
                recording_format_type=RecordingFormat.WAV,
            )
        except AzureError as exc:
            raise TelephonyError(f"recording of call {call.call_id} failed to start: {exc}") from exc
        return str(properties.recording_id)

    async def stop_recording(self, recording_id: str) -> None:
        try:
            await self._client.stop_recording(recording_id)
        except AzureError as exc:
            raise TelephonyError(f"recording {recording_id} failed to stop: {exc}") from exc

    async def close(self) -> None:
        await self._client.close()
