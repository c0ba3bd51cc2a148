"""What a call in a language without a phrase list waits for before its first line.

The phrase book (`shared.translation.phrases`) with the real Azure Translator adapter against the
loopback Translator stand-in (`local/translator_server.py`), a Redis cache when `--redis-url` is given
(else the in-process cache), for three cases, each timed around `PhraseBook.prepare()` as
`open_conversation` calls it:

- cold: nothing kept anywhere, the whole English list (and the claim's labels) is translated;
- cache: another process (a fresh phrase book) finds the translation in the cache;
- process: a later call in the same process.

The stand-in answers at once (plus `--service-ms`, a simulated service time): the figures are the
project's own cost around the translator, not Azure's latency (typically 150-300 ms for short texts
by Microsoft's figures; a whole list is longer).

    .venv/bin/python -m bench.translated_phrases [--runs 20] [--service-ms 0] [--redis-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid

from local.translator_server import TranslatorServer
from shared.cache.base import Cache
from shared.cache.memory import MemoryCache
from shared.prompts import Prompts
from shared.translation.azure_translator import AzureTranslator
from shared.translation.phrases import PhraseBook

KEY = "bench-key"
LABELS = ["your full name", "what happened", "the contract ID", "your e-mail address"]


def _cache(redis_url: str | None) -> Cache:
    if redis_url is None:
        return MemoryCache()
    from shared.cache.redis import RedisCache  # noqa: PLC0415

    return RedisCache(redis_url, key_prefix=f"bench-{uuid.uuid4().hex[:8]}:")


async def _timed(book: PhraseBook, lang: str) -> float:
    start = time.perf_counter()
    await book.prepare(lang, texts=LABELS)
    elapsed = (time.perf_counter() - start) * 1000
    assert book.translated(lang) is not None, "not translated: the figure would mean nothing"
    return elapsed


async def _run(runs: int, service_ms: float, redis_url: str | None) -> dict[str, list[float]]:
    prompts = Prompts.load()
    figures: dict[str, list[float]] = {"cold": [], "cache": [], "process": []}
    with TranslatorServer(key=KEY) as server:
        server.delay_sec = service_ms / 1000
        for run in range(runs):
            lang = f"es-{run:02d}" if run else "es-ES"  # a language never seen: a cold start each run
            cache = _cache(redis_url)
            translator = AzureTranslator(server.endpoint, key=KEY, timeout_sec=10)
            try:
                first = PhraseBook(prompts, translator, cache, timeout_sec=10)
                figures["cold"].append(await _timed(first, lang))
                figures["process"].append(await _timed(first, lang))
                second = PhraseBook(prompts, translator, cache, timeout_sec=10)
                figures["cache"].append(await _timed(second, lang))
            finally:
                await translator.close()
                await cache.close()
        texts = len(server.requests[0].body)
    print(f"{texts} texts a language, {runs} runs, stand-in service time {service_ms:.0f} ms")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--service-ms", type=float, default=0.0)
    parser.add_argument("--redis-url", default=None)
    args = parser.parse_args()
    figures = asyncio.run(_run(args.runs, args.service_ms, args.redis_url))
    for case, values in figures.items():
        ordered = sorted(values)
        p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
        print(f"{case:8s} p50 {statistics.median(values):7.2f} ms   p95 {p95:7.2f} ms")


if __name__ == "__main__":
    main()
