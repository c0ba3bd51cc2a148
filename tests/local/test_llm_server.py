"""The scripted LLM server, driven by the real openai SDK over loopback."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam

from local.llm_server import ScriptedLlm, ScriptedLlmServer

REPO = Path(__file__).resolve().parents[2]
API_VERSION = "2024-10-21"


def _messages(text: str = "Bonjour") -> list[ChatCompletionMessageParam]:
    return [{"role": "system", "content": "You are a call center agent."}, {"role": "user", "content": text}]


@pytest.fixture
def server() -> Iterator[ScriptedLlmServer]:
    with ScriptedLlmServer() as running:
        yield running


@pytest.fixture
async def client(server: ScriptedLlmServer) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(base_url=server.base_url, api_key="test", max_retries=0) as oai:
        yield oai


@pytest.fixture
async def azure(server: ScriptedLlmServer) -> AsyncIterator[openai.AsyncAzureOpenAI]:
    async with openai.AsyncAzureOpenAI(
        azure_endpoint=server.azure_endpoint, api_version=API_VERSION, api_key="test", max_retries=0
    ) as oai:
        yield oai


async def _collect(stream: openai.AsyncStream[ChatCompletionChunk]) -> list[ChatCompletionChunk]:
    return [chunk async for chunk in stream]


def _text_of(chunks: list[ChatCompletionChunk]) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def _tool_calls_of(chunks: list[ChatCompletionChunk]) -> dict[int, dict[str, str]]:
    """Reassemble streamed tool calls by index, as a client must."""
    calls: dict[int, dict[str, str]] = {}
    for chunk in chunks:
        for choice in chunk.choices:
            for delta in choice.delta.tool_calls or []:
                call = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
                call["id"] += delta.id or ""
                if delta.function is not None:
                    call["name"] += delta.function.name or ""
                    call["arguments"] += delta.function.arguments or ""
    return calls


async def test_streamed_text_reassembles_exactly(
    server: ScriptedLlmServer, client: openai.AsyncOpenAI
) -> None:
    text = "Bonjour ! Je suis l'assistante de Contoso,  comment puis-je vous aider ?\nÀ votre service."
    server.script.add_text(text)
    stream = await client.chat.completions.create(
        model="gpt-4o-mini", messages=_messages(), stream=True, stream_options={"include_usage": True}
    )
    chunks = await _collect(stream)

    assert _text_of(chunks) == text
    choice_chunks = [c for c in chunks if c.choices]
    assert choice_chunks[0].choices[0].delta.role == "assistant"
    assert sum(1 for c in choice_chunks if c.choices[0].delta.content) > 10  # token by token, not one blob
    assert [c.choices[0].finish_reason for c in choice_chunks][-1] == "stop"
    assert all(c.choices[0].finish_reason is None for c in choice_chunks[:-1])
    assert len({c.id for c in chunks}) == 1
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 10


async def test_streamed_tool_calls_reassemble_by_index(
    server: ScriptedLlmServer, client: openai.AsyncOpenAI
) -> None:
    first_args = {"caller_phone": "+33612345678", "reason": "water damage in the kitchen"}
    second_args = {"title": "Call back", "due": "2025-01-02T10:00:00", "notes": ["one", "two"]}
    server.script.add_tool_calls(
        [
            {"name": "update_claim", "arguments": first_args},
            {"name": "new_reminder", "arguments": second_args},
        ],
        text="One moment.",
    )
    stream = await client.chat.completions.create(model="gpt-4o-mini", messages=_messages(), stream=True)
    chunks = await _collect(stream)

    assert _text_of(chunks) == "One moment."
    calls = _tool_calls_of(chunks)
    assert sorted(calls) == [0, 1]
    assert calls[0]["name"] == "update_claim"
    assert json.loads(calls[0]["arguments"]) == first_args
    assert calls[1]["name"] == "new_reminder"
    assert json.loads(calls[1]["arguments"]) == second_args
    assert calls[0]["id"].startswith("call_")
    assert calls[0]["id"] != calls[1]["id"]
    tool_deltas = [d for c in chunks if c.choices for d in c.choices[0].delta.tool_calls or []]
    headers = [d for d in tool_deltas if d.id is not None]
    assert [(h.index, h.type) for h in headers] == [(0, "function"), (1, "function")]
    assert all(h.function is not None and h.function.arguments == "" for h in headers)
    assert sum(1 for d in tool_deltas if d.index == 0 and d.id is None) >= 3  # arguments in several fragments
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


async def test_azure_stream_opens_with_empty_choices_and_prompt_filter_results(
    server: ScriptedLlmServer, azure: openai.AsyncAzureOpenAI
) -> None:
    server.script.add_text("Hello from Azure.")
    stream = await azure.chat.completions.create(model="my-deployment", messages=_messages(), stream=True)
    chunks = await _collect(stream)

    assert chunks[0].choices == []
    filters = (chunks[0].model_extra or {})["prompt_filter_results"]
    assert filters[0]["content_filter_results"]["violence"] == {"filtered": False, "severity": "safe"}
    assert _text_of(chunks) == "Hello from Azure."
    recorded = server.requests[0]
    assert recorded.azure
    assert recorded.path == "/openai/deployments/my-deployment/chat/completions"
    assert f"api-version={API_VERSION}" in recorded.query
    assert recorded.model == "my-deployment"


async def test_openai_stream_has_no_prompt_filter_chunk(
    server: ScriptedLlmServer, client: openai.AsyncOpenAI
) -> None:
    server.script.add_text("Hi.")
    chunks = await _collect(
        await client.chat.completions.create(model="m", messages=_messages(), stream=True)
    )
    assert all(c.choices for c in chunks)


async def test_non_stream_completion_with_text_then_tool_calls(
    server: ScriptedLlmServer, client: openai.AsyncOpenAI, azure: openai.AsyncAzureOpenAI
) -> None:
    server.script.add_text("Your claim is registered.")
    server.script.add_tool_calls([{"name": "end_call", "arguments": {}}])

    completion = await client.chat.completions.create(model="gpt-4o-mini", messages=_messages())
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.content == "Your claim is registered."
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert (
        completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens
    )

    on_azure = await azure.chat.completions.create(model="dep", messages=_messages())
    tool_calls = on_azure.choices[0].message.tool_calls or []
    assert [c.model_dump(include={"type", "function"}) for c in tool_calls] == [
        {"type": "function", "function": {"name": "end_call", "arguments": "{}"}}
    ]
    assert on_azure.choices[0].finish_reason == "tool_calls"


async def test_rate_limit_raises_rate_limit_error_with_retry_after(
    server: ScriptedLlmServer, client: openai.AsyncOpenAI
) -> None:
    server.script.add_error(429, retry_after=2)
    with pytest.raises(openai.RateLimitError) as caught:
        await client.chat.completions.create(model="m", messages=_messages(), stream=True)
    assert caught.value.status_code == 429
    assert caught.value.response.headers["retry-after"] == "2"
    assert caught.value.code == "rate_limit_exceeded"
    assert set(caught.value.response.json()["error"]) == {"message", "type", "code", "param"}


@pytest.mark.parametrize("status", [500, 503])
async def test_server_errors_raise_internal_server_error(
    server: ScriptedLlmServer, client: openai.AsyncOpenAI, status: int
) -> None:
    server.script.add_error(status, message="boom")
    with pytest.raises(openai.InternalServerError) as caught:
        await client.chat.completions.create(model="m", messages=_messages())
    assert caught.value.status_code == status
    assert caught.value.message.endswith("boom")  # the SDK prefixes "Error code: NNN - "
    assert caught.value.type == "server_error"


async def test_content_filter_raises_bad_request_with_azure_shape(
    server: ScriptedLlmServer, azure: openai.AsyncAzureOpenAI
) -> None:
    server.script.add_content_filter(category="violence", severity="high")
    with pytest.raises(openai.BadRequestError) as caught:
        await azure.chat.completions.create(model="dep", messages=_messages(), stream=True)
    assert caught.value.code == "content_filter"
    body = caught.value.body
    assert isinstance(body, dict)
    result = body["innererror"]["content_filter_result"]
    assert body["innererror"]["code"] == "ResponsibleAIPolicyViolation"
    assert result["violence"] == {"filtered": True, "severity": "high"}
    assert result["hate"] == {"filtered": False, "severity": "safe"}


async def test_hang_times_out_the_client(server: ScriptedLlmServer, client: openai.AsyncOpenAI) -> None:
    server.script.add_hang()
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        await client.chat.completions.create(model="m", messages=_messages(), timeout=0.5)
    assert time.monotonic() - started >= 0.4
    assert len(server.requests) == 1  # the request was accepted, just never answered


async def test_hang_mid_stream_after_partial_text(
    server: ScriptedLlmServer, client: openai.AsyncOpenAI
) -> None:
    server.script.add_hang(partial_text="I was about to say")
    stream = await client.chat.completions.create(model="m", messages=_messages(), stream=True, timeout=0.5)
    received: list[str] = []
    with pytest.raises(openai.APITimeoutError):
        async for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == "I was about to say"


async def test_stop_is_fast_while_a_request_hangs() -> None:
    async with ScriptedLlmServer() as server:
        server.script.add_hang()
        async with openai.AsyncOpenAI(
            base_url=server.base_url, api_key="t", max_retries=0, timeout=30
        ) as oai:
            pending = asyncio.create_task(oai.chat.completions.create(model="m", messages=_messages()))
            for _ in range(500):
                if server.requests:
                    break
                await asyncio.sleep(0.01)
            started = time.monotonic()
            await asyncio.to_thread(server.stop)
            assert time.monotonic() - started < 1.5
            with pytest.raises(openai.APIError):  # 503 or a closed connection, but never a hang
                await asyncio.wait_for(pending, timeout=5)


async def test_replies_keyed_per_model(server: ScriptedLlmServer, client: openai.AsyncOpenAI) -> None:
    server.script.add_text("slow answer", model="slow-model")
    server.script.add_text("any answer")
    server.script.add_text("second slow answer", model="slow-model")

    fast = await client.chat.completions.create(model="fast-model", messages=_messages())
    assert fast.choices[0].message.content == "any answer"  # skips the reply keyed to another model
    slow = await client.chat.completions.create(model="slow-model", messages=_messages())
    assert slow.choices[0].message.content == "slow answer"
    server.script.add_text("late any answer")
    slow = await client.chat.completions.create(model="slow-model", messages=_messages())
    assert slow.choices[0].message.content == "second slow answer"  # keyed replies first
    assert [r.text for r in server.script.pending] == ["late any answer"]


async def test_match_selects_on_the_last_user_message(
    server: ScriptedLlmServer, client: openai.AsyncOpenAI
) -> None:
    server.script.add_text("Let me transfer you.", match=r"\b(human|agent)\b")
    server.script.add_text("Hello, how can I help?")

    hello = await client.chat.completions.create(model="m", messages=_messages("hi there"))
    assert hello.choices[0].message.content == "Hello, how can I help?"
    history: list[ChatCompletionMessageParam] = [
        *_messages("I want a human"),
        {"role": "assistant", "content": "ok"},
    ]
    transfer = await client.chat.completions.create(
        model="m", messages=[*history, {"role": "user", "content": "An AGENT please"}]
    )
    assert transfer.choices[0].message.content == "Let me transfer you."


async def test_exhausted_script_answers_500(server: ScriptedLlmServer, client: openai.AsyncOpenAI) -> None:
    server.script.add_text("only one")
    await client.chat.completions.create(model="m", messages=_messages())
    with pytest.raises(openai.InternalServerError) as caught:
        await client.chat.completions.create(model="m", messages=_messages("anyone?"))
    assert "script exhausted" in caught.value.message
    assert caught.value.code == "script_exhausted"


async def test_default_text_serves_an_empty_script() -> None:
    script = ScriptedLlm(default_text="I did not catch that.")
    async with (
        ScriptedLlmServer(script) as server,
        openai.AsyncOpenAI(base_url=server.base_url, api_key="t", max_retries=0) as oai,
    ):
        for _ in range(2):
            stream = await oai.chat.completions.create(model="m", messages=_messages(), stream=True)
            assert _text_of(await _collect(stream)) == "I did not catch that."
    assert len(script) == 0


async def _first_token_delay(client: openai.AsyncOpenAI) -> float:
    started = time.monotonic()
    stream = await client.chat.completions.create(model="m", messages=_messages(), stream=True)
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            delay = time.monotonic() - started
            break
    else:
        raise AssertionError("no content")
    await stream.close()
    return delay


async def test_ttft_is_observed_server_wide_and_per_reply() -> None:
    async with ScriptedLlmServer(ttft_ms=250) as server:
        server.script.add_text("server-wide delay")
        server.script.add_text("per reply delay", ttft_ms=400, inter_token_ms=5)
        async with openai.AsyncOpenAI(base_url=server.base_url, api_key="t", max_retries=0) as oai:
            assert await _first_token_delay(oai) >= 0.8 * 0.25
            assert await _first_token_delay(oai) >= 0.8 * 0.4


SCRIPT_YAML = """
default_text: "Sorry?"
replies:
  - text: "Welcome to Contoso."
    model: fast
  - text: "Checking."
    tool_calls:
      - {name: get_weather, arguments: {city: Paris}}
      - {name: broken, arguments: '{"city": "Par'}
  - error: {status: 429, retry_after: 3}
  - content_filter: {category: hate}
  - text: "transferring"
    match: "human"
