"""Search results kept in the cache port: a caller's question asked again (by them, the model's
rephrasings, or another caller) is answered without touching the index.

Keys hold the index's name, the language, `top` and a hash of the query; values are the hits as JSON.
A cache failure only costs the shortcut: the index answers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging

from shared.cache.base import Cache, CacheError
from shared.search.base import DocumentSearch, SearchHit

log = logging.getLogger(__name__)


class CachedSearch:
    def __init__(self, inner: DocumentSearch, cache: Cache, *, namespace: str, ttl_sec: float) -> None:
        self.inner = inner
        self._cache = cache
        self._namespace = namespace
        self._ttl = ttl_sec

    def _key(self, query: str, lang: str | None, top: int) -> str:
        normalized = " ".join(query.casefold().split())
        digest = hashlib.sha256(f"{lang or ''}|{top}|{normalized}".encode()).hexdigest()[:32]
        return f"search:{self._namespace}:{digest}"

    async def search(self, query: str, *, lang: str | None = None, top: int = 3) -> list[SearchHit]:
        key = self._key(query, lang, top)
        try:
            cached = await self._cache.get(key)
        except CacheError as exc:
            log.warning("search cache unavailable, asking the index: %s", exc)
            cached = None
        if cached is not None:
            try:
                return [SearchHit(**item) for item in json.loads(cached)]
            except (ValueError, TypeError) as exc:  # an entry from another version: ask again
                log.info("search cache entry %s unreadable: %s", key, exc)
        hits = await self.inner.search(query, lang=lang, top=top)
        try:
            value = json.dumps([dataclasses.asdict(hit) for hit in hits], ensure_ascii=False)
            await self._cache.set(key, value.encode(), ttl_sec=self._ttl)
        except CacheError as exc:
            log.warning("search results not cached: %s", exc)
        return hits

    async def close(self) -> None:
        await self.inner.close()
