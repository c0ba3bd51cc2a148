"""Azure AI Translator (Text v3.0 `translate`) on loopback: a test double at the protocol boundary.

It checks each request the way the service does and answers in its wire format, so the project's
tests drive the real adapter (`shared.translation.azure_translator`) against it:

- `POST /translate` (the global endpoint) and `POST /translator/text/v3.0/translate` (a resource's
  custom endpoint);
- query: `api-version=3.0` (else 400021), `to` a known language (400036), `from` known when given
  (400035), `textType` `plain` or `html` (400071);
- headers: `Ocp-Apim-Subscription-Key` equal to the server's key, or `Authorization: Bearer <token>`
  equal to its token (else 401000); `Ocp-Apim-Subscription-Region` when the server has a region
  (401000); `Content-Type: application/json` (415000);
- body: a JSON array (400074) of objects with a string `Text` (400020), at most 1,000 of them (400072)
  and 50,000 characters in all (400077);
- answer: `[{"translations": [{"text": ..., "to": ...}]}]` in order, `X-requestid` and
  `X-metered-usage`; an error is `{"error": {"code": <six digits>, "message": ...}}`.

Translation: with `textType=html`, a `<span class="notranslate">` is kept as written and the rest is
translated; with `plain`, braces are words like any other (a `{name}` comes back as `{ name }`, as a
real engine often writes it). A text whose words (spans as `{...}`) are in the server's `glossary`
for the target gets the glossary's sentence, spans put back where it places them; any other text
gets `[<to>] ` in front, so a test tells translated words from English ones.

In tests: `with TranslatorServer(key="k", region="westeurope") as server:` then
`AzureTranslator(server.endpoint, key="k", region="westeurope")`; `server.requests` lists what was
asked; `server.fail_with(503, 503000, "...")` and `server.delay_sec` make it fail or slow.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Self

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from local.threaded_server import Background, ThreadedServer

LANGUAGES: Final = frozenset({"en", "fr", "de", "es", "it", "pt", "pt-pt", "nl", "ja", "zh-Hans", "zh-Hant"})
MAX_ELEMENTS: Final = 1_000
MAX_CHARS: Final = 50_000
_SPAN: Final = re.compile(r'<span class="notranslate">(.*?)</span>', re.DOTALL)
_BRACES: Final = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
Problem = tuple[int, int, str]  # HTTP status, the service's six-digit code, its message


@dataclass
class TranslatorRequest:
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class TranslatorState:
    key: str | None = None
    token: str | None = None
    region: str | None = None
    glossary: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # to -> English -> text
    requests: list[TranslatorRequest] = field(default_factory=list)
    failure: Problem | None = None
    delay_sec: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _translate_html(text: str, to: str, glossary: Mapping[str, str]) -> str:
    kept: list[str] = []

    def hold(match: re.Match[str]) -> str:
        kept.append(match.group(1))
        return f"\x00{len(kept) - 1}\x00"

    held = _SPAN.sub(hold, text)
    words = html.unescape(re.sub(r"<[^>]+>", "", held))
    template = re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], words)
    return _rewrap(glossary.get(template, f"[{to}] {template}"), kept)


def _rewrap(text: str, kept: list[str]) -> str:
    """The translated words escaped as HTML, each kept span put back as it was sent."""
    out: list[str] = []
    position = 0
    for match in _BRACES.finditer(text):
        if match.group(0) in kept:
            out.append(html.escape(text[position : match.start()], quote=False))
            out.append(f'<span class="notranslate">{match.group(0)}</span>')
            position = match.end()
    out.append(html.escape(text[position:], quote=False))
    return "".join(out)


def _translate_plain(text: str, to: str, glossary: Mapping[str, str]) -> str:
    translated = glossary.get(text, f"[{to}] {text}")
    return _BRACES.sub(lambda m: "{ " + m.group(1) + " }", translated)


class _Handler:
    def __init__(self, state: TranslatorState) -> None:
        self.state = state

    def _authorised(self, request: Request) -> bool:
        state = self.state
        headers = request.headers
        by_key = state.key is not None and headers.get("ocp-apim-subscription-key") == state.key
        by_token = state.token is not None and headers.get("authorization") == f"Bearer {state.token}"
        region_ok = state.region is None or headers.get("ocp-apim-subscription-region") == state.region
        return (by_key or by_token) and region_ok

    def _request_problem(self, request: Request, query: dict[str, list[str]]) -> Problem | None:
        """What the service refuses in the query and headers, in its order, or None."""
        targets = query.get("to", [])
        checks: list[tuple[bool, Problem]] = [
            (
                query.get("api-version") != ["3.0"],
                (400, 400021, "The API version parameter is missing or invalid."),
            ),
            (
                not self._authorised(request),
                (401, 401000, "The request isn't authorized because credentials are missing or invalid."),
            ),
            (
                not request.headers.get("content-type", "").lower().startswith("application/json"),
                (415, 415000, "The Content-Type header is missing or invalid."),
            ),
            (
                not targets or any(to not in LANGUAGES for to in targets),
                (400, 400036, 'The target language ("To" field) is missing or invalid.'),
            ),
            (
                any(source not in LANGUAGES for source in query.get("from", [])),
                (400, 400035, 'The source language ("From" field) isn\'t valid.'),
            ),
            (
                (query.get("textType") or ["plain"])[0] not in ("plain", "html"),
                (400, 400071, "The value isn't valid for TextType."),
            ),
        ]
        return next((problem for failed, problem in checks if failed), None)

    @staticmethod
    def _body_problem(body: Any, targets: int) -> Problem | None:
        if not isinstance(body, list):
            return 400, 400074, "The body of the request isn't valid JSON."
        if not all(isinstance(item, dict) and isinstance(item.get("Text"), str) for item in body):
            return 400, 400020, "One of the elements in the array of input text isn't valid."
        if len(body) > MAX_ELEMENTS:
            return 400, 400072, "The array of input text has too many elements."
        if sum(len(item["Text"]) for item in body) * targets > MAX_CHARS:
            return 400, 400077, "The maximum request size has been exceeded."
        return None

    async def translate(self, request: Request) -> Response:
        query = {name: request.query_params.getlist(name) for name in request.query_params}
        try:
            body: Any = json.loads(await request.body())
        except ValueError:
            body = None
        with self.state.lock:
            self.state.requests.append(TranslatorRequest(query, dict(request.headers), body))
            failure, delay = self.state.failure, self.state.delay_sec
        if delay:
            await asyncio.sleep(delay)
        targets = query.get("to", [])
        problem = self._request_problem(request, query) or self._body_problem(body, len(targets)) or failure
        if problem is not None:
            status, code, message = problem
            return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
        html_text = (query.get("textType") or ["plain"])[0] == "html"
        translate = _translate_html if html_text else _translate_plain
        results = [
            {
                "translations": [
                    {"text": translate(item["Text"], to, self.state.glossary.get(to, {})), "to": to}
                    for to in targets
                ]
            }
            for item in body
        ]
        characters = sum(len(item["Text"]) for item in body) * len(targets)
        headers = {"X-requestid": str(uuid.uuid4()), "X-metered-usage": str(characters)}
        return JSONResponse(results, headers=headers)


def build_app(state: TranslatorState) -> Starlette:
    handler = _Handler(state)
    paths = ("/translate", "/translator/text/v3.0/translate")
    return Starlette(routes=[Route(path, handler.translate, methods=["POST"]) for path in paths])


class TranslatorServer(Background):
    """The app under uvicorn in a background thread on loopback; a sync and async context manager."""

    def __init__(
        self,
        *,
        key: str | None = None,
        token: str | None = None,
        region: str | None = None,
        glossary: Mapping[str, Mapping[str, str]] | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.state = TranslatorState(key=key, token=token, region=region, glossary=glossary or {})
        self.host = host
        self._http = ThreadedServer(
            build_app(self.state), name="Translator stand-in", host=host, loop="asyncio", lifespan="off"
        )

    @property
    def endpoint(self) -> str:
        """A custom endpoint's base URL (`/translator/text/v3.0/translate` below it)."""
        return f"http://{self.host}:{self._http.port}"

    @property
    def requests(self) -> list[TranslatorRequest]:
        with self.state.lock:
            return list(self.state.requests)

    @property
    def delay_sec(self) -> float:
        return self.state.delay_sec

    @delay_sec.setter
    def delay_sec(self, value: float) -> None:
        self.state.delay_sec = value

    def fail_with(self, status: int, code: int, message: str) -> None:
        """Every request from now on gets this error (after its checks); `recover()` ends it."""
        self.state.failure = (status, code, message)

    def recover(self) -> None:
        self.state.failure = None

    def start(self, timeout: float = 10.0) -> Self:
        self._http.start(timeout)
        return self

    def stop(self) -> None:
        self._http.stop()
