"""The /sim inspection and control API (JSON, no authentication: loopback only), for a CLI or a browser.

GET  /sim                           endpoint, issuer, JWKS URL, audience, Event Grid URLs
GET  /sim/calls                     every call (summary)
GET  /sim/calls/{id}                one call: summary, timeline, its deliveries
POST /sim/calls/incoming            {"from", "to", "callerDisplayName"?}
                                    -> 201 {incomingCallContext, callConnectionId}
POST /sim/calls/{id}/say            {"pcm": "<base64 16 kHz PCM16LE>"}, {"wav": "/path.wav"} or
                                    {"text": "My name is John.", "lang"?: "en-US"} (spoken with the
                                    local voices) -> 202 {bytes, seconds}
POST /sim/calls/{id}/dtmf           {"tones": "12#"} -> 202
POST /sim/calls/{id}/hangup         the caller hangs up -> 202
                                    ({id} of say, dtmf, hangup: `latest` = the newest call still going)
GET  /sim/sms/outbox, /sim/sms/inbox
POST /sim/sms/inbound               {"from", "to", "message"} -> 201 {messageId}
GET  /sim/events                    every delivery (callbacks and Event Grid), oldest first
GET  /sim/recordings/{id}/content   the recording's WAV; /metadata its JSON
"""

from __future__ import annotations

import base64
import binascii
import inspect
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from local.acs_simulator.audio import load_speech
from local.acs_simulator.errors import AcsError, bad_request, require_str
from local.acs_simulator.state import SimCall, iso

if TYPE_CHECKING:
    from local.acs_simulator.switchboard import Switchboard

__all__ = ["sim_routes"]

Endpoint = Callable[[Request], Awaitable[Response]]
Handler = Callable[[Request, dict[str, Any]], Response | Awaitable[Response]]
MAX_SAY_CHARS = 500


def _json(handler: Handler) -> Endpoint:
    async def run(request: Request) -> Response:
        try:
            raw = await request.body()
            body = json.loads(raw) if raw else {}
            if not isinstance(body, dict):
                raise bad_request("The body must be a JSON object.")
            result = handler(request, body)
            return await result if inspect.isawaitable(result) else result
        except AcsError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        except (ValueError, OSError) as exc:
            return JSONResponse(bad_request(str(exc)).body(), status_code=400)

    return run


def _target(board: Switchboard, request: Request) -> SimCall:
    """The call named in the path, or with `latest` the newest call still going."""
    call_id = request.path_params["call_id"]
    if call_id != "latest":
        return board.get(call_id)
    live = [c for c in list(board.calls.values()) if not c.ended]
    if not live:
        raise AcsError(404, "NotFound", "No call is going on: ring the bot first.")
    return live[-1]


async def _say(board: Switchboard, request: Request, body: dict[str, Any]) -> Response:
    found = _target(board, request)
    if found.ended:
        raise AcsError(409, "Conflict", "This call has ended: ring the bot again.")
    rate = found.audio.sample_rate if found.media is None else found.media.sample_rate
    if "text" in body:
        text, lang = require_str(body, "text").strip(), body.get("lang", "en-US")
        if not text or len(text) > MAX_SAY_CHARS:
            raise bad_request(f"'text' must hold 1 to {MAX_SAY_CHARS} characters")
        if not isinstance(lang, str) or not 2 <= len(lang) <= 10:
            raise bad_request("'lang' must be a language code such as en-US or fr-FR")
        voice = board.config.caller_voice
        if voice is None:
            raise AcsError(501, "NotImplemented", "No caller voice here: send 'pcm' or 'wav' instead.")
        pcm = load_speech(await voice(text, lang), rate)
    elif isinstance(body.get("wav"), str):
        pcm = load_speech(body["wav"], rate)
    else:
        try:
            pcm = load_speech(base64.b64decode(require_str(body, "pcm"), validate=True), rate)
        except binascii.Error as exc:
            raise bad_request("'pcm' must be base64") from exc
    board.say(found.call_connection_id, pcm, rate)
    seconds = round(len(pcm) / 2 / rate, 2)
    return JSONResponse(
        {"bytes": len(pcm), "seconds": seconds, "callConnectionId": found.call_connection_id},
        status_code=202,
    )


