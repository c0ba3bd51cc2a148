"""The script of the scripted LLM server: an ordered queue of canned replies.

The YAML format and the serving rules are documented in `local.llm_server`. This module holds the
data model (`Reply`, `ToolCall`, `ErrorSpec`), the queue (`ScriptedLlm`) and the rendering of one
reply into OpenAI wire payloads (`Completion`: stream chunks, whole completion, error bodies).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

ReplyKind = Literal["text", "tool_calls", "error", "content_filter", "hang", "broken"]
Breakage = Literal["truncated", "shape", "noise"]
BREAKAGES: tuple[Breakage, ...] = ("truncated", "shape", "noise")

# status -> (type, code, message) of the error body, shaped like the OpenAI API's.
_ERROR_DEFAULTS: dict[int, tuple[str | None, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request (scripted error)."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided (scripted error)."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached (scripted error). Please try again later."),
    500: ("server_error", None, "The server had an error while processing your request (scripted error)."),
    503: (
        "server_error",
        None,
        "The engine is currently overloaded, please try again later (scripted error).",
    ),
}
_FILTER_CATEGORIES = ("hate", "jailbreak", "self_harm", "sexual", "violence")
_CONTENT_FILTER_MESSAGE = (
    "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. "
    "Please modify your prompt and retry. (scripted content filter)"
)
_TOKEN_RE = re.compile(r"\s*\S{1,5}|\s+")
_ARGUMENT_PIECE = 7


def split_tokens(text: str) -> list[str]:
    """Cut text into small word pieces (leading space kept) whose concatenation is exactly `text`."""
    return _TOKEN_RE.findall(text)


def split_arguments(arguments: str) -> list[str]:
    """Cut a tool call's argument text into several fragments, as a model streams them."""
    return [arguments[i : i + _ARGUMENT_PIECE] for i in range(0, len(arguments), _ARGUMENT_PIECE)]


def content_filter_results(flagged: str | None = None, severity: str = "medium") -> dict[str, Any]:
    """Azure's per-category verdicts; `flagged` names the category that tripped, if any."""
    results: dict[str, Any] = {}
    for category in _FILTER_CATEGORIES:
        hit = category == flagged
        if category == "jailbreak":
            results[category] = {"filtered": hit, "detected": hit}
        else:
            results[category] = {"filtered": hit, "severity": severity if hit else "safe"}
    return results


def _new_call_id() -> str:
    return f"call_{secrets.token_hex(12)}"


@dataclass(frozen=True)
class ToolCall:
    """One function call of a reply; `arguments` is the exact text sent (it may be invalid JSON)."""

    name: str
    arguments: str
    id: str = field(default_factory=_new_call_id)

    @classmethod
    def of(cls, name: str, arguments: Mapping[str, Any] | str, call_id: str | None = None) -> ToolCall:
        text = arguments if isinstance(arguments, str) else json.dumps(dict(arguments), ensure_ascii=False)
        return cls(name=name, arguments=text, id=call_id or _new_call_id())


@dataclass(frozen=True)
class ErrorSpec:
    """An HTTP error answered instead of a completion, with an OpenAI/Azure shaped body."""

    status: int
    message: str
    type: str | None = None
    code: str | None = None
    param: str | None = None
    retry_after: float | None = None
    innererror: Mapping[str, Any] | None = None

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "message": self.message,
            "type": self.type,
            "param": self.param,
            "code": self.code,
        }
        if self.innererror is not None:
            error["status"] = self.status
            error["innererror"] = dict(self.innererror)
        return {"error": error}

    def headers(self) -> dict[str, str]:
        return {} if self.retry_after is None else {"retry-after": f"{self.retry_after:g}"}


def make_error(
    status: int,
    *,
    message: str | None = None,
    type: str | None = None,
    code: str | None = None,
    param: str | None = None,
    retry_after: float | None = None,
) -> ErrorSpec:
    default_type, default_code, default_message = _ERROR_DEFAULTS.get(
        status, ("server_error", None, "Error.")
    )
    if status == 429 and retry_after is None:
        retry_after = 1
    return ErrorSpec(
        status=status,
        message=message or default_message,
        type=type or default_type,
        code=code or default_code,
        param=param,
        retry_after=retry_after,
    )


