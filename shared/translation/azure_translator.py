"""Azure AI Translator (Translator Text v3.0) over its REST API, with httpx.

`POST {endpoint}/translate?api-version=3.0&from=en&to=de&textType=html` (the global or a geographic
endpoint, `*.cognitive.microsofttranslator.com`) or `POST {endpoint}/translator/text/v3.0/translate?...`
(a resource's custom endpoint, `https://<name>.cognitiveservices.azure.com`), body
`[{"Text": "..."}, ...]` (at most 1,000 elements and 50,000 characters a request), answer
`[{"translations": [{"text": "...", "to": "de"}]}, ...]` in the same order; an error is
`{"error": {"code": 400036, "message": "..."}}` with a six-digit code.

Authentication: a key (`Ocp-Apim-Subscription-Key`, plus `Ocp-Apim-Subscription-Region` for a regional
or multi-service resource), or a Microsoft Entra token (`Authorization: Bearer`, from
`DefaultAzureCredential` unless a credential is given), which needs the custom endpoint (or the
global one with `Ocp-Apim-ResourceId` and the region).

Placeholders: the texts are sent as HTML with every `{name}` in `<span class="notranslate">`, which
the service leaves as written; the answer is unwrapped and unescaped. A translation that lost or
changed a placeholder is replaced by its source text (logged): a phrase must never speak a brace.
"""

from __future__ import annotations

import html
import logging
import re
import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

import httpx

from shared.translation.base import PLACEHOLDER, TranslationError, placeholders

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential

log = logging.getLogger(__name__)

API_VERSION: Final = "3.0"
MAX_ELEMENTS: Final = 1_000  # per request (service limits: Translate)
MAX_CHARS: Final = 50_000  # per request, every element together
TOKEN_SCOPE: Final = "https://cognitiveservices.azure.com/.default"  # noqa: S105 (a scope, no secret)
_NOTRANSLATE: Final = re.compile(
    r"<span\b[^>]*\bclass\s*=\s*[\"']?notranslate[\"']?[^>]*>(.*?)</span\s*>", re.IGNORECASE | re.DOTALL
)
_TAG: Final = re.compile(r"</?[A-Za-z][^>]*>")
# Translator codes that are not the tag's primary language ("zh-CN" -> "zh-Hans")
_CODES: Final = {
    "zh-cn": "zh-Hans", "zh-sg": "zh-Hans", "zh-hans": "zh-Hans", "zh-tw": "zh-Hant", "zh-hk": "zh-Hant",
    "zh-hant": "zh-Hant", "pt-pt": "pt-pt", "fr-ca": "fr-ca", "sr-latn": "sr-Latn", "sr-cyrl": "sr-Cyrl",
    "no": "nb", "nb-no": "nb", "tl": "fil", "fil-ph": "fil",
}  # fmt: skip


def translator_language(tag: str) -> str:
    """The Translator's code for a BCP 47 tag: "de-DE" → "de", "zh-TW" → "zh-Hant", "pt-PT" → "pt-pt"."""
    lowered = tag.strip().lower()
    parts = lowered.split("-")
    for candidate in (lowered, "-".join(parts[:2])):
        if candidate in _CODES:
            return _CODES[candidate]
    return _CODES.get(parts[0], parts[0])


def translate_url(endpoint: str) -> str:
    """Where translate requests go: `/translate` on a `*.microsofttranslator.com` endpoint, else the
    custom endpoint's `/translator/text/v3.0/translate`."""
    base = endpoint.rstrip("/")
    parts = urlsplit(base)
    if (parts.hostname or "").endswith("microsofttranslator.com") or parts.path.endswith("/translate"):
        return base if parts.path.endswith("/translate") else f"{base}/translate"
    if parts.path.endswith("/translator/text/v3.0"):
        return f"{base}/translate"
    return f"{base}/translator/text/v3.0/translate"


def mask(text: str) -> str:
    """The HTML sent for a text: escaped, each `{name}` kept out of the translation."""
    escaped = html.escape(text, quote=False)
    return PLACEHOLDER.sub(lambda m: f'<span class="notranslate">{m.group(0)}</span>', escaped)


def unmask(translated: str) -> str:
    """The text back from the HTML answer: spans unwrapped, other tags dropped, entities decoded."""
    text = _NOTRANSLATE.sub(lambda m: m.group(1), translated)
    return html.unescape(_TAG.sub("", text))