def sim_routes(board: Switchboard) -> list[Route]:
    def info(_request: Request, _body: dict[str, Any]) -> Response:
        return JSONResponse(
            {
                "endpoint": board.endpoint,
                "issuer": board.signer.issuer,
                "jwksUrl": f"{board.endpoint}/calling/keys",
                "audience": board.signer.audience,
                "eventGridUrls": dict(board.config.event_grid_urls),
                "recordingsDir": str(board.recordings_dir),
            }
        )

    def calls(_request: Request, _body: dict[str, Any]) -> Response:
        return JSONResponse([call.summary() for call in list(board.calls.values())])

    def call(request: Request, _body: dict[str, Any]) -> Response:
        found = board.get(request.path_params["call_id"])
        deliveries = [
            d.to_json() for d in board.deliveries if d.call_connection_id == found.call_connection_id
        ]
        return JSONResponse({**found.summary(), "timeline": found.timeline_json(), "deliveries": deliveries})

    def incoming(_request: Request, body: dict[str, Any]) -> Response:
        display = body.get("callerDisplayName")
        ringing = board.ring(
            require_str(body, "from"), require_str(body, "to"), display if isinstance(display, str) else None
        )
        payload = {
            "incomingCallContext": ringing.incoming_call_context,
            "callConnectionId": ringing.call_connection_id,
        }
        return JSONResponse(payload, status_code=201)

    async def say(request: Request, body: dict[str, Any]) -> Response:
        return await _say(board, request, body)

    def dtmf(request: Request, body: dict[str, Any]) -> Response:
        board.send_dtmf(_target(board, request).call_connection_id, require_str(body, "tones"))
        return Response(status_code=202)

    def hangup(request: Request, _body: dict[str, Any]) -> Response:
        board.hang_up_as_caller(_target(board, request).call_connection_id)
        return Response(status_code=202)

    def outbox(_request: Request, _body: dict[str, Any]) -> Response:
        return JSONResponse([sms.to_json() for sms in list(board.sms.outbox)])

    def inbox(_request: Request, _body: dict[str, Any]) -> Response:
        return JSONResponse([sms.to_json() for sms in list(board.sms.inbox)])

    def inbound_sms(_request: Request, body: dict[str, Any]) -> Response:
        sms = board.sms.receive(
            require_str(body, "from"), require_str(body, "to"), require_str(body, "message")
        )
        return JSONResponse({"messageId": sms.message_id}, status_code=201)

    def events(_request: Request, _body: dict[str, Any]) -> Response:
        return JSONResponse([delivery.to_json() for delivery in list(board.deliveries)])

    def recording_content(request: Request, _body: dict[str, Any]) -> Response:
        recording = board.recorder.get(request.path_params["recording_id"])
        if recording.path is None or not recording.path.exists():
            raise AcsError(404, "NotFound", "The recording has no file yet (stop it first).")
        return FileResponse(recording.path, media_type="audio/wav")

    def recording_metadata(request: Request, _body: dict[str, Any]) -> Response:
        recording = board.recorder.get(request.path_params["recording_id"])
        return JSONResponse(
            {
                **recording.properties(),
                "callConnectionId": recording.call_connection_id,
                "serverCallId": recording.server_call_id,
                "startTime": iso(recording.started_at),
                "path": None if recording.path is None else str(recording.path),
            }
        )

    table: list[tuple[str, Handler, str]] = [
        ("/sim", info, "GET"),
        ("/sim/calls", calls, "GET"),
        ("/sim/calls/incoming", incoming, "POST"),
        ("/sim/calls/{call_id}", call, "GET"),
        ("/sim/calls/{call_id}/say", say, "POST"),
        ("/sim/calls/{call_id}/dtmf", dtmf, "POST"),
        ("/sim/calls/{call_id}/hangup", hangup, "POST"),
        ("/sim/sms/outbox", outbox, "GET"),
        ("/sim/sms/inbox", inbox, "GET"),
        ("/sim/sms/inbound", inbound_sms, "POST"),
        ("/sim/events", events, "GET"),
        ("/sim/recordings/{recording_id}/content", recording_content, "GET"),
        ("/sim/recordings/{recording_id}/metadata", recording_metadata, "GET"),
    ]
    return [Route(path, _json(handler), methods=[method]) for path, handler, method in table]