@dataclass(frozen=True)
class Reply:
    """One scripted answer. `model` and `match` restrict which requests it may serve."""

    kind: ReplyKind
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    error: ErrorSpec | None = None
    model: str | None = None
    match: re.Pattern[str] | None = None
    ttft_ms: float | None = None
    inter_token_ms: float | None = None
    finish_reason: str | None = None
    breakage: Breakage | None = None

    def accepts(self, model: str, user_text: str) -> bool:
        if self.model is not None and self.model != model:
            return False
        return self.match is None or self.match.search(user_text) is not None


class ScriptedLlm:
    """A thread-safe queue of replies, consumed in order by the server.

    `take` serves the first reply (in queue order) that accepts the request, the most specific first:
    replies keyed to the request's model, then replies with a `match`, then plain ones. When none
    fits, the default reply (if any) is served without being consumed; otherwise `take` returns None
    and the server answers 500.
    """

    def __init__(self, replies: Iterable[Reply] = (), *, default_text: str | None = None) -> None:
        self._lock = threading.Lock()
        self._queue: list[Reply] = list(replies)
        self.default_reply: Reply | None = None if default_text is None else Reply("text", text=default_text)

    def __len__(self) -> int:
        with self._lock:
            return len(self._queue)

    @property
    def pending(self) -> list[Reply]:
        with self._lock:
            return list(self._queue)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()

    def add(self, reply: Reply) -> Reply:
        with self._lock:
            self._queue.append(reply)
        return reply

    def add_text(
        self,
        text: str,
        *,
        model: str | None = None,
        match: str | None = None,
        ttft_ms: float | None = None,
        inter_token_ms: float | None = None,
        finish_reason: str | None = None,
    ) -> Reply:
        return self.add(
            Reply("text", text, (), None, model, _regex(match), ttft_ms, inter_token_ms, finish_reason)
        )

    def add_tool_calls(
        self,
        calls: Sequence[ToolCall | Mapping[str, Any]],
        *,
        text: str = "",
        model: str | None = None,
        match: str | None = None,
        ttft_ms: float | None = None,
        inter_token_ms: float | None = None,
    ) -> Reply:
        """Calls are `ToolCall`s or `{"name": ..., "arguments": {...} or "raw text", "id": optional}`."""
        parsed = tuple(call if isinstance(call, ToolCall) else _tool_call(call) for call in calls)
        if not parsed:
            raise ValueError("add_tool_calls needs at least one call")
        return self.add(
            Reply("tool_calls", text, parsed, None, model, _regex(match), ttft_ms, inter_token_ms)
        )

    def add_error(
        self,
        status: int,
        *,
        message: str | None = None,
        type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        retry_after: float | None = None,
        model: str | None = None,
        match: str | None = None,
    ) -> Reply:
        error = make_error(
            status, message=message, type=type, code=code, param=param, retry_after=retry_after
        )
        return self.add(Reply("error", error=error, model=model, match=_regex(match)))

    def add_content_filter(
        self,
        *,
        category: str = "violence",
        severity: str = "medium",
        message: str | None = None,
        model: str | None = None,
        match: str | None = None,
    ) -> Reply:
        if category not in _FILTER_CATEGORIES:
            raise ValueError(
                f"unknown content filter category {category!r}; expected one of {_FILTER_CATEGORIES}"
            )
        inner = {
            "code": "ResponsibleAIPolicyViolation",
            "content_filter_result": content_filter_results(category, severity),
        }
        error = ErrorSpec(
            400, message or _CONTENT_FILTER_MESSAGE, None, "content_filter", "prompt", None, inner
        )
        return self.add(Reply("content_filter", error=error, model=model, match=_regex(match)))

    def add_hang(
        self,
        *,
        partial_text: str = "",
        model: str | None = None,
        match: str | None = None,
        ttft_ms: float | None = None,
        inter_token_ms: float | None = None,
    ) -> Reply:
        """Never answer; when streaming, `partial_text` is sent first and the stream then stalls."""
        return self.add(Reply("hang", partial_text, (), None, model, _regex(match), ttft_ms, inter_token_ms))

    def add_broken(
        self,
        breakage: Breakage,
        *,
        partial_text: str = "",
        model: str | None = None,
        match: str | None = None,
    ) -> Reply:
        """Answer 200 and break the stream after `partial_text`: a JSON chunk cut short ("truncated"),
        a chunk of the wrong shape ("shape") or bytes that are not JSON ("noise"), then the stream ends."""
        if breakage not in BREAKAGES:
            raise ValueError(f"unknown breakage {breakage!r}; expected one of {BREAKAGES}")
        return self.add(Reply("broken", partial_text, model=model, match=_regex(match), breakage=breakage))

    def load_yaml(self, path: str | Path) -> int:
        """Append the replies of a YAML script file; returns how many were added."""
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        try:
            return self.load_data(data)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from exc

    def load_data(self, data: object) -> int:
        """Append parsed YAML/JSON replies: a list, or `{replies: [...], default_text: ...}`."""
        if isinstance(data, Mapping):
            unknown = set(data) - {"replies", "default_text"}
            if unknown:
                raise ValueError(f"unknown top-level keys {sorted(unknown)}")
            if data.get("default_text") is not None:
                self.default_reply = Reply("text", text=str(data["default_text"]))
            data = data.get("replies") or []
        if not isinstance(data, list):
            raise ValueError("a script is a list of replies")
        replies = [_reply_from_mapping(item, index) for index, item in enumerate(data)]
        for reply in replies:
            self.add(reply)
        return len(replies)

    def take(self, model: str, user_text: str) -> Reply | None:
        with self._lock:
            fits = [
                (r.model is None, r.match is None, i)
                for i, r in enumerate(self._queue)
                if r.accepts(model, user_text)
            ]
            return self._queue.pop(min(fits)[2]) if fits else self.default_reply