"""


async def test_yaml_script_drives_the_server(tmp_path: Path) -> None:
    path = tmp_path / "script.yaml"
    path.write_text(SCRIPT_YAML, encoding="utf-8")
    script = ScriptedLlm()
    assert script.load_yaml(path) == 5
    assert [r.kind for r in script.pending] == ["text", "tool_calls", "error", "content_filter", "text"]

    async with (
        ScriptedLlmServer(script) as server,
        openai.AsyncOpenAI(base_url=server.base_url, api_key="t", max_retries=0) as oai,
    ):
        welcome = await oai.chat.completions.create(model="fast", messages=_messages())
        assert welcome.choices[0].message.content == "Welcome to Contoso."
        transfer = await oai.chat.completions.create(model="fast", messages=_messages("a human please"))
        assert transfer.choices[0].message.content == "transferring"
        chunks = await _collect(
            await oai.chat.completions.create(model="x", messages=_messages(), stream=True)
        )
        calls = _tool_calls_of(chunks)
        assert json.loads(calls[0]["arguments"]) == {"city": "Paris"}
        assert calls[1]["arguments"] == '{"city": "Par'  # malformed on purpose, sent verbatim
        with pytest.raises(json.JSONDecodeError):
            json.loads(calls[1]["arguments"])
        with pytest.raises(openai.RateLimitError) as limited:
            await oai.chat.completions.create(model="x", messages=_messages())
        assert limited.value.response.headers["retry-after"] == "3"
        with pytest.raises(openai.BadRequestError) as filtered:
            await oai.chat.completions.create(model="x", messages=_messages())
        assert filtered.value.code == "content_filter"
        fallback = await oai.chat.completions.create(model="x", messages=_messages())
        assert fallback.choices[0].message.content == "Sorry?"


@pytest.mark.parametrize(
    "content",
    ["- {text: a, colour: red}", "- {text: a, error: {status: 500}}", "- {model: m}", "text: a"],
)
def test_invalid_yaml_scripts_are_rejected(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.yaml"):
        ScriptedLlm().load_yaml(path)


async def test_requests_are_recorded_with_path_and_body(server: ScriptedLlmServer) -> None:
    server.script.add_text("one")
    server.script.add_text("two")
    tools: list[Any] = [
        {"type": "function", "function": {"name": "end_call", "parameters": {"type": "object"}}}
    ]
    async with openai.AsyncOpenAI(base_url=server.base_url, api_key="t", max_retries=0) as oai:
        await oai.chat.completions.create(
            model="gpt-4o", messages=_messages("first"), tools=tools, temperature=0
        )
    # the route without /v1 is served too
    async with openai.AsyncOpenAI(base_url=server.azure_endpoint, api_key="t", max_retries=0) as bare:
        await bare.chat.completions.create(model="gpt-4o", messages=_messages("second"), stream=True)

    first, second = server.requests
    assert (first.path, second.path) == ("/v1/chat/completions", "/chat/completions")
    assert first.body["messages"][-1] == {"role": "user", "content": "first"}
    assert first.body["tools"] == tools
    assert first.body["temperature"] == 0
    assert second.body["stream"] is True
    assert not first.azure
    assert first.model == "gpt-4o"
    assert "api-key" not in first.headers
    assert "authorization" not in first.headers


async def test_api_key_is_enforced_on_both_routes() -> None:
    async with ScriptedLlmServer(api_key="secret") as server:
        server.script.add_text("openai ok")
        server.script.add_text("azure ok")
        async with openai.AsyncOpenAI(base_url=server.base_url, api_key="wrong", max_retries=0) as wrong:
            with pytest.raises(openai.AuthenticationError) as caught:
                await wrong.chat.completions.create(model="m", messages=_messages())
        assert caught.value.code == "invalid_api_key"
        assert server.requests == []  # rejected before being recorded or consuming a reply
        async with openai.AsyncOpenAI(base_url=server.base_url, api_key="secret", max_retries=0) as bearer:
            ok = await bearer.chat.completions.create(model="m", messages=_messages())
        assert ok.choices[0].message.content == "openai ok"
        async with openai.AsyncAzureOpenAI(
            azure_endpoint=server.azure_endpoint, api_version=API_VERSION, api_key="secret", max_retries=0
        ) as az:
            ok = await az.chat.completions.create(model="dep", messages=_messages())
        assert ok.choices[0].message.content == "azure ok"


def test_cli_serves_a_script_until_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "script.yaml"
    path.write_text("- text: from the command line\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "local.llm_server", "--script", str(path), "--port", "0"]
    proc = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "1 replies" in line
        base_url = line.split()[3]
        with openai.OpenAI(base_url=base_url, api_key="t", max_retries=0) as oai:
            completion = oai.chat.completions.create(model="m", messages=_messages())
        assert completion.choices[0].message.content == "from the command line"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
