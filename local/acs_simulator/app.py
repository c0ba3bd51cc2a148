"""The simulator's ASGI app: the ACS REST surface the SDKs call, the JWKS, and the /sim inspection API.

Call Automation (api-version required; paths and bodies as in the SDK's `_generated` operations):

    POST   /calling/callConnections                               create call        201 properties
    POST   /calling/callConnections:answer|:reject|:redirect      answer 200 properties; others 204
    GET    /calling/callConnections/{id}                          get call           200 properties
    DELETE /calling/callConnections/{id}                          hang up            204
    GET    /calling/callConnections/{id}/participants             participants       200 {"value": [...]}
    POST   /calling/callConnections/{id}:terminate                terminate          204
    POST   /calling/callConnections/{id}:transferToParticipant    transfer           202 {"operationContext"}
    POST   /calling/callConnections/{id}:play|:recognize|:cancelAllMediaOperations              202
    POST   /calling/callConnections/{id}:startMediaStreaming|:stopMediaStreaming                202
    POST   /calling/recordings                                    start recording    200 state
    GET    /calling/recordings/{id}                               recording state    200
    DELETE /calling/recordings/{id}                               stop recording     204
    POST   /calling/recordings/{id}:pause|:resume                                    202
SMS: `POST /sms` -> 202 per-recipient results. Every route above checks the HMAC-SHA256 signature
(401 `{"error": {"code": "Denied", ...}}` otherwise). Unknown ids -> 404 `{"error": {"code", "message"}}`.
Public: `GET /calling/keys` and `GET /.well-known/jwks.json` (the JWKS of the callback/websocket JWTs).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from local.acs_simulator.auth import check_hmac, decode_access_key
from local.acs_simulator.errors import AcsError, bad_request
from local.acs_simulator.sim_routes import sim_routes
from local.acs_simulator.softphone import softphone_routes
from local.acs_simulator.state import identifier
from local.acs_simulator.switchboard import Switchboard

__all__ = ["build_app"]

Body = dict[str, Any]
Handler = Callable[[Request, Body], Response]


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(AcsError(status, code, message).body(), status_code=status)


def _no_content(status: int = 204) -> Response:
    return Response(status_code=status)


class _AcsRoutes:
    def __init__(self, board: Switchboard) -> None:
        self.board = board

    def _secret(self) -> bytes:
        return decode_access_key(self.board.config.access_key)

    def endpoint(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """Authenticate (HMAC), require api-version, parse the JSON body, map AcsError to its JSON."""

        async def run(request: Request) -> Response:
            raw = await request.body()
            raw_path = request.scope.get("raw_path") or request.url.path.encode()
            reason = check_hmac(
                self._secret(),
                method=request.method,
                raw_path=raw_path.decode("latin-1"),
                query=request.scope.get("query_string", b"").decode("latin-1"),
                headers=request.headers,
                body=raw,
            )
            if reason is not None:
                return error_response(401, "Denied", f"Denied by the resource provider: {reason}.")
            if "api-version" not in request.query_params:
                return error_response(400, "MissingApiVersionParameter", "The api-version query is required.")
            try:
                body = json.loads(raw) if raw else {}
                if not isinstance(body, dict):
                    raise bad_request("The body must be a JSON object.")
                return handler(request, body)
            except AcsError as exc:
                return JSONResponse(exc.body(), status_code=exc.status)
            except ValueError as exc:  # bad JSON, bad numbers in a body
                return error_response(400, "BadRequest", str(exc))

        return run

    # Call connections.
    def create(self, _request: Request, body: Body) -> Response:
        return JSONResponse(self.board.create(body).properties(), status_code=201)

    def answer(self, _request: Request, body: Body) -> Response:
        return JSONResponse(self.board.answer(body).properties())

    def reject(self, _request: Request, body: Body) -> Response:
        self.board.reject(body)
        return _no_content()

    def redirect(self, _request: Request, body: Body) -> Response:
        self.board.redirect(body)
        return _no_content()

    def connection(self, request: Request, body: Body) -> Response:
        call_id, _, action = str(request.path_params["target"]).partition(":")
        call = self.board.active(call_id)
        if action and request.method == "POST":
            return self._action(call_id, action, body)
        if not action and request.method == "GET":
            return JSONResponse(call.properties())
        if not action and request.method == "DELETE":
            self.board.hang_up(call_id, for_everyone=False)
            return _no_content()
        return error_response(405, "MethodNotAllowed", f"{request.method} is not allowed here.")

    def _action(self, call_id: str, action: str, body: Body) -> Response:
        board = self.board
        if action == "terminate":
            board.hang_up(call_id, for_everyone=True)
            return _no_content()
        if action == "transferToParticipant":
            return JSONResponse({"operationContext": board.transfer(call_id, body)}, status_code=202)
        operations: dict[str, Callable[[str, Body], None]] = {
            "play": board.media.play,
            "recognize": board.media.recognize,
            "cancelAllMediaOperations": lambda call, _body: board.media.cancel_all_for(call),
            "startMediaStreaming": board.streams.start_media,
            "stopMediaStreaming": board.streams.stop_media,
        }
        operation = operations.get(action)
        if operation is None:
            return error_response(501, "NotImplemented", f"The simulator does not implement :{action}.")
        operation(call_id, body)
        return _no_content(202)

    def participants(self, request: Request, _body: Body) -> Response:
        call = self.board.active(str(request.path_params["target"]))
        value = [{"identifier": identifier(call.caller), "isMuted": False, "isOnHold": False}]
        return JSONResponse({"value": value})

    # Recordings.
    def start_recording(self, _request: Request, body: Body) -> Response:
        return JSONResponse(self.board.recorder.start(body).properties())

    def recording(self, request: Request, _body: Body) -> Response:
        recording_id, _, action = str(request.path_params["target"]).partition(":")
        recorder = self.board.recorder
        match (request.method, action):
            case ("GET", ""):
                return JSONResponse(recorder.get(recording_id).properties())
            case ("DELETE", ""):
                recorder.stop(recording_id)
                return _no_content()
            case ("POST", "pause"):
                recorder.pause(recording_id)
            case ("POST", "resume"):
                recorder.resume(recording_id)
            case _:
                recorder.get(recording_id)
                return error_response(501, "NotImplemented", f"The simulator does not implement {action!r}.")
        return _no_content(202)

    # SMS.
    def send_sms(self, _request: Request, body: Body) -> Response:
        return JSONResponse({"value": self.board.sms.send(body)}, status_code=202)

    # JWKS (public).
    async def jwks(self, _request: Request) -> Response:
        return JSONResponse(self.board.signer.jwks())


def build_app(
    board: Switchboard,
    *,
    lifespan: Callable[[Starlette], AbstractAsyncContextManager[None]] | None = None,
) -> Starlette:
    """The ASGI app around a switchboard."""
    acs = _AcsRoutes(board)
    wrap = acs.endpoint
    table: Mapping[str, tuple[Handler, list[str]]] = {
        "/calling/callConnections": (acs.create, ["POST"]),
        "/calling/callConnections:answer": (acs.answer, ["POST"]),
        "/calling/callConnections:reject": (acs.reject, ["POST"]),
        "/calling/callConnections:redirect": (acs.redirect, ["POST"]),
        "/calling/callConnections/{target}": (acs.connection, ["GET", "POST", "DELETE"]),
        "/calling/callConnections/{target}/participants": (acs.participants, ["GET"]),
        "/calling/recordings": (acs.start_recording, ["POST"]),
        "/calling/recordings/{target}": (acs.recording, ["GET", "POST", "DELETE"]),
        "/sms": (acs.send_sms, ["POST"]),
    }
    routes: list[BaseRoute] = [
        Route("/calling/keys", acs.jwks, methods=["GET"]),
        Route("/.well-known/jwks.json", acs.jwks, methods=["GET"]),
        *(Route(path, wrap(handler), methods=methods) for path, (handler, methods) in table.items()),
        *sim_routes(board),
        *softphone_routes(board),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
