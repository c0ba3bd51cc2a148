"""A scripted OpenAI-compatible chat completion server: a test double at the protocol boundary.

It speaks the real wire format on loopback, so the project's tests and benchmarks drive the real
`openai` SDK against it:

- `POST /v1/chat/completions` (and `/chat/completions`): OpenAI style, the model is the body's `model`;
- `POST /openai/deployments/{deployment}/chat/completions?api-version=...`: Azure OpenAI style, the
  model is the deployment; streamed answers open with Azure's `choices: []` + `prompt_filter_results`
  chunk. When the server has an `api_key`, every route wants it in `api-key` or `Authorization: Bearer`.

Streaming (`stream: true`) answers `text/event-stream` chunks (`chat.completion.chunk`), text cut
into small word pieces, tool call arguments cut into fragments, then `data: [DONE]`; with
`stream_options.include_usage` a last chunk carries the usage. Otherwise a `chat.completion` JSON.

Serving rules: replies are consumed in order; a request takes the first reply that accepts it, the
most specific first: replies keyed to its model (`model:`), then replies with a `match:` (a
case-insensitive regex searched in the last user message), then plain ones. With no fitting reply,
the default text (if set) is answered and not consumed, else HTTP 500 "script exhausted".

YAML script (`--script FILE`, `ScriptedLlm.load_yaml`): a list of replies, or a mapping
`{default_text: "...", replies: [...]}`. Each reply has `text`, or one of the other kinds:

    - text: "Hello, how can I help you?"         # streamed token by token
      model: fast-model                          # optional: only for this model / deployment
      match: "bonjour|hello"                     # optional: regex on the last user message
      ttft_ms: 300                               # optional: delay before the first token
      inter_token_ms: 20                         # optional: delay between tokens
      finish_reason: length                      # optional (text replies): default "stop"
    - text: "Let me check."                      # optional text streamed before the calls
      tool_calls:                                # finish_reason "tool_calls"
        - {name: get_weather, arguments: {city: Paris}}
        - {name: broken, arguments: '{"city": "Par'}   # a string is sent verbatim (invalid JSON here)
    - error: {status: 429, retry_after: 2}       # also 400/500/503; optional message/type/code/param
    - content_filter: {category: violence, severity: high}   # Azure 400 code content_filter
    - hang: true                                 # never answers; when streaming, `text` is sent first
      text: "I was about to"                     # and the stream then stalls
    - broken: truncated                          # 200, then a broken stream after `text`: a chunk cut
      text: "Sure, let me"                       # short (truncated), of the wrong shape (shape) or
                                                 # not JSON at all (noise); no [DONE]

Run it: `python -m local.llm_server --script FILE --port N [--ttft-ms MS] [--inter-token-ms MS]`.
In tests: `with ScriptedLlmServer() as server:` (or `async with`), `server.script.add_text(...)`, then
`openai.AsyncOpenAI(base_url=server.base_url)` or `AsyncAzureOpenAI(azure_endpoint=server.azure_endpoint)`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from local.llm_script import Completion, ErrorSpec, Reply, ScriptedLlm, ToolCall, last_user_text, make_error
from local.threaded_server import Background, ThreadedServer

__all__ = ["RecordedRequest", "Reply", "ScriptedLlm", "ScriptedLlmServer", "ToolCall", "build_app", "main"]

_POLL_S = 0.05


@dataclass(frozen=True)
class RecordedRequest:
    """A chat completion request as received: route path, query string, JSON body, resolved model."""

    path: str
    query: str
    body: dict[str, Any]
    model: str
    azure: bool
    headers: dict[str, str] = field(default_factory=dict)


def _error_response(error: ErrorSpec) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers())


def _sse(payload: dict[str, Any] | str) -> str:
    data = (
        payload
        if isinstance(payload, str)
        else json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    )
    return f"data: {data}\n\n"


class _Handler:
    def __init__(
        self,
        script: ScriptedLlm,
        *,
        api_key: str | None,
        ttft_ms: float,
        inter_token_ms: float,
        requests: list[RecordedRequest],
        stopping: threading.Event,
    ) -> None:
        self.script, self.api_key, self.requests, self.stopping = script, api_key, requests, stopping
        self.ttft_ms, self.inter_token_ms = ttft_ms, inter_token_ms

    async def pause(self, milliseconds: float) -> bool:
        """Sleep, cut short when the server stops; False once it is stopping."""
        deadline = time.monotonic() + milliseconds / 1000
        while not self.stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return True
            await asyncio.sleep(min(remaining, _POLL_S))
        return False

    async def hang(self, request: Request | None) -> None:
        """Wait until the client goes away or the server stops."""
        while not self.stopping.is_set():
            if request is not None and await request.is_disconnected():
                return
            await asyncio.sleep(_POLL_S)

    def authorized(self, request: Request) -> bool:
        if self.api_key is None:
            return True
        bearer = request.headers.get("authorization", "")
        return request.headers.get("api-key") == self.api_key or bearer == f"Bearer {self.api_key}"

    async def handle(self, request: Request) -> Response:
        parsed = await self.parse(request)
        if isinstance(parsed, Response):
            return parsed
        body, model, azure = parsed
        user_text = last_user_text(body["messages"])
        reply = self.script.take(model, user_text)
        if reply is None:
            message = f"script exhausted: no scripted reply left for model {model!r} (last user message: "
            return _error_response(
                make_error(500, message=f"{message}{user_text!r})", code="script_exhausted")
            )
        return await self.answer(
            request, reply, Completion(reply, model, body, azure), bool(body.get("stream"))
        )

    async def parse(self, request: Request) -> Response | tuple[dict[str, Any], str, bool]:
        """Check and record the request: (body, model, azure), or the error response to send."""
        deployment = request.path_params.get("deployment")
        azure = deployment is not None
        if not self.authorized(request):
            return _error_response(make_error(401))
        if azure and "api-version" not in request.query_params:
            return _error_response(make_error(400, message="Missing required query parameter 'api-version'."))
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return _error_response(make_error(400, message="The body must be a JSON object with 'messages'."))
        model = str(deployment if azure else body.get("model", ""))
        headers = {k: v for k, v in request.headers.items() if k not in ("authorization", "api-key")}
        self.requests.append(
            RecordedRequest(request.url.path, request.url.query, body, model, azure, headers)
        )
        return body, model, azure

    async def answer(
        self, request: Request, reply: Reply, completion: Completion, streaming: bool
    ) -> Response:
        if reply.error is not None:
            return _error_response(reply.error)
        if reply.kind == "hang" and not (streaming and reply.text):
            await self.hang(request)
            return _error_response(make_error(503, message="The scripted server stopped while hanging."))
        if reply.breakage is not None and not streaming:
            return Response('{"id": "chatcmpl-broken", "choices": [{"mess', media_type="application/json")
        if streaming:
            events = self.stream(completion)
            return StreamingResponse(
                events, media_type="text/event-stream", headers={"cache-control": "no-cache"}
            )
        ttft, inter = self.timing(reply)
        await self.pause(ttft + inter * max(0, len(completion.deltas()) - 1))
        return JSONResponse(completion.message())

    def timing(self, reply: Reply) -> tuple[float, float]:
        ttft = self.ttft_ms if reply.ttft_ms is None else reply.ttft_ms
        inter = self.inter_token_ms if reply.inter_token_ms is None else reply.inter_token_ms
        return ttft, inter

    async def stream(self, completion: Completion) -> AsyncIterator[str]:
        if completion.azure:
            yield _sse(completion.azure_opening())
        ttft, inter = self.timing(completion.reply)
        if not await self.pause(ttft):
            return
        yield _sse(completion.chunk({"role": "assistant", "content": "", "refusal": None}))
        for index, delta in enumerate(completion.deltas()):
            if index and inter > 0 and not await self.pause(inter):
                return
            yield _sse(completion.chunk(delta))
        if completion.reply.kind == "hang":
            await self.hang(None)  # the client's disconnect cancels this stream
            return
        if completion.reply.breakage is not None:
            yield _BROKEN[completion.reply.breakage](completion)
            return
        yield _sse(completion.chunk({}, completion.finish_reason))
        if completion.include_usage:
            yield _sse(completion.chunk(None))
        yield _sse("[DONE]")


_BROKEN: dict[str, Callable[[Completion], str]] = {
    "truncated": lambda c: _sse(c.chunk({"content": "and then"}))[:-12] + "\n\n",
    "shape": lambda c: _sse({"id": c.id, "object": "chat.completion.chunk", "choices": "none", "delta": 7}),
    "noise": lambda _c: "data: \x07@@ \u00ff{[}\n\ndata: garbage]]\n\n",
}


def build_app(
    script: ScriptedLlm,
    *,
    api_key: str | None = None,
    ttft_ms: float = 0.0,
    inter_token_ms: float = 0.0,
    requests: list[RecordedRequest] | None = None,
    stopping: threading.Event | None = None,
) -> Starlette:
    """The ASGI app; `requests` receives every recorded request, `stopping` releases hanging ones."""
    handler = _Handler(
        script,
        api_key=api_key,
        ttft_ms=ttft_ms,
        inter_token_ms=inter_token_ms,
        requests=requests if requests is not None else [],
        stopping=stopping or threading.Event(),
    )
    paths = ("/v1/chat/completions", "/chat/completions", "/openai/deployments/{deployment}/chat/completions")
    return Starlette(routes=[Route(path, handler.handle, methods=["POST"]) for path in paths])


class ScriptedLlmServer(Background):
    """The app under uvicorn in a background thread on loopback; a sync and async context manager."""

    def __init__(
        self,
        script: ScriptedLlm | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        ttft_ms: float = 0.0,
        inter_token_ms: float = 0.0,
    ) -> None:
        self.script = script if script is not None else ScriptedLlm()
        self.host, self.port = host, port
        self.requests: list[RecordedRequest] = []
        self._stopping = threading.Event()
        app = build_app(
            self.script,
            api_key=api_key,
            ttft_ms=ttft_ms,
            inter_token_ms=inter_token_ms,
            requests=self.requests,
            stopping=self._stopping,
        )
        self._http = ThreadedServer(
            app, name="scripted LLM server", host=host, port=port, loop="asyncio", http="h11", lifespan="off"
        )

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def azure_endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> Self:
        self._http.start(timeout)
        self.port = self._http.port
        return self

    def stop(self) -> None:
        """Release hanging requests, then stop uvicorn and join its thread."""
        self._stopping.set()
        self._http.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.llm_server", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--script", type=Path, help="YAML script file (format: see this module's docstring)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--ttft-ms", type=float, default=0.0, help="server-wide time to first token")
    parser.add_argument("--inter-token-ms", type=float, default=0.0, help="server-wide delay between tokens")
    parser.add_argument("--api-key", default=None, help="key required in api-key or Authorization: Bearer")
    parser.add_argument("--default-text", default=None, help="answer when the script is exhausted")
    args = parser.parse_args(argv)
    script = ScriptedLlm(default_text=args.default_text)
    count = script.load_yaml(args.script) if args.script else 0
    server = ScriptedLlmServer(
        script,
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        ttft_ms=args.ttft_ms,
        inter_token_ms=args.inter_token_ms,
    )
    with server:
        print(
            f"Scripted LLM on {server.base_url} (Azure endpoint {server.azure_endpoint}), {count} replies",
            flush=True,
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("stopping", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