def _regex(pattern: str | None) -> re.Pattern[str] | None:
    return None if pattern is None else re.compile(pattern, re.IGNORECASE)


def _tool_call(data: Mapping[str, Any]) -> ToolCall:
    if not isinstance(data, Mapping) or not isinstance(data.get("name"), str):
        raise ValueError(f"a tool call needs a string 'name': {data!r}")
    arguments = data.get("arguments", {})
    if not isinstance(arguments, Mapping | str):
        raise ValueError(f"tool call arguments must be a mapping or a raw string: {arguments!r}")
    return ToolCall.of(data["name"], arguments, data.get("id"))


_REPLY_KEYS = frozenset(
    {
        "text",
        "tool_calls",
        "error",
        "content_filter",
        "hang",
        "model",
        "match",
        "ttft_ms",
        "inter_token_ms",
        "finish_reason",
        "broken",
    }
)


def _reply_from_mapping(item: object, index: int) -> Reply:
    if not isinstance(item, Mapping):
        raise ValueError(f"reply #{index}: expected a mapping, got {item!r}")
    unknown = set(item) - _REPLY_KEYS
    kinds = [key for key in ("error", "content_filter", "hang", "tool_calls", "broken") if item.get(key)]
    textless = bool(set(kinds) & {"error", "content_filter"}) and "text" in item
    if unknown or len(kinds) > 1 or textless or (not kinds and "text" not in item):
        raise ValueError(
            f"reply #{index}: needs `text`, or one of hang/tool_calls (optional `text`), or one of "
            f"error/content_filter (no `text`); unknown keys: {sorted(unknown)}, kinds: {kinds}"
        )
    scratch = ScriptedLlm()
    common: dict[str, Any] = {"model": item.get("model"), "match": item.get("match")}
    timing: dict[str, Any] = {"ttft_ms": item.get("ttft_ms"), "inter_token_ms": item.get("inter_token_ms")}
    text = str(item.get("text") or "")
    kind = kinds[0] if kinds else "text"
    if kind == "error":
        spec = item["error"] if isinstance(item["error"], Mapping) else {"status": item["error"]}
        options = _only(spec, "message", "type", "code", "param", "retry_after")
        return scratch.add_error(int(spec.get("status", 500)), **options, **common)
    if kind == "content_filter":
        spec = item["content_filter"] if isinstance(item["content_filter"], Mapping) else {}
        return scratch.add_content_filter(**_only(spec, "category", "severity", "message"), **common)
    if kind == "broken":
        return scratch.add_broken(item["broken"], partial_text=text, **common)
    if kind == "hang":
        return scratch.add_hang(partial_text=text, **common, **timing)
    if kind == "tool_calls":
        if not isinstance(item["tool_calls"], list):
            raise ValueError(f"reply #{index}: tool_calls must be a list")
        return scratch.add_tool_calls(item["tool_calls"], text=text, **common, **timing)
    return scratch.add_text(text, finish_reason=item.get("finish_reason"), **common, **timing)