def _chunks(texts: Sequence[str]) -> list[list[int]]:
    """Indexes of `texts` grouped under the per-request limits."""
    groups: list[list[int]] = []
    size = 0
    for index, text in enumerate(texts):
        if len(text) > MAX_CHARS:
            raise TranslationError(f"a text of {len(text)} characters is over the {MAX_CHARS} a request")
        if not groups or len(groups[-1]) >= MAX_ELEMENTS or size + len(text) > MAX_CHARS:
            groups.append([])
            size = 0
        groups[-1].append(index)
        size += len(text)
    return groups


class AzureTranslator:
    """The `Translator` port on Azure AI Translator. `key` None: Microsoft Entra ID."""

    def __init__(
        self,
        endpoint: str,
        *,
        key: str | None = None,
        region: str | None = None,
        resource_id: str | None = None,
        credential: AsyncTokenCredential | None = None,
        timeout_sec: float = 2.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._url = translate_url(endpoint)
        self._key = key
        self._region = region
        self._resource_id = resource_id
        self._credential = credential
        self._own_credential = False
        self._token: tuple[str, float] | None = None
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout_sec), transport=transport)

    async def _auth_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self._region:
            headers["Ocp-Apim-Subscription-Region"] = self._region
        if self._key:
            headers["Ocp-Apim-Subscription-Key"] = self._key
            return headers
        if self._resource_id:
            headers["Ocp-Apim-ResourceId"] = self._resource_id
        if self._token is None or self._token[1] - 60 < time.time():
            if self._credential is None:
                from azure.identity.aio import DefaultAzureCredential  # noqa: PLC0415 (Entra ID only)

                self._credential, self._own_credential = DefaultAzureCredential(), True
            try:
                token = await self._credential.get_token(TOKEN_SCOPE)
            except Exception as exc:  # any credential failure is the translator's failure
                raise TranslationError(f"no Microsoft Entra token for the Translator: {exc}") from exc
            self._token = (token.token, float(token.expires_on))
        headers["Authorization"] = f"Bearer {self._token[0]}"
        return headers

    async def translate(self, texts: Sequence[str], *, source: str, target: str) -> list[str]:
        cores = [text.strip() for text in texts]
        sent = [index for index, core in enumerate(cores) if core]  # an empty text needs no request
        masked = [mask(cores[index]) for index in sent]
        answers: list[str] = [""] * len(texts)
        for group in _chunks(masked):
            translated = await self._request([masked[i] for i in group], source=source, target=target)
            for position, text in zip(group, translated, strict=True):
                answers[sent[position]] = unmask(text).strip()
        results: list[str] = []
        for text, core, answer in zip(texts, cores, answers, strict=True):
            if not core:
                results.append(text)
                continue
            kept = answer
            if placeholders(answer) != placeholders(core) or not answer:
                log.warning("translation to %s changed the placeholders of %r; kept as written", target, core)
                kept = core
            lead = text[: len(text) - len(text.lstrip())]
            trail = text[len(text.rstrip()) :]
            results.append(f"{lead}{kept}{trail}")
        return results

    async def _request(self, masked: list[str], *, source: str, target: str) -> list[str]:
        params = {
            "api-version": API_VERSION,
            "from": translator_language(source),
            "to": translator_language(target),
            "textType": "html",
        }
        headers = {
            "Content-Type": "application/json; charset=UTF-8",
            "X-ClientTraceId": str(uuid.uuid4()),
            **(await self._auth_headers()),
        }
        try:
            response = await self._client.post(
                self._url, params=params, headers=headers, json=[{"Text": text} for text in masked]
            )
        except httpx.TimeoutException as exc:
            raise TranslationError(f"the Translator did not answer in time ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise TranslationError(f"the Translator is unreachable: {exc}") from exc
        if response.status_code != 200:
            raise TranslationError(_refusal(response))
        try:
            body: Any = response.json()
        except ValueError as exc:
            raise TranslationError("the Translator answered something that is not JSON") from exc
        return _translations(body, len(masked))

    async def close(self) -> None:
        await self._client.aclose()
        if self._own_credential and self._credential is not None:
            await self._credential.close()


def _refusal(response: httpx.Response) -> str:
    try:
        error = response.json()["error"]
        detail = f"{error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        detail = response.text[:200] or response.reason_phrase
    return f"the Translator refused the request (HTTP {response.status_code}, {detail})"


def _translations(body: Any, count: int) -> list[str]:
    if not isinstance(body, list) or len(body) != count:
        raise TranslationError(f"the Translator answered {type(body).__name__}, not {count} results")
    texts: list[str] = []
    for item in body:
        translations = item.get("translations") if isinstance(item, dict) else None
        first = translations[0] if isinstance(translations, list) and translations else None
        text = first.get("text") if isinstance(first, dict) else None
        if not isinstance(text, str):
            raise TranslationError("a Translator result has no translations[0].text")
        texts.append(text)
    return texts
