"""Chat models behind one small port, with an adapter over the `openai` SDK (Azure OpenAI or any
OpenAI-compatible server: OpenAI, Ollama, vLLM, llama.cpp).

The adapter streams normalised events and sorts failures into two kinds the agent acts on:
`ContentFiltered` (drop the utterance, answer politely) and `ModelFailure` (try the next model), which
includes any error while reading the stream (a 200 whose chunks are cut, of the wrong shape or noise).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast

import openai
from openai.types.chat import ChatCompletionChunk

from shared.settings import LlmModelSettings, LlmSettings
from shared.telemetry import record

DEFAULT_REQUEST_TIMEOUT_SEC = 60.0


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ToolCallDelta:
    index: int
    id: str | None
    name: str | None
    arguments: str


@dataclass(frozen=True)
class Finished:
    reason: str


ChatEvent = TextDelta | ToolCallDelta | Finished


class ModelFailure(RuntimeError):
    """The model could not answer (rate limit, server error, timeout, bad output): try another one."""


class ContentFiltered(RuntimeError):
    """The provider refused the prompt or the answer on content grounds."""


class ChatModel(Protocol):
    name: str

    def stream(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> AsyncIterator[ChatEvent]: ...


def _is_content_filter(exc: openai.APIStatusError) -> bool:
    return exc.code == "content_filter" or "content_filter" in str(exc.body or "")


def _count_usage(model: str, chunk: ChatCompletionChunk) -> None:
    """The last chunk of a stream asked with `include_usage` carries the tokens used."""
    if chunk.usage is not None:
        record.tokens(model, chunk.usage.prompt_tokens, chunk.usage.completion_tokens)


class OpenAiChatModel:
    """One deployment/model through an `openai.AsyncOpenAI` or `openai.AsyncAzureOpenAI` client."""

    def __init__(self, client: openai.AsyncOpenAI, model: str, *, name: str | None = None) -> None:
        self._client = client
        self._model = model
        self.name = name or model

    async def stream(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> AsyncIterator[ChatEvent]:
        try:
            request: dict[str, Any] = {
                "model": self._model,
                "messages": messages,
                "stream": True,
                "stream_options": {"include_usage": True},  # a last chunk with the token usage
            }
            if tools:
                request["tools"] = tools
            stream = cast(
                "openai.AsyncStream[ChatCompletionChunk]",
                await self._client.chat.completions.create(**request),
            )
            async for chunk in stream:
                _count_usage(self.name, chunk)
                for event in self._events(chunk):
                    yield event
        except openai.BadRequestError as exc:
            if _is_content_filter(exc):
                raise ContentFiltered(f"{self.name}: {exc.message}") from exc
            raise ModelFailure(f"{self.name}: bad request: {exc.message}") from exc
        except openai.APIStatusError as exc:
            raise ModelFailure(f"{self.name}: HTTP {exc.status_code}: {exc.message}") from exc
        except (openai.APIConnectionError, openai.APIResponseValidationError) as exc:
            raise ModelFailure(f"{self.name}: {type(exc).__name__}: {exc}") from exc
        except (ContentFiltered, ModelFailure):
            raise
        except Exception as exc:  # a 200 whose stream breaks: cut JSON, wrong shapes, noise, a lost socket
            raise ModelFailure(f"{self.name}: broken stream: {type(exc).__name__}: {exc}") from exc

    def _events(self, chunk: ChatCompletionChunk) -> list[ChatEvent]:
        """The events of one streamed chunk (ContentFiltered when the answer was filtered)."""
        if not chunk.choices:  # Azure sends prompt filter results first, with no choices
            return []
        choice = chunk.choices[0]
        delta = choice.delta
        events: list[ChatEvent] = []
        if delta is not None and delta.content:
            events.append(TextDelta(delta.content))
        for call in (delta.tool_calls if delta is not None else None) or []:
            function = call.function
            events.append(
                ToolCallDelta(
                    index=call.index,
                    id=call.id,
                    name=function.name if function else None,
                    arguments=(function.arguments or "") if function else "",
                )
            )
        if choice.finish_reason == "content_filter":
            raise ContentFiltered(f"{self.name}: answer filtered")
        if choice.finish_reason:
            events.append(Finished(choice.finish_reason))
        return events

    async def close(self) -> None:
        await self._client.close()


TokenProvider = Callable[[], Awaitable[str]]


def build_client(
    config: LlmModelSettings, *, token_provider: TokenProvider | None = None
) -> openai.AsyncOpenAI:
    """An SDK client for one configured model. Retries are ours (model fallback), so the SDK's are off."""
    api_key = config.api_key.get_secret_value() if config.api_key else None
    if config.endpoint:
        if api_key is None and token_provider is None:
            from azure.identity.aio import DefaultAzureCredential, get_bearer_token_provider  # noqa: PLC0415

            token_provider = get_bearer_token_provider(
                DefaultAzureCredential(), "https://cognitiveservices.azure.com/.default"
            )
        return openai.AsyncAzureOpenAI(
            azure_endpoint=config.endpoint,
            api_version=config.api_version,
            api_key=api_key,
            azure_ad_token_provider=token_provider if api_key is None else None,
            max_retries=0,
            timeout=DEFAULT_REQUEST_TIMEOUT_SEC,
        )
    return openai.AsyncOpenAI(
        base_url=config.base_url,
        api_key=api_key or "not-needed",
        max_retries=0,
        timeout=DEFAULT_REQUEST_TIMEOUT_SEC,
    )


def build_chat_models(settings: LlmSettings) -> dict[str, OpenAiChatModel]:
    """The configured models by role (`fast`, `slow`); a role with no endpoint is left out."""
    models: dict[str, OpenAiChatModel] = {}
    for role, config in (("fast", settings.fast), ("slow", settings.slow)):
        if config.configured:
            model = config.deployment or config.model if config.endpoint else config.model
            models[role] = OpenAiChatModel(build_client(config), model, name=f"{role}:{model}")
    return models