def _only(spec: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {key: spec[key] for key in keys if key in spec}


# Wire rendering: one reply for one request, as stream deltas or as a whole completion.


def last_user_text(messages: object) -> str:
    for message in reversed(messages if isinstance(messages, list) else []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            return str(content or "")
    return ""


def _count_tokens(messages: object) -> int:
    if not isinstance(messages, list):
        return 0
    return sum(
        len(split_tokens(json.dumps(m.get("content"), ensure_ascii=False)))
        for m in messages
        if isinstance(m, dict)
    )


class Completion:
    """Renders one reply for one request, as chunks or as a whole completion."""

    def __init__(self, reply: Reply, model: str, body: dict[str, Any], azure: bool) -> None:
        self.reply, self.model, self.azure = reply, model, azure
        self.id = f"chatcmpl-{secrets.token_hex(12)}"
        self.created = int(time.time())
        self.tokens = split_tokens(reply.text)
        self.prompt_tokens = _count_tokens(body.get("messages"))
        self.completion_tokens = len(self.tokens) + sum(
            len(split_tokens(c.arguments)) + 1 for c in reply.tool_calls
        )
        options = body.get("stream_options")
        self.include_usage = isinstance(options, dict) and bool(options.get("include_usage"))

    @property
    def finish_reason(self) -> str:
        return self.reply.finish_reason or ("tool_calls" if self.reply.tool_calls else "stop")

    def usage(self) -> dict[str, int]:
        total = self.prompt_tokens + self.completion_tokens
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": total,
        }

    def chunk(self, delta: dict[str, Any] | None, finish_reason: str | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": "fp_scripted",
            "choices": []
            if delta is None
            else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
        }
        if self.include_usage:
            payload["usage"] = self.usage() if delta is None else None
        return payload

    def deltas(self) -> list[dict[str, Any]]:
        """Every delta after the opening role delta: text pieces, then each call's header and fragments."""
        deltas: list[dict[str, Any]] = [{"content": token} for token in self.tokens]
        for index, call in enumerate(self.reply.tool_calls):
            header = {
                "index": index,
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            deltas.append({"tool_calls": [header]})
            deltas.extend(
                {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
                for piece in split_arguments(call.arguments)
            )
        return deltas

    def azure_opening(self) -> dict[str, Any]:
        """Azure's first streamed chunk: no choices, the prompt's content filter verdicts."""
        opening = {"id": "", "object": "", "created": 0, "model": "", "choices": []}
        return {**opening, "prompt_filter_results": _prompt_filter_results()}

    def message(self) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": self.reply.text or None, "refusal": None}
        if self.reply.tool_calls:
            message["tool_calls"] = [_tool_call_json(call) for call in self.reply.tool_calls]
        completion: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": "fp_scripted",
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": self.finish_reason}
            ],
            "usage": self.usage(),
        }
        if self.azure:
            completion["prompt_filter_results"] = _prompt_filter_results()
        return completion


def _tool_call_json(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}


def _prompt_filter_results() -> list[dict[str, Any]]:
    return [{"prompt_index": 0, "content_filter_results": content_filter_results()}]
